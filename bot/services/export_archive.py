"""Read a Slack workspace export (the .zip or its unpacked folder) one day file at a time.

An export of a busy workspace holds millions of messages, so nothing here reads more than one file at
once: `day_files()` lists where the messages are, `messages()` loads a single day. No database either:
the import service decides what to store, and can call `validate()` first to refuse a broken archive
before it writes anything.
"""

from __future__ import annotations

import json
import posixpath
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypedDict

import msgspec
import orjson

# A day file is small; a member claiming more than this is not a Slack export (or is a zip bomb).
MAX_FILE_BYTES = 256 * 1024 * 1024
_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")


class ExportError(Exception):
    """The archive is not a readable Slack export; the message names the file at fault."""


@dataclass(frozen=True)
class ExportChannel:
    """A channel of the export; its messages live in the folder named after it."""

    id: str
    name: str
    is_private: bool


@dataclass(frozen=True)
class ExportUser:
    """A member of the exported workspace; `name` is what people see (real name, else the handle)."""

    id: str
    name: str
    is_bot: bool
    deleted: bool
    tz: str | None


class _Files(Protocol):
    """The few file operations an export needs, whether it is a zip or a folder."""

    def read(self, name: str) -> bytes | None: ...

    def day_files_in(self, folder: str) -> list[str]: ...

    def close(self) -> None: ...


class _Folder:
    """An unpacked export: files are read straight from disk."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def read(self, name: str) -> bytes | None:
        path = self._root / name
        if not path.is_file():
            return None
        _check_size(name, path.stat().st_size)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ExportError(f"{name}: cannot be read ({exc.strerror})") from exc

    def day_files_in(self, folder: str) -> list[str]:
        path = self._root / folder
        if not path.is_dir():
            return []
        return sorted(entry.name for entry in path.iterdir() if _DAY_FILE.fullmatch(entry.name) and entry.is_file())

    def close(self) -> None:
        pass


class _Zip:
    """The export as Slack delivers it: members are unpacked one at a time, never extracted to disk."""

    def __init__(self, path: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ExportError(f"{path.name} is not a zip file or a folder") from exc
        infos = [
            info for info in self._zip.infolist() if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
        # An export zipped from its folder has everything under one top folder: read from there.
        tops = sorted(
            (info.filename for info in infos if posixpath.basename(info.filename) == "channels.json"),
            key=lambda name: (name.count("/"), name),
        )
        prefix = tops[0][: -len("channels.json")] if tops else ""
        self._infos = {info.filename[len(prefix) :]: info for info in infos if info.filename.startswith(prefix)}
        self._days: dict[str, list[str]] = defaultdict(list)
        for name in self._infos:
            folder, _, file = name.rpartition("/")
            if folder and "/" not in folder and _DAY_FILE.fullmatch(file):
                self._days[folder].append(file)

    def read(self, name: str) -> bytes | None:
        info = self._infos.get(name)
        if info is None:
            return None
        _check_size(name, info.file_size)
        try:
            return self._zip.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            # RuntimeError: encrypted member; NotImplementedError: e.g. Deflate64 from some zip tools.
            raise ExportError(f"{name}: cannot be unpacked ({exc})") from exc

    def day_files_in(self, folder: str) -> list[str]:
        return sorted(self._days.get(folder, ()))

    def close(self) -> None:
        self._zip.close()


def _check_size(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ExportError(f"{name} is {size:,} bytes; a Slack export file is at most {MAX_FILE_BYTES:,}")


def _safe_folder_name(name: object) -> bool:
    """A channel name becomes a folder name: it must not climb out of the export."""
    return isinstance(name, str) and name not in ("", ".", "..") and not any(ch in name for ch in "/\\\0")


def _parse_json(data: bytes) -> Any:
    """Parse JSON with orjson (twice as fast as the standard library on export day files, most of a read).

    Whatever orjson refuses goes to the standard library, which then parses it (a byte-order mark, NaN) or
    raises the error the import reports, with its line and column. (orjson reads an integer past 64 bits as
    a float: no field the import reads is a number.)
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class DayFileMessage(TypedDict, total=False):
    """The fields of a day file's message that the rules read: the rest is never decoded.

    `entries_for_message`, `reaction_likes` and the export reader read these and no other (a test records what
    they touch on the sample export). Slack writes much more per message (`user_profile`, `team`,
    `client_msg_id`...), and building then freeing those objects was a third of a reader's work.
    """

    ts: Any
    thread_ts: Any
    user: Any
    subtype: Any
    bot_id: Any
    bot_profile: Any
    text: Any
    blocks: Any
    reactions: Any
    reply_count: Any


