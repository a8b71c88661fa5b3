"""Read a Slack workspace export (the .zip or its unpacked folder) one day file at a time.

An export of a busy workspace holds millions of messages, so nothing here reads more than one file at
once: `day_files()` lists where the messages are, `messages()` loads a single day. No database either:
the import service decides what to store, and can call `validate()` first to refuse a broken archive
before it writes anything.

A zip comes from whoever hands it over, so it is measured before anything is unpacked (`ArchiveLimits`:
a zip bomb is refused from its central directory) and each file is unpacked in chunks, counted against
the size the directory declared for it.
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
import struct
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self, TypedDict

import msgspec
import orjson

from bot.store import limits

MIB = 1024 * 1024
# A day file is small; a member claiming more than this is not a Slack export (or is a zip bomb).
MAX_FILE_BYTES = 256 * MIB
# Slack writes an export pretty-printed, with profiles and blocks: a JSON value (counted by the comma or the
# bracket that starts it) per 40-odd bytes, so a file at MAX_FILE_BYTES has about 6 million. A file with
# more is packed with tiny values (`[{},{},...]`) to decode into more objects than memory holds.
MAX_FILE_VALUES = 8_000_000
# A zip file is unpacked this much at a time, and refused at the first chunk that cannot start its JSON.
UNPACK_CHUNK_BYTES = MIB
# Below this size a file's compression ratio says nothing: a short, repetitive JSON file packs very well.
RATIO_FLOOR_BYTES = MIB
# A central directory entry of an export takes about a hundred bytes (an entry's fixed part, its short path,
# a timestamp): a directory larger than this per allowed entry holds more entries than it says.
DIRECTORY_BYTES_PER_ENTRY = 512
# The zip format's end records (APPNOTE 4.3.16, 4.3.15, 4.3.14): what the directory holds, read before it is.
_END = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
_JSON_BLANK = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
# What zipfile raises on a damaged or hostile zip, besides BadZipFile: a name that is not UTF-8 (ValueError),
# an encrypted member (RuntimeError), a method or version it does not know, such as Deflate64
# (NotImplementedError), a truncated or corrupted stream (EOFError, zlib.error), a field out of range.
_UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    OverflowError,
    struct.error,
    zlib.error,
)


class ExportError(Exception):
    """The archive is not a readable Slack export; the message names the file at fault."""


class ArchiveLimitError(ExportError):
    """A zip goes past one of `ArchiveLimits`; `limit` names the field, so the caller can say how to raise it."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message, limit)  # both in args: the error crosses from a reading process pickled
        self.limit = limit

    def __str__(self) -> str:
        return str(self.args[0])


class SeveralTeamsError(ExportError):
    """The export's members belong to several workspaces, so it cannot say which one it is from."""

    def __init__(self, team_ids: tuple[str, ...]) -> None:
        super().__init__(f"its members belong to several workspaces ({', '.join(team_ids)})", team_ids)
        self.team_ids = team_ids

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[type[Self], tuple[tuple[str, ...]]]:
        return type(self), (self.team_ids,)


@dataclass(frozen=True)
class ArchiveLimits:
    """How far a zip may unpack before it is refused as a zip bomb; an unpacked folder is on disk already.

    The defaults hold years of a busy workspace, whose JSON packs some ten times smaller; a zip bomb packs
    hundreds to thousands of times smaller.
    """

    max_uncompressed_bytes: int = 2048 * MIB
    max_entries: int = 100_000
    max_ratio: float = 200


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

    def read(self, name: str) -> bytes | bytearray | None: ...

    def day_files_in(self, folder: str) -> list[str]: ...

    def close(self) -> None: ...


