"""Import a Slack workspace export (the .zip or its folder) into the ledger, as the live bot would have counted it.

Everything happens in ONE transaction and the export is read once: a malformed file raises an error naming
it and rolls back everything written before it, so an import that fails or is stopped half-way leaves
nothing behind. Memory stays flat however big the export: day files are read one at a time, by reading
processes when the export is big enough to pay for starting them (`bot.services.export_reader`), and rows
are written in batches.

A big import writes its rows with one executemany per batch and rebuilds the team's standings rollups once,
set-based (`BulkLedger`); a small one into a team that already holds a big ledger keeps them on write
instead, row by row, which then costs less (`bulk_is_cheaper`). Importing the same export twice changes
nothing: every row has the source_key live events would give it.
"""

from __future__ import annotations

import gc
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.coach.kinds import Kind
from bot.deps import Deps
from bot.services.export_archive import (
    ArchiveLimitError,
    ArchiveLimits,
    ExportArchive,
    ExportChannel,
    ExportError,
    ExportUser,
    SeveralTeamsError,
)
from bot.services.export_reader import (
    CHANNEL,
    COUNTERPART,
    USER,
    DayRows,
    ReadingPlan,
    Reply,
    read_day_files,
    reading_processes,
)
from bot.services.teams import ensure_team, team_settings
from bot.store import ingest_queries as q
from bot.store.ledger import BULK_COLUMNS, BulkLedger, bulk_is_cheaper, driver_name, insert_activities
from bot.store.member_data import forget_who_opted_out_since, hold_opt_outs_steady
from bot.store.models import REACTION_KEY, Activity, Team

SAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "data" / "sample_export"
SAMPLE_TEAM_ID = "T0SAMPLE"
# Rows buffered before a write: big enough for few round trips, small enough to keep memory flat.
FLUSH_ROWS = 6000
# An export this big (its day files' JSON, about 25,000 messages) is read by other processes; starting them
# takes about half a second, as long as reading that much here.
SEPARATE_READER_BYTES = 32_000_000
# Reading processes for a big export. With one, the writer waits on it; with two (on two cores, sharing them
# with the writer) the writer is the limit: a million messages in 39 s rather than 42.
READERS = 2
# About this much day-file JSON per ledger row in a busy workspace's export: the size estimate that picks
# how the rollups are kept before the export has been read.
EXPORT_BYTES_PER_ROW = 1250
# And about this much database (the ledger with its indexes, emoji and rollups) per byte of day-file JSON:
# 630 MB for a million messages' 960 MB. It tells the database how big the import's transaction will be.
DATABASE_BYTES_PER_EXPORT_BYTE = 0.65
REACTION_COLUMNS = REACTION_KEY

__all__ = [
    "SAMPLE_EXPORT",
    "SAMPLE_TEAM_ID",
    "ArchiveLimitError",
    "ArchiveLimits",
    "ExportError",
    "ImportProgress",
    "ImportReport",
    "SeveralTeamsError",
    "export_team_id",
    "import_export",
]


@dataclass(frozen=True)
class ImportProgress:
    """How far an import has got, after each day file."""

    files_done: int
    files_total: int
    messages: int


@dataclass(frozen=True)
class ImportReport:
    """What an import read and counted; `new_entries` leaves out what an earlier import already stored."""

    team_id: str
    members: int
    channels: int
    files: int
    messages: int
    links: int
    comments: int
    likes: int
    new_entries: int


def export_team_id(path: Path, limits: ArchiveLimits | None = None) -> str | None:
    """The workspace the export at `path` is from, None when it names none; SeveralTeamsError if it names several."""
    with ExportArchive(Path(path), limits) as archive:
        return archive.team_id()


