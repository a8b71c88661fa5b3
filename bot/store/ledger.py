"""Writing and removing ledger rows: the single path every activity takes into and out of the database.

Logged actions, live Slack events, history backfill and export import all insert through
`insert_activities`, so dedupe (the unique (team_id, source_key) index) and anything kept on write
live in one place.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import URL, ColumnElement, delete
from sqlalchemy.orm import Session

from bot.store.models import Activity
from bot.store.rollups import FACT_COLUMNS, apply_rows, rebuild_rollups
from bot.store.upsert import insert_for

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
        apply_rows(session, team_id, facts, +1)
    return sum(map(len, new.values()))


def delete_activities(session: Session, team_id: str, *conditions: ColumnElement[bool]) -> int:
    """Delete the team's rows matching every condition, and take them out of the rollups; return how many went."""
    deleted = session.execute(
        delete(Activity).where(Activity.team_id == team_id, *conditions).returning(*FACT_COLUMNS)
    ).all()
    apply_rows(session, team_id, deleted, -1)
    return len(deleted)


def delete_activity_ids(session: Session, team_id: str, ids: Iterable[int]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    return delete_activities(session, team_id, Activity.id.in_(ids))


# --- bulk writes, without rollups ----------------------------------------------------------------------


def driver_name(session: Session) -> str:
    """The database driver as `row_encoder` takes it (a name, so another process can build its own)."""
    dialect = session.get_bind().dialect
    return f"{dialect.name}+{dialect.driver}"


def row_encoder(driver: str) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """Turn a row of ACTIVITY_COLUMNS values into what the driver is given for them, as SQLAlchemy would bind it.

    Bulk inserts hand rows straight to the driver's executemany; encoding them (dates as text on SQLite,
    UTC for datetimes) can then happen anywhere, for example in the process that reads an export.
    """
    dialect = URL.create(driver).get_dialect()()
    table = Activity.__table__
    processors = [
        (index, processor)
        for index, name in enumerate(ACTIVITY_COLUMNS)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]

    last: list[tuple[Any, Any]] = [(_NOTHING, None)] * len(processors)

    def encode(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for slot, (index, processor) in enumerate(processors):
            value = values[index]
            seen, encoded = last[slot]
            if value != seen:  # neighbouring rows mostly share their day, creation time, privacy
                encoded = processor(value)
                last[slot] = (value, encoded)
            values[index] = encoded
        return tuple(values)

    return encode


_NOTHING = object()


@functools.cache
def _bulk_insert_sql(driver: str) -> str:
    """INSERT ... ON CONFLICT DO NOTHING with positional parameters in ACTIVITY_COLUMNS order, for executemany.

    One row per statement: SQLite prepares it once per executemany, and psycopg pipelines it (in measures,
    faster than a thousand rows per statement).
    """
    marker = "?" if URL.create(driver).get_backend_name() == "sqlite" else "%s"
    return (
        f"INSERT INTO {Activity.__tablename__} ({', '.join(ACTIVITY_COLUMNS)})"
        f" VALUES ({', '.join([marker] * len(ACTIVITY_COLUMNS))}) ON CONFLICT (team_id, source_key) DO NOTHING"
    )


# What inserting a row with its rollups kept on write costs, and what rebuilding the rollups costs per row of
# the team's whole ledger, in microseconds (bench/import.py, SQLite; PostgreSQL is in the same proportion).
ON_WRITE_MICROSECONDS = 140
REBUILD_MICROSECONDS = 18


def bulk_is_cheaper(ledger_rows: int, new_rows: int) -> bool:
    """Whether `new_rows` for a team holding `ledger_rows` go in faster through BulkLedger than insert_activities."""
    return (ledger_rows + new_rows) * REBUILD_MICROSECONDS < new_rows * ON_WRITE_MICROSECONDS


class BulkLedger:
    """One team's ledger rows written in bulk, in one transaction, with its rollups rebuilt once at the end.

    `insert` hands encoded rows (see `row_encoder`) straight to the driver's executemany and keeps no
    rollups; `finish` rebuilds the team's, set-based (`rebuild_rollups`), and must be called before the
    transaction commits. Cheaper than `insert_activities` when the rows are many next to the team's ledger.
    """

    def __init__(self, session: Session, team_id: str) -> None:
        self._session = session
        self._team_id = team_id
        self._sql = _bulk_insert_sql(driver_name(session))
        self.new_rows = 0

    def insert(self, rows: Sequence[Sequence[Any]]) -> int:
        """Insert rows, skipping any already stored (same team and source_key); return how many were new."""
        if not rows:
            return 0
        new = self._session.connection().exec_driver_sql(self._sql, list(rows)).rowcount
        self.new_rows += new
        return new

    def finish(self) -> None:
        """Bring the team's standings rollups up to date with what was inserted (nothing to do if nothing was)."""
        if self.new_rows:
            rebuild_rollups(self._session, self._team_id)