class _Folder:
    """An unpacked export: files are read straight from disk."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def read(self, name: str) -> bytes | bytearray | None:
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

    def __init__(self, path: Path, limits: ArchiveLimits) -> None:
        _check_directory_size(path, limits)
        try:
            self._zip = zipfile.ZipFile(path)
        except _UNREADABLE_ZIP as exc:
            why = "" if isinstance(exc, zipfile.BadZipFile) else f" ({exc})"  # BadZipFile says just that
            raise ExportError(f"{path.name} is not a zip file or a folder{why}") from exc
        try:
            _check_limits(path.name, self._zip, limits)
        except ExportError:
            self._zip.close()
            raise
        infos = [
            info
            for info in self._zip.infolist()
            if info.filename and not info.is_dir() and not info.filename.startswith("__MACOSX/")
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

    def read(self, name: str) -> bytes | bytearray | None:
        info = self._infos.get(name)
        if info is None:
            return None
        _check_size(name, info.file_size)
        if info.flag_bits & 0x1:
            raise ExportError(f"{name} is encrypted: unpack the export with its password, or export it without one")
        try:
            with self._zip.open(info) as member:
                return _unpack(name, member, info.file_size)
        except _UNREADABLE_ZIP as exc:
            raise ExportError(f"{name}: cannot be unpacked ({exc})") from exc

    def day_files_in(self, folder: str) -> list[str]:
        return sorted(self._days.get(folder, ()))

    def close(self) -> None:
        self._zip.close()


def _check_id_length(listing: str, index: int, item_id: str) -> None:
    """Refuse a listed member or channel whose id no Slack id is as long as (nor any id column holds)."""
    if len(item_id) > limits.SLACK_ID:
        raise ExportError(
            f"{listing}: item {index}'s id is longer than any Slack id ({limits.SLACK_ID} characters), "
            "so this is not a Slack export"
        )


def _check_directory_size(path: Path, limits: ArchiveLimits) -> None:
    """Refuse a zip of too many files from its end record, before zipfile builds an object per file.

    zipfile reads the directory to its declared size whatever count the end record gives, so the size is
    held to what `max_entries` entries take too. Whatever this cannot read, zipfile refuses next.
    """
    declared = _declared_directory(path)
    if declared is None:
        return
    entries, directory_bytes = declared
    if entries > limits.max_entries:
        raise ArchiveLimitError(
            f"{path.name} holds {entries:,} files, more than the cap of {limits.max_entries:,}", "max_entries"
        )
    if directory_bytes > limits.max_entries * DIRECTORY_BYTES_PER_ENTRY:
        raise ArchiveLimitError(
            f"{path.name} has a directory of {directory_bytes:,} bytes, room for more than the cap of "
            f"{limits.max_entries:,} files",
            "max_entries",
        )


def _declared_directory(path: Path) -> tuple[int, int] | None:
    """The number of entries and the bytes of the central directory the zip's end record declares."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, 2)
            tail_start = max(0, size - _END.size - 0xFFFF - _ZIP64_LOCATOR.size)  # a comment is at most 64 KiB
            file.seek(tail_start)
            tail = file.read()
            at = tail.rfind(b"PK\x05\x06")
            if at < 0 or at + _END.size > len(tail):
                return None
            *_, entries, directory_bytes, _, _ = _END.unpack_from(tail, at)
            locator = at - _ZIP64_LOCATOR.size
            if locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
                _, _, end_at, _ = _ZIP64_LOCATOR.unpack_from(tail, locator)
                file.seek(end_at)
                record = file.read(_ZIP64_END.size)
                if len(record) == _ZIP64_END.size and record[:4] == b"PK\x06\x06":
                    *_, entries, directory_bytes, _ = _ZIP64_END.unpack(record)
    except OSError:
        return None
    return entries, directory_bytes


def _check_limits(zip_name: str, archive: zipfile.ZipFile, limits: ArchiveLimits) -> None:
    """Refuse a zip bomb from the central directory alone, before a byte of it is unpacked.

    The ratio is held for each file, then for the whole zip (many small files, each too small to tell). A
    member's packed size is taken as the room it has up to the next member's header, not as the size it
    declares: a directory can lie about that too, and a member whose data runs over the next one's gets only
    the room before it. Members that share one header (the overlapping zip bomb) are refused outright.
    """
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveLimitError(
            f"{zip_name} holds {len(infos):,} files, more than the cap of {limits.max_entries:,}", "max_entries"
        )
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise ArchiveLimitError(
            f"{zip_name} unpacks to {total / MIB:,.0f} MB, more than the cap of "
            f"{limits.max_uncompressed_bytes / MIB:,.0f} MB",
            "max_uncompressed_bytes",
        )
    headers = Counter(info.header_offset for info in infos)
    shared = [info.filename for info in infos if headers[info.header_offset] > 1]
    if shared:
        raise ExportError(f"{zip_name}: {', '.join(shared[:3])} share their data in the zip, which no export does")
    directory_start = getattr(archive, "start_dir", None)
    if directory_start is None and archive.filename is not None:
        directory_start = Path(archive.filename).stat().st_size
    ends = sorted({*headers, directory_start or 0})
    room = {start: end - start for start, end in itertools.pairwise(ends)}
    for info in infos:
        if info.file_size < RATIO_FLOOR_BYTES:
            continue
        packed = min(info.compress_size, room.get(info.header_offset, 0))
        if info.file_size > limits.max_ratio * max(packed, 1):
            raise ArchiveLimitError(
                f"{zip_name}: {info.filename} unpacks to {info.file_size / MIB:,.0f} MB from {packed:,} bytes, "
                f"{info.file_size / max(packed, 1):,.0f} times its packed size, more than the cap of "
                f"{limits.max_ratio:,g} times",
                "max_ratio",
            )
    packed_total = ends[-1]  # where the directory starts: all the members' packed data lies before it
    ratio = total / max(packed_total, 1)
    if total >= RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
        raise ArchiveLimitError(
            f"{zip_name} unpacks to {total / MIB:,.0f} MB from {packed_total:,} bytes, {ratio:,.0f} times its "
            f"packed size, more than the cap of {limits.max_ratio:,g} times",
            "max_ratio",
        )


