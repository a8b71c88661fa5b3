"""Writing and removing ledger rows: the single path every activity takes into and out of the database.

Logged actions, live Slack events, history backfill and export import all insert through
`insert_activities`, so dedupe (the unique (team_id, source_key) index) and anything kept on write
live in one place.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import URL, ColumnElement, Index, delete, func, select
from sqlalchemy.orm import Session

from bot.store.models import REACTION_KEY, Activity, Reaction
from bot.store.rollups import FACT_COLUMNS, RollupFacts, apply_changes, apply_rows, rebuild_rollups
from bot.store.upsert import driver_insert_or_ignore_sql, insert_for, is_sql_literal

# A batch this size keeps a bulk insert under SQLite's 32,766 bound-parameter limit.
INSERT_BATCH = 1500

# The columns of a ledger row as `activity_row` builds it (every one but the id), in the table's order.
ACTIVITY_COLUMNS: tuple[str, ...] = tuple(column.name for column in Activity.__table__.columns if column.name != "id")


def activity_row(
    *,
    team_id: str,
    user_id: str,
    kind: str,
    source: str,
    occurred_at: datetime,
    timezone: str,
    source_key: str,
    platform: str,
    created_at: datetime,
    counterpart: str = "",
    url: str | None = None,
    url_key: str | None = None,
    note: str | None = None,
    channel_id: str | None = None,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    is_private: bool = False,
) -> dict[str, Any]:
    """Build one row, with `day` and `hour` local to the team's time zone (daily caps, bursts)."""
    values = activity_values(
        team_id,
        user_id,
        kind,
        source,
        occurred_at,
        ZoneInfo(timezone),
        source_key,
        platform,
        created_at,
        counterpart,
        url,
        url_key,
        note,
        channel_id,
        message_ts,
        thread_ts,
        is_private,
    )
    return dict(zip(ACTIVITY_COLUMNS, values, strict=True))


def activity_values(
    team_id: str,
    user_id: str,
    kind: str,
    source: str,
    occurred_at: datetime,
    zone: ZoneInfo,
    source_key: str,
    platform: str,
    created_at: datetime,
    counterpart: str,
    url: str | None,
    url_key: str | None,
    note: str | None,
    channel_id: str | None,
    message_ts: str | None,
    thread_ts: str | None,
    is_private: bool,
) -> tuple[Any, ...]:
    """`activity_row` as a tuple in ACTIVITY_COLUMNS order, for bulk writers that build millions of rows."""
    local = occurred_at.astimezone(zone)
    return (
        team_id,
        user_id,
        kind,
        source,
        occurred_at,
        local.date(),
        local.hour,
        counterpart,
        url,
        url_key,
        platform,
        note,
        channel_id,
        message_ts,
        thread_ts,
        is_private,
        source_key,
        created_at,
    )