def only_team_id(deps: Deps) -> str | None:
    """The workspace already in the database when there is exactly one: where an export that names none goes."""
    with deps.db.session() as session:
        ids = session.scalars(select(Team.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def _member_rows(team_id: str, users: list[ExportUser], deps: Deps) -> list[dict[str, object]]:
    now = deps.now()
    return [
        {
            "team_id": team_id,
            "user_id": user.id,
            "name": user.name,
            "tz": user.tz,
            "is_bot": user.is_bot,
            "is_deleted": user.deleted,
            "updated_at": now,
        }
        for user in users
    ]


def import_export(
    deps: Deps,
    path: Path,
    team_id: str,
    *,
    on_progress: Callable[[ImportProgress], None] | None = None,
    separate_reader: bool | None = None,
    in_bulk: bool | None = None,
    limits: ArchiveLimits | None = None,
) -> ImportReport:
    """Import the export at `path` for `team_id`; raise ExportError (nothing written) if it is malformed.

    A zip past `limits` (default `ArchiveLimits()`) raises ArchiveLimitError before anything is unpacked.
    `separate_reader` and `in_bulk` choose how (a second reading process; `BulkLedger` rather than
    `insert_activities`); None, the default, picks by the size of the export and of the team's ledger.
    """
    with _collecting_less():
        return _import(deps, Path(path), team_id, on_progress, separate_reader, in_bulk, limits or ArchiveLimits())


@contextmanager
def _collecting_less() -> Iterator[None]:
    """Run the cyclic garbage collector about seventy times less often while an import runs.

    The importing process builds and frees a few hundred tuples per day file and a row per group fetched by
    the rebuild, none of them in cycles: at the default threshold the collector ran over a thousand times per
    million messages (0.4-0.6 s, one in eleven of them also walking older objects), finding nothing.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _import(
    deps: Deps,
    path: Path,
    team_id: str,
    on_progress: Callable[[ImportProgress], None] | None,
    separate_reader: bool | None,
    in_bulk: bool | None,
    limits: ArchiveLimits,
) -> ImportReport:
    now = deps.now()
    with ExportArchive(path, limits) as archive:
        users = archive.users()
        channels = archive.channels()
        day_files = tuple(archive.day_files())
    export_bytes = _day_file_bytes(path, day_files)
    if separate_reader is None:
        separate_reader = export_bytes >= SEPARATE_READER_BYTES and (os.cpu_count() or 1) > 1
    # The readers start first: they take about as long to start as the database takes to get ready.
    with (
        reading_processes(READERS) if separate_reader else nullcontext() as readers,
        deps.db.bulk_session(expected_bytes=int(export_bytes * DATABASE_BYTES_PER_EXPORT_BYTE)) as session,
    ):
        hold_opt_outs_steady(session)  # an opt-out during the import waits for it, then forgets what it wrote
        team = ensure_team(session, team_id, now)
        q.upsert_members(session, _member_rows(team_id, users, deps))
        for channel in channels:
            q.upsert_channel(session, team_id, channel.id, is_private=channel.is_private, name=channel.name)
        if in_bulk is None:
            in_bulk = bulk_is_cheaper(_ledger_rows(session, team_id), export_bytes // EXPORT_BYTES_PER_ROW)
        plan = ReadingPlan(
            path=path,
            day_files=day_files,
            team_id=team_id,
            timezone=team_settings(team).timezone,
            now=now,
            bot_user_id=team.bot_user_id,
            bots=q.bot_user_ids(session, team_id),
            opted_out=q.opted_out_user_ids(session, team_id),
            driver=driver_name(session) if in_bulk else None,
            limits=limits,
        )
        writer = _LedgerWriter(session, plan, expected_rows=export_bytes // EXPORT_BYTES_PER_ROW)
        days = readers.read(plan) if readers is not None else read_day_files(plan)
        for done, day in enumerate(days, start=1):
            writer.add(day)
            if on_progress is not None:
                on_progress(ImportProgress(done, len(day_files), writer.messages))
        writer.finish()
        forget_who_opted_out_since(session, team_id, plan.opted_out, now)
    return ImportReport(
        team_id=team_id,
        members=len(users),
        channels=len(channels),
        files=len(day_files),
        messages=writer.messages,
        links=writer.links,
        comments=writer.comments,
        likes=writer.likes,
        new_entries=writer.new_entries,
    )


def _day_file_bytes(path: Path, day_files: tuple[tuple[ExportChannel, str], ...]) -> int:
    """How much JSON the day files hold, before reading any (unpacked sizes, for a zip)."""
    if path.is_dir():
        return sum((path / member).stat().st_size for _, member in day_files)
    with zipfile.ZipFile(path) as archive:
        return sum(info.file_size for info in archive.infolist() if info.filename.endswith(".json"))


def _ledger_rows(session: Session, team_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Activity).where(Activity.team_id == team_id)) or 0


class _LedgerWriter:
    """Writes the reader's rows in batches, places the replies only the store can place, and counts.

    In bulk through `BulkLedger` (its `finish` brings the standings up to date), otherwise through
    `insert_activities`, which keeps them on write.
    """

    def __init__(self, session: Session, plan: ReadingPlan, *, expected_rows: int) -> None:
        self._session = session
        self._team_id = plan.team_id
        self._bulk = (
            BulkLedger(session, plan.team_id, expected_rows=expected_rows, rows_from=plan.row_builder())
            if plan.driver is not None
            else None
        )
        self._rows: list[tuple[Any, ...]] = []
        self._reactions: list[tuple[str, str, str, str, str]] = []
        self.messages = self.links = self.comments = self.likes = self.new_entries = 0

    def add(self, day: DayRows) -> None:
        self.messages += day.messages
        self.links += day.links
        self.comments += day.comments
        self.likes += day.likes
        written = 0
        for reply in day.replies:
            self._rows.extend(day.rows[written : reply.position])
            written = reply.position
            self._place(reply)
        self._rows.extend(day.rows[written:])
        self._reactions.extend(day.reactions)
        if len(self._rows) >= FLUSH_ROWS:
            self._flush()

    def _place(self, reply: Reply) -> None:
        """Count a reply if the store holds a teammate's link message at its thread's parent."""
        self._flush()  # the parent may be among the rows not yet written
        parent = q.link_parent(self._session, self._team_id, reply.row[CHANNEL], reply.thread_ts)
        if parent is None or parent.user_id == reply.row[USER]:
            return
        row = list(reply.row)
        row[COUNTERPART] = parent.user_id
        self._rows.append(tuple(row))
        if reply.kind is Kind.COMMENT:
            self.comments += 1
        else:
            self.likes += 1

    def _flush(self) -> None:
        if self._bulk is not None:
            self.new_entries += self._bulk.insert(self._rows)
            self._bulk.add_reactions(self._reactions)
        else:
            rows = [dict(zip(BULK_COLUMNS, row, strict=True)) for row in self._rows]  # no driver: every column
            self.new_entries += insert_activities(self._session, rows)
            q.add_reactions(self._session, [dict(zip(REACTION_COLUMNS, row, strict=True)) for row in self._reactions])
        self._rows.clear()
        self._reactions.clear()

    def finish(self) -> None:
        """Write what is left, and bring the standings up to date after a bulk write."""
        self._flush()
        if self._bulk is not None:
            self._bulk.finish()
