"""Read a workspace export into ledger rows, in processes of their own while the importing process writes.

Parsing JSON and deciding what each message is worth is most of an import's work that is not writing,
and it needs no database: this module does it day file by day file and hands over each day's rows,
already encoded for the database driver, through a bounded queue (memory stays flat however big the
export). What only the store can tell, a thread parent read in an earlier import or too long ago to be
remembered, comes back as a reply to place (`DayRows.replies`), and the importing process asks the store.

The rules are the live bot's and history's: `entries_for_message` decides what a message is worth and
`ingest.reaction_likes` what its emoji are, so an imported message counts exactly as it would have live.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
import signal
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.coach.kinds import Kind, Source
from bot.coach.messages import ChannelContext, LedgerEntry, ParentMessage, entries_for_message
from bot.services.export_archive import ArchiveLimits, ExportArchive, ExportChannel, ExportError
from bot.services.ingest import ThreadMemory, message_ids_fit, oldest_first, reaction_likes
from bot.store.ledger import BULK_COLUMNS, BulkRows

# Day files a reader may get ahead of the writer: enough to keep everyone busy, few enough to keep memory flat.
QUEUE_DEPTH = 16
# How long the writer waits for the next day file before checking that the readers are still alive.
_POLL_SECONDS = 1.0
# Where a row (`BulkRows.row`) holds these: the same whether the values a whole write shares are in it or not.
COUNTERPART = BULK_COLUMNS.index("counterpart")
USER = BULK_COLUMNS.index("user_id")
CHANNEL = BULK_COLUMNS.index("channel_id")
# Stands in for a thread parent only the store knows: a reply to it is a row whose counterpart is to be placed.
_UNPLACED = ""


@dataclass(frozen=True)
class ReadingPlan:
    """What the reader needs, all of it picklable: it may run in another process, and never opens the database."""

    path: Path
    day_files: tuple[tuple[ExportChannel, str], ...]
    team_id: str
    timezone: str
    now: datetime
    bot_user_id: str | None
    bots: frozenset[str]
    opted_out: frozenset[str]
    driver: str | None  # encode rows for this database driver (`ledger.BulkRows`); None leaves plain values
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)  # the reader opens the zip again

    def row_builder(self) -> BulkRows:
        """What builds the plan's rows: the readers' and the writer's agree on the rows' columns."""
        return BulkRows(self.driver, self.team_id, Source.SLACK.value, ZoneInfo(self.timezone), self.now)


class Reply(NamedTuple):
    """A reply whose thread parent the reader could not know: it counts if the store has a teammate's link there.

    `row` is complete but for its counterpart (the parent's author); `position` is how many of the day's
    rows come before it, so the store is asked only once those are written.
    """

    position: int
    row: tuple[Any, ...]
    thread_ts: str
    kind: Kind


class DayRows(NamedTuple):
    """One day file's worth: ledger rows, emoji to remember (Reaction's columns), replies to place, counts."""

    messages: int
    rows: list[tuple[Any, ...]]
    reactions: list[tuple[str, str, str, str, str]]
    replies: list[Reply]
    links: int
    comments: int
    likes: int


class _DayReader:
    """Turns one channel's day files, read in order, into DayRows."""

    def __init__(self, plan: ReadingPlan) -> None:
        self._plan = plan
        self._rows = plan.row_builder()
        self._channel: ExportChannel | None = None
        self._context = ChannelContext("", False, plan.bot_user_id)
        self._threads = ThreadMemory()
        self._unwanted = plan.bots | plan.opted_out

    def read(self, channel: ExportChannel, messages: list[dict]) -> DayRows:
        if channel != self._channel:
            self._channel = channel
            self._context = ChannelContext(channel.id, channel.is_private, self._plan.bot_user_id)
            self._threads = ThreadMemory()
        messages = oldest_first(messages)
        if messages:
            self._threads.forget_before(str(messages[0].get("ts")))
        day = DayRows(len(messages), [], [], [], 0, 0, 0)
        links = comments = likes = 0
        for message in messages:
            for entry in self._entries(message, day):
                if entry.kind is Kind.LINK:
                    links += 1
                elif entry.kind is Kind.COMMENT:
                    comments += 1
                else:
                    likes += 1
        return day._replace(links=links, comments=comments, likes=likes)

    def _entries(self, message: Mapping[str, Any], day: DayRows) -> list[LedgerEntry]:
        """Add one message's rows to the day (as `ingest.LedgerBatch.add` does); return the entries placed."""
        if not message_ids_fit(message):
            return []  # no message of Slack's carries an id that long, and no column would keep it
        ts, thread_ts = message.get("ts"), message.get("thread_ts")
        is_reply = thread_ts not in (None, ts)
        parent = self._parent(thread_ts) if is_reply and isinstance(thread_ts, str) else None
        entries = entries_for_message(message, self._context, parent)
        if entries and entries[0].user_id in self._plan.opted_out:
            entries = []  # every entry of a message is its author's
        has_links = any(entry.kind is Kind.LINK for entry in entries)
        if isinstance(ts, str) and not is_reply and (has_links or message.get("reply_count")):
            self._threads.remember(ts, message["user"] if has_links else None)
        if has_links and isinstance(message.get("reactions"), list):
            entries.extend(self._reaction_likes(message, day))
        placed = []
        for entry in entries:
            row = self._row(entry)
            if entry.kind is not Kind.LINK and entry.counterpart == _UNPLACED:
                day.replies.append(Reply(len(day.rows), row, entry.thread_ts or "", entry.kind))
                continue
            day.rows.append(row)
            placed.append(entry)
        return placed

    def _parent(self, thread_ts: str) -> ParentMessage | None:
        """The thread parent as far as the reader knows, or a stand-in when only the store can tell."""
        if thread_ts not in self._threads:
            return ParentMessage(_UNPLACED, thread_ts, has_links=True)
        author = self._threads.link_author(thread_ts)
        return ParentMessage(author, thread_ts, has_links=True) if author else None

    def _reaction_likes(self, message: Mapping[str, Any], day: DayRows) -> list[LedgerEntry]:
        likes, emoji = reaction_likes(message, self._context, self._unwanted)
        team_id, channel_id, ts = self._plan.team_id, self._context.channel_id, message["ts"]
        day.reactions.extend((team_id, channel_id, ts, user, name) for user, name in emoji)
        return likes

    def _row(self, entry: LedgerEntry) -> tuple[Any, ...]:
        return self._rows.row(
            entry.user_id,
            entry.kind.value,
            entry.occurred_at,
            entry.source_key,
            entry.platform.value,
            entry.counterpart,
            entry.url,
            entry.url_key,
            entry.channel_id,
            entry.message_ts,
            entry.thread_ts,
            entry.private,
        )