def _unpack(name: str, member: IO[bytes], declared: int) -> bytearray:
    """A member's bytes, unpacked a chunk at a time and never more than its directory declared.

    The first chunk must be able to start a JSON list or object (every file the import reads is one): a
    member of zeros or blank space is refused having unpacked one chunk, whatever it would have grown to.
    """
    data = bytearray()
    while chunk := member.read(UNPACK_CHUNK_BYTES):
        if not data and len(chunk) == UNPACK_CHUNK_BYTES and not _starts_json(chunk):
            raise ExportError(f"{name}: its first {len(chunk):,} bytes do not start a JSON list or object")
        data += chunk
        if len(data) > declared:
            raise ExportError(f"{name} unpacks to more than the {declared:,} bytes the zip declares for it")
    return data  # every parser reads a bytearray as it reads bytes: no copy


def _starts_json(chunk: bytes) -> bool:
    return chunk.removeprefix(_BOM).lstrip(_JSON_BLANK)[:1] in (b"[", b"{")


def _check_size(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise ExportError(f"{name} is {size:,} bytes; a Slack export file is at most {MAX_FILE_BYTES:,}")


def _check_values(name: str, data: bytes | bytearray) -> None:
    """Refuse a file that would decode into more values than a Slack export file holds, before decoding it.

    Counting commas and opening brackets bounds the values from above (one in a string counts too) and
    costs a scan of the bytes, where decoding `[{},{},...]` costs a dict per three bytes. A value takes a
    byte at least, so a file of fewer bytes than the cap (most day files) is not even scanned.
    """
    if len(data) <= MAX_FILE_VALUES:
        return
    values = data.count(b",") + data.count(b"[") + data.count(b"{")
    if values > MAX_FILE_VALUES:
        raise ExportError(
            f"{name} holds up to {values:,} JSON values; a Slack export file holds fewer than {MAX_FILE_VALUES:,}"
        )


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
    """A Slack workspace export opened for reading; use it as a context manager so a zip gets closed.

    Opening a zip refuses it when it goes past `limits` (ArchiveLimitError).
    """

    def __init__(self, path: Path, limits: ArchiveLimits | None = None) -> None:
        path = Path(path)
        if path.is_dir():
            self._files: _Files = _Folder(path)
        elif path.is_file():
            self._files = _Zip(path, limits or ArchiveLimits())
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
        parsed = self._parse(name, data, parse)
        if not isinstance(parsed, list):
            raise ExportError(f"{name} should hold a JSON list, not {type(parsed).__name__}")
        for index, item in enumerate(parsed):
            if not isinstance(item, dict):
                raise ExportError(f"{name}: item {index} should be a JSON object, not {type(item).__name__}")
        return parsed

    @staticmethod
    def _parse(name: str, data: bytes | bytearray, parse: Callable[[bytes], Any]) -> Any:
        _check_values(name, data)
        try:
            parsed = parse(data)
        except json.JSONDecodeError as exc:
            raise ExportError(f"{name}: bad JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
        except UnicodeDecodeError as exc:
            raise ExportError(f"{name}: not UTF-8 text") from exc
        except RecursionError as exc:  # Slack nests blocks a few levels deep, never hundreds
            raise ExportError(f"{name}: JSON nested too deeply to be a Slack export") from exc
        return parsed

    def team_ids(self) -> tuple[str, ...]:
        """Return the workspace ids the export names: team.json's where it has one, else its members' `team_id`.

        Slack writes `team_id` on every member in users.json; a member of another workspace (a shared
        channel's guest) adds a second id, and only team.json, where an export has it, settles which is ours.
        With several, the one most members carry comes first: the likeliest to be ours.
        """
        data = self._files.read("team.json")
        if data is not None:
            team = self._parse("team.json", data, _parse_json)
            team_id = (team.get("id") or team.get("team_id")) if isinstance(team, dict) else None
            if not isinstance(team_id, str) or not team_id:
                raise ExportError('team.json should hold the workspace as an object with its id, like {"id": "T0123"}')
            return (team_id,)
        members = Counter(
            team_id
            for team_id in (entry.get("team_id") for entry in self._load("users.json", required=False))
            if isinstance(team_id, str) and team_id
        )
        return tuple(sorted(members, key=lambda team_id: (-members[team_id], team_id)))

    def team_id(self) -> str | None:
        """Return the one workspace the export is from, None when it names none; SeveralTeamsError if several."""
        ids = self.team_ids()
        if len(ids) > 1:
            raise SeveralTeamsError(ids)
        return ids[0] if ids else None

    def users(self) -> list[ExportUser]:
        """Return the workspace's members (Slackbot counts as a bot, though its export says otherwise)."""
        users = []
        for index, entry in enumerate(self._load("users.json", required=False)):
            user_id = entry.get("id")
            if not isinstance(user_id, str) or not user_id:
                raise ExportError(f"users.json: item {index} has no id")
            _check_id_length("users.json", index, user_id)
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
                    _check_id_length(name, index, channel_id)
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