def insert_activities(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping any already stored (same team and source_key); return how many were new.

    Only the rows really inserted (RETURNING) reach the standings rollups, so a redelivery changes nothing.
    """
    insert = insert_for(session)
    statement = (
        insert(Activity.__table__)
        .on_conflict_do_nothing(index_elements=["team_id", "source_key"])
        .returning(Activity.team_id, *FACT_COLUMNS)
    )
    new: dict[str, list[Sequence[Any]]] = defaultdict(list)
    for start in range(0, len(rows), INSERT_BATCH):
        for row in session.execute(statement, list(rows[start : start + INSERT_BATCH])):
            new[row[0]].append(row[1:])
    for team_id, facts in new.items():
        _to_rollups(session, team_id, facts, +1)
    return sum(map(len, new.values()))


def delete_activities(session: Session, team_id: str, *conditions: ColumnElement[bool]) -> int:
    """Delete the team's rows matching every condition, and take them out of the rollups; return how many went."""
    deleted = session.execute(
        delete(Activity).where(Activity.team_id == team_id, *conditions).returning(*FACT_COLUMNS)
    ).all()
    _to_rollups(session, team_id, deleted, -1)
    return len(deleted)


class RollupBatch:
    """Ledger changes held back from the rollups until a batch of events is written (see `rollups_per_batch`)."""

    def __init__(self) -> None:
        self._changes: list[tuple[str, Sequence[Any], int]] = []

    def add(self, team_id: str, rows: Iterable[Sequence[Any]], sign: int) -> None:
        self._changes.extend((team_id, row, sign) for row in rows)

    def mark(self) -> int:
        """Where the batch stands, to go back to if the event being written fails (`forget_since`)."""
        return len(self._changes)

    def forget_since(self, mark: int) -> None:
        del self._changes[mark:]

    def apply(self, session: Session) -> None:
        by_team: dict[str, list[tuple[Sequence[Any], int]]] = defaultdict(list)
        for team_id, row, sign in self._changes:
            by_team[team_id].append((row, sign))
        self._changes.clear()
        for team_id, changes in sorted(by_team.items()):
            apply_changes(session, team_id, changes)


_ROLLUP_BATCH = "rollup_batch"


@contextlib.contextmanager
def rollups_per_batch(session: Session) -> Iterator[RollupBatch]:
    """Within the block, rows written through this module reach the rollups once, summed, when it ends.

    The ledger writer applies hundreds of events per transaction; kept on write one event at a time, the
    rollups' upserts were most of an event's cost. Leaving the block by an exception applies nothing (the
    transaction is rolled back with it).
    """
    batch = RollupBatch()
    session.info[_ROLLUP_BATCH] = batch
    try:
        yield batch
        batch.apply(session)
    finally:
        session.info.pop(_ROLLUP_BATCH, None)


def _to_rollups(session: Session, team_id: str, rows: Sequence[Sequence[Any]], sign: int) -> None:
    batch: RollupBatch | None = session.info.get(_ROLLUP_BATCH)
    if batch is None:
        apply_rows(session, team_id, rows, sign)
    else:
        batch.add(team_id, rows, sign)


def delete_activity_ids(session: Session, team_id: str, ids: Iterable[int]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    return delete_activities(session, team_id, Activity.id.in_(ids))


# --- bulk writes, without rollups ----------------------------------------------------------------------


def driver_name(session: Session) -> str:
    """The database driver as `BulkRows` and `row_encoder` take it (a name, so another process can build its own)."""
    dialect = session.get_bind().dialect
    return f"{dialect.name}+{dialect.driver}"


def row_encoder(driver: str) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """Turn a row of ACTIVITY_COLUMNS values into what the driver is given for them, as SQLAlchemy would bind it.

    Bulk inserts hand rows straight to the driver's executemany, so rows are encoded before they get there
    (dates as text on SQLite, UTC for datetimes). This is the plain way, a row at a time: `BulkRows`, which the
    export readers use, must give the same.
    """
    by_column = _bind_processors(driver)
    processors = [(index, by_column[name]) for index, name in enumerate(ACTIVITY_COLUMNS) if name in by_column]

    def encode(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for index, processor in processors:
            values[index] = processor(values[index])
        return tuple(values)

    return encode


def _bind_processors(driver: str) -> dict[str, Callable[[Any], Any]]:
    """The ledger's columns that SQLAlchemy encodes for this driver, with the function that does it."""
    dialect = URL.create(driver).get_dialect()()
    table = Activity.__table__
    return {
        name: processor
        for name in ACTIVITY_COLUMNS
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }


# The order BulkRows builds a row in: what differs from row to row first, then what a whole write shares. On
# SQLite the shared values are written into the INSERT once (`BulkRows.insert_sql`) and rows end before them:
# binding a value costs about 0.25 µs a row, and four of them were a fifth of writing a ledger row.
SHARED_COLUMNS = ("team_id", "source", "note", "created_at")
BULK_COLUMNS = (*(name for name in ACTIVITY_COLUMNS if name not in SHARED_COLUMNS), *SHARED_COLUMNS)

# The columns BulkRows encodes, once per value: the instant, with its local day and hour, privacy, and what a
# whole write shares. The others go to the driver as they are.
_ENCODED_ONCE = frozenset({"team_id", "source", "occurred_at", "day", "hour", "is_private", "created_at", "note"})


def _unchanged(value: Any) -> Any:
    return value


def _sqlite_instant(value: datetime) -> str:
    """A UTCDateTime as SQLAlchemy stores it on SQLite (UTC, always with microseconds), in a quarter of the time."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# Faster equivalents of SQLAlchemy's encodings, used only where they give the same on the probes below.
_FASTER = {"occurred_at": _sqlite_instant, "day": date.isoformat}
_PROBES = {
    "occurred_at": (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 30, 5, 120, tzinfo=ZoneInfo("Europe/Berlin")),
    ),
    "day": (date(2024, 1, 1), date(2026, 12, 31)),
}


def _encodings(driver: str | None) -> dict[str, Callable[[Any], Any]]:
    """How to encode each ledger column for the driver, as SQLAlchemy would (unchanged when it would not)."""
    processors = _bind_processors(driver) if driver else {}
    encodings: dict[str, Callable[[Any], Any]] = {}
    for name in ACTIVITY_COLUMNS:
        processor = processors.get(name, _unchanged)
        faster = _FASTER.get(name)
        if faster is not None and all(faster(probe) == processor(probe) for probe in _PROBES[name]):
            processor = faster
        encodings[name] = processor
    return encodings


class BulkRows:
    """Encoded ledger rows for a bulk write, equal to `row_encoder(driver)(activity_values(...))`, built cheaply.

    The rows of one message share their instant (so its local day and hour), a channel's share their privacy,
    and a whole write its team, source and creation time: each of those is encoded once per value, where
    encoding each row's values in turn was a quarter of an export reader's work. A row holds `columns`, in
    BULK_COLUMNS order: on SQLite the values the whole write shares are left out, and `insert_sql` writes them
    into the statement. `driver` None leaves values as they are, all of them. A test holds `values` to
    `activity_values` and `row_encoder`, for SQLite's and PostgreSQL's drivers.
    """

    def __init__(self, driver: str | None, team_id: str, source: str, zone: ZoneInfo, created_at: datetime) -> None:
        if driver and (unhandled := _bind_processors(driver).keys() - _ENCODED_ONCE):
            raise ValueError(f"BulkRows would pass {sorted(unhandled)} unencoded to {driver}")
        encoded = _encodings(driver)
        self._driver = driver
        self._zone = zone
        values = dict(team_id=team_id, source=source, note=None, created_at=created_at)
        shared = {name: encoded[name](values[name]) for name in SHARED_COLUMNS}
        sqlite = driver is not None and URL.create(driver).get_backend_name() == "sqlite"
        self._inlined = shared if sqlite and all(map(is_sql_literal, shared.values())) else {}
        self._tail = () if self._inlined else tuple(shared.values())
        self.columns = BULK_COLUMNS[: len(BULK_COLUMNS) - len(self._inlined)]
        self._private = {False: encoded["is_private"](False), True: encoded["is_private"](True)}
        self._instant_of, self._day_of = encoded["occurred_at"], encoded["day"]
        self._instant: datetime | None = None
        self._when: tuple[Any, Any, int] = (None, None, 0)

    def row(
        self,
        user_id: str,
        kind: str,
        occurred_at: datetime,
        source_key: str,
        platform: str,
        counterpart: str,
        url: str | None,
        url_key: str | None,
        channel_id: str | None,
        message_ts: str | None,
        thread_ts: str | None,
        is_private: bool,
    ) -> tuple[Any, ...]:
        """One row of `columns` (`note` empty: bulk writes come from Slack)."""
        if occurred_at != self._instant:
            local = occurred_at.astimezone(self._zone)
            self._instant = occurred_at
            self._when = (self._instant_of(occurred_at), self._day_of(local.date()), local.hour)
        instant, day, hour = self._when
        row = (
            user_id, kind, instant, day, hour, counterpart, url, url_key, platform,
            channel_id, message_ts, thread_ts, self._private[is_private], source_key,
        )  # fmt: skip
        return row + self._tail if self._tail else row

    def values(self, row: Sequence[Any]) -> dict[str, Any]:
        """A row by column, the shared values the statement writes in included: what the ledger row will hold."""
        return dict(zip(self.columns, row, strict=True)) | self._inlined

    def insert_sql(self) -> str:
        """The ledger's INSERT ... ON CONFLICT (team_id, source_key) DO NOTHING for these rows, for executemany."""
        if self._driver is None:
            raise ValueError("rows for no driver are not written with driver SQL")
        return driver_insert_or_ignore_sql(
            self._driver, Activity.__table__, self.columns, ("team_id", "source_key"), literals=self._inlined
        )


@functools.cache
def _bulk_insert_sql(driver: str) -> str:
    """The ledger's INSERT ... ON CONFLICT (team_id, source_key) DO NOTHING, in ACTIVITY_COLUMNS order.

    One row per statement: psycopg pipelines it (in measures, faster than a thousand rows per statement).
    """
    return driver_insert_or_ignore_sql(driver, Activity.__table__, ACTIVITY_COLUMNS, ("team_id", "source_key"))


@functools.cache
def _reaction_insert_sql(driver: str) -> str:
    return driver_insert_or_ignore_sql(driver, Reaction.__table__, REACTION_KEY, REACTION_KEY)


# What inserting a row with its rollups kept on write costs, and what rebuilding the rollups costs per row of
# the team's whole ledger, in microseconds (bench/import.py, SQLite; PostgreSQL is in the same proportion).
ON_WRITE_MICROSECONDS = 140
REBUILD_MICROSECONDS = 9


def bulk_is_cheaper(ledger_rows: int, new_rows: int) -> bool:
    """Whether `new_rows` for a team holding `ledger_rows` go in faster through BulkLedger than insert_activities."""
    return (ledger_rows + new_rows) * REBUILD_MICROSECONDS < new_rows * ON_WRITE_MICROSECONDS


# The ledger's indexes nothing reads while an import writes (the export's reply lookups use the message index,
# and ON CONFLICT the unique one). Channels are read side by side, each from its first day, so keys by time,
# member or counterpart arrive in no useful order and every row touches pages all over those indexes. On SQLite
# a big import drops them and builds them again once, sorted.
_SET_ASIDE_INDEXES = tuple(
    index
    for index in Activity.__table__.indexes
    if [column.name for column in index.columns] != ["team_id", "channel_id", "message_ts"]
)
# What the set-aside indexes cost per ledger row written with them in place, and what building them again
# costs per row of the whole table, in microseconds (bench/import.py, a million messages, SQLite, two sorting
# threads): 20 µs a row with them against 5 without, and 2.4 s to build the four over 765,000 rows.
INDEXED_INSERT_MICROSECONDS = 15
INDEX_BUILD_MICROSECONDS = 3


def index_rebuild_is_cheaper(table_rows: int, new_rows: int) -> bool:
    """Whether `new_rows` go in faster with the set-aside indexes dropped and rebuilt over the whole table."""
    return (table_rows + new_rows) * INDEX_BUILD_MICROSECONDS < new_rows * INDEXED_INSERT_MICROSECONDS


class BulkLedger:
    """One team's ledger rows written in bulk, in one transaction, with its rollups rebuilt once at the end.

    `insert` hands encoded rows straight to the driver's executemany and keeps no rollups: rows of
    ACTIVITY_COLUMNS, or what `rows_from` (a `BulkRows` for this team and driver) builds. `finish` rebuilds the
    team's rollups, set-based (`rebuild_rollups`), and must be called before the transaction commits. Cheaper
    than `insert_activities` when the rows are many next to the team's ledger.

    On SQLite, when about `expected_rows` are many next to the whole table, the ledger's unordered indexes are
    dropped until `finish` builds them again. That is DDL inside the import's transaction: a rollback brings
    them back as they were, and readers on other connections keep their snapshot, indexes included.
    """

    def __init__(
        self, session: Session, team_id: str, *, expected_rows: int = 0, rows_from: BulkRows | None = None
    ) -> None:
        self._session = session
        self._team_id = team_id
        self._driver = driver_name(session)
        self._sql = rows_from.insert_sql() if rows_from is not None else _bulk_insert_sql(self._driver)
        self.new_rows = 0
        self._dropped: tuple[Index, ...] = ()
        if session.get_bind().dialect.name == "sqlite" and index_rebuild_is_cheaper(
            session.scalar(select(func.max(Activity.id))) or 0, expected_rows
        ):
            connection = session.connection()
            for index in _SET_ASIDE_INDEXES:
                index.drop(connection)
            self._dropped = _SET_ASIDE_INDEXES
        # On SQLite the rebuild's copy of the ledger is filled batch by batch (RollupFacts.catch_up). Not on
        # PostgreSQL: rows other writers commit meanwhile could take ids below ones already copied.
        self._facts = RollupFacts(session, team_id) if session.get_bind().dialect.name == "sqlite" else None

    def insert(self, rows: Sequence[Sequence[Any]]) -> int:
        """Insert rows, skipping any already stored (same team and source_key); return how many were new."""
        if not rows:
            return 0
        new = self._session.connection().exec_driver_sql(self._sql, list(rows)).rowcount
        self.new_rows += new
        if self._facts is not None and new:
            self._facts.catch_up()
        return new

    def add_reactions(self, rows: Sequence[Sequence[str]]) -> None:
        """Remember emoji on link messages, as tuples of Reaction's columns (no encoding needed: all text)."""
        if rows:
            self._session.connection().exec_driver_sql(_reaction_insert_sql(self._driver), list(rows))

    def finish(self) -> None:
        """Build the dropped indexes again and bring the team's standings rollups up to date (if anything is new).

        SQLite may sort with helper threads meanwhile (`PRAGMA threads`): the readers are done by now, and the
        machine's other cores would otherwise idle through the index builds and the rebuild's GROUP BYs.
        """
        connection = self._session.connection()
        sorting_threads = self._session.get_bind().dialect.name == "sqlite"
        if sorting_threads:
            connection.exec_driver_sql(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
        try:
            for index in self._dropped:
                index.create(connection)
            self._dropped = ()
            if self.new_rows:
                rebuild_rollups(self._session, self._team_id, self._facts)
            elif self._facts is not None:
                self._facts.drop()
            self._facts = None
        finally:
            if sorting_threads:
                connection.exec_driver_sql("PRAGMA threads = 0")