def read_day_files(plan: ReadingPlan) -> Iterator[DayRows]:
    """Yield each day file's rows in the plan's order; raise ExportError naming the first malformed file."""
    reader = _DayReader(plan)
    with ExportArchive(plan.path, plan.limits) as archive:
        for channel, member in plan.day_files:
            yield reader.read(channel, archive.messages(channel, member))


# --- the reading process -----------------------------------------------------------------------------


class _Finished(NamedTuple):
    error: ExportError | None = None  # pickled whole, so that a cap passed stays an ArchiveLimitError
    crash: str | None = None  # anything else, with its traceback


def _serve(plans: Any, out: Any) -> None:
    """The reading process: waits for its plan, puts its day files into the queue, then how it ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the importing process's to handle: it stops us
    # Parsed JSON is millions of short-lived objects without cycles, freed as each day file is done: the
    # cyclic collector has nothing to find, so it runs rarely and never walks the modules loaded so far.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    plan = plans.get()
    if plan is None:  # fewer channels than readers: nothing for this one
        return
    try:
        for day in read_day_files(plan):
            out.put(day)
    except ExportError as error:
        out.put(_Finished(error=error))
    except BaseException:  # whatever it is, the importing process must hear of it and roll back
        out.put(_Finished(crash=traceback.format_exc()))
    else:
        out.put(_Finished())


def split_by_channel(plan: ReadingPlan, parts: int) -> list[ReadingPlan]:
    """Split the plan into at most `parts` plans of whole channels, about equally many day files each.

    A channel's day files must be read in order by one reader (thread parents come before replies);
    different channels share nothing, so they can be read side by side.
    """
    channels: dict[ExportChannel, list[tuple[ExportChannel, str]]] = {}
    for channel, member in plan.day_files:
        channels.setdefault(channel, []).append((channel, member))
    shares: list[list[tuple[ExportChannel, str]]] = [[] for _ in range(max(1, min(parts, len(channels))))]
    for files in sorted(channels.values(), key=len, reverse=True):
        min(shares, key=len).extend(files)
    return [replace(plan, day_files=tuple(share)) for share in shares]


class ReadingProcesses:
    """Reading processes, started before the plan they will read is known.

    Starting one takes a third of a second (a fresh interpreter importing the rules); the importing process
    spends about as long getting the database ready, so it starts them first and hands them the plan when it
    has one (`read`). The processes are spawned, not forked: they start clean, without the parent's database
    connections or threads. `close` stops them, whatever happened.
    """

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        # At most QUEUE_DEPTH day files per reader: a slow writer pauses the readers instead of buffering the export.
        self._days: Any = context.Queue(maxsize=QUEUE_DEPTH * processes)
        self._plans = [context.SimpleQueue() for _ in range(processes)]
        self._readers = [
            context.Process(target=_serve, args=(plans, self._days), name=f"export-reader-{n}", daemon=True)
            for n, plans in enumerate(self._plans, start=1)
        ]
        for reader in self._readers:
            reader.start()

    def read(self, plan: ReadingPlan) -> Iterator[DayRows]:
        """Every day file's rows as they come, channels split between the readers: each channel's in order (once)."""
        parts = split_by_channel(plan, len(self._readers))
        for n, plans in enumerate(self._plans):
            plans.put(parts[n] if n < len(parts) else None)
        return self._received(len(parts))

    def _received(self, running: int) -> Iterator[DayRows]:
        while running:
            try:
                item = self._days.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                stopped = [reader.exitcode for reader in self._readers if not reader.is_alive()]
                if any(code != 0 for code in stopped):
                    raise RuntimeError(f"an export reader stopped unexpectedly (exit codes {stopped})") from None
                continue
            if not isinstance(item, _Finished):
                yield item
            elif item.error is not None:
                raise item.error
            elif item.crash is not None:
                raise RuntimeError(f"reading the export failed in a reader process:\n{item.crash}")
            else:
                running -= 1

    def close(self) -> None:
        for reader in self._readers:
            if reader.is_alive():
                reader.terminate()
            reader.join()
        self._days.close()
        for plans in self._plans:
            plans.close()


@contextmanager
def reading_processes(processes: int) -> Iterator[ReadingProcesses]:
    """`processes` reading processes, started now and stopped when the block is left."""
    readers = ReadingProcesses(processes)
    try:
        yield readers
    finally:
        readers.close()