_DAY_FILE_DECODER = msgspec.json.Decoder(list[DayFileMessage])


def _parse_day_file(data: bytes) -> Any:
    """A day file's messages with only DayFileMessage's fields, or `_parse_json`'s answer when msgspec refuses it.

    msgspec refuses what is not a list of objects, a byte-order mark, text that is not UTF-8, bad JSON: the
    usual path then parses it the same way as before or raises the error the import reports.
    """
    try:
        return _DAY_FILE_DECODER.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return _parse_json(data)


class ExportArchive:
    """A Slack workspace export opened for reading; use it as a context manager so a zip gets closed."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if path.is_dir():
            self._files: _Files = _Folder(path)
        elif path.is_file():
            self._files = _Zip(path)
        else:
            raise ExportError(f"{path} does not exist")
        self._channels: list[ExportChannel] | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._files.close()

    def _load(self, name: str, *, required: bool = True, parse: Callable[[bytes], Any] = _parse_json) -> list:
        """Parse one file of the export as a JSON array, naming the file in any error."""
        data = self._files.read(name)
        if data is None:
            if required:
                raise ExportError(f"{name} is missing: this does not look like a Slack workspace export")
            return []
        try:
            parsed = parse(data)
        except json.JSONDecodeError as exc:
            raise ExportError(f"{name}: bad JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        except UnicodeDecodeError as exc:
            raise ExportError(f"{name}: not UTF-8 text") from exc
        except RecursionError as exc:  # Slack nests blocks a few levels deep, never hundreds
            raise ExportError(f"{name}: JSON nested too deeply to be a Slack export") from exc
        if not isinstance(parsed, list):
            raise ExportError(f"{name} should hold a JSON list, not {type(parsed).__name__}")
        for index, item in enumerate(parsed):
            if not isinstance(item, dict):
                raise ExportError(f"{name}: item {index} should be a JSON object, not {type(item).__name__}")
        return parsed

    def users(self) -> list[ExportUser]:
        """Return the workspace's members (Slackbot counts as a bot, though its export says otherwise)."""
        users = []
        for index, entry in enumerate(self._load("users.json", required=False)):
            user_id = entry.get("id")
            if not isinstance(user_id, str) or not user_id:
                raise ExportError(f"users.json: item {index} has no id")
            profile = entry.get("profile") if isinstance(entry.get("profile"), dict) else {}
            name = entry.get("real_name") or profile.get("real_name") or entry.get("name") or user_id
            tz = entry.get("tz")
            users.append(
                ExportUser(
                    id=user_id,
                    name=str(name),
                    is_bot=bool(entry.get("is_bot")) or user_id == "USLACKBOT",
                    deleted=bool(entry.get("deleted")),
                    tz=tz if isinstance(tz, str) and tz else None,
                )
            )
        return users

    def channels(self) -> list[ExportChannel]:
        """Return public channels (channels.json) then private ones (groups.json, when the export has it)."""
        if self._channels is None:
            channels = []
            for name, private in (("channels.json", False), ("groups.json", True)):
                for index, entry in enumerate(self._load(name, required=not private)):
                    channel_id, channel_name = entry.get("id"), entry.get("name")
                    if not isinstance(channel_id, str) or not channel_id:
                        raise ExportError(f"{name}: item {index} has no id")
                    if not _safe_folder_name(channel_name):
                        raise ExportError(f"{name}: channel {channel_id} has no usable name: {channel_name!r}")
                    channels.append(ExportChannel(channel_id, channel_name, private or bool(entry.get("is_private"))))
            self._channels = channels
        return self._channels

    def day_files(self) -> list[tuple[ExportChannel, str]]:
        """Return every (channel, day file) in the order to import them: by channel, then by date.

        Within a channel that is oldest first, so a thread's parent is always read before its replies.
        """
        return [
            (channel, f"{channel.name}/{file}")
            for channel in sorted(self.channels(), key=lambda c: (c.name, c.id))
            for file in self._files.day_files_in(channel.name)
        ]

    def messages(self, channel: ExportChannel, member: str) -> list[dict]:
        """Return one day file's messages, as Slack wrote them but for the fields no rule reads (DayFileMessage)."""
        folder, _, file = member.rpartition("/")
        if folder != channel.name or not _DAY_FILE.fullmatch(file):
            raise ExportError(f"{member} is not a day file of #{channel.name}")
        return self._load(member, parse=_parse_day_file)

    def count_day_files(self) -> int:
        """Return how many day files there are, so an import can report progress."""
        return len(self.day_files())

    def validate(self) -> None:
        """Parse every file once, keeping none, so a malformed archive is refused before anything is stored."""
        self.users()
        for channel, member in self.day_files():
            self.messages(channel, member)
