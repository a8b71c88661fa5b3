"""Standings rollups, kept on write in the same transaction as the ledger rows they sum.

`bot.store.ledger` calls `apply_rows` with every row it really inserted (+1) or deleted (-1), so each writer
(logging, live events, history, export import, opt-out, undo) keeps them right without knowing they exist.
What is kept, and why it adds up exactly, is explained in `bot.coach.totals`; here is only the bookkeeping:

1. the groups the rules work on (given engagement per counterpart and period, likes and follows per local
   day, posts and links per local hour, received pairs per period) are counted with atomic
   `count = count + delta` upserts whose RETURNING gives each group's new counts;
2. each changed group adds `group_sums(new) - group_sums(old)` to its member's totals, for the week, the
   month and all time (`day` is already local to the team's time zone);
3. rows whose counts fall to zero are removed, so a member with nothing left disappears from standings.

The upsert holds the group's row lock until commit, so concurrent writers on PostgreSQL each see their own
old -> new step and never lose an update; keys are written in sorted order so they cannot deadlock.
`rebuild_rollups` recomputes a team's rollups from its ledger through the very same path.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.coach.kinds import GIVEN_KINDS, LIGHT_KINDS, PUSHED_KINDS, Kind, Source
from bot.coach.periods import PeriodName
from bot.coach.totals import BREADTH, COUNT_COLUMNS, LIGHT, PUSHED, RECEIVED_COLUMN, Family, group_sums
from bot.store.models import Activity, RollupCounterpart, RollupDay, RollupHour, RollupReceived, RollupTotals

ALL_START = date(1970, 1, 1)  # the `start` of the one 'all' period

# What the rollups need of a ledger row; ledger.py asks for these in its INSERT/DELETE ... RETURNING.
FACT_COLUMNS = (
    Activity.user_id,
    Activity.kind,
    Activity.day,
    Activity.hour,
    Activity.counterpart,
    Activity.source,
    Activity.channel_id,
    Activity.thread_ts,
)
_MAX_PARAMETERS = 30000  # below SQLite's 32,766 bound parameters per statement
_REBUILD_CHUNK = 50_000

_TOTALS = RollupTotals.__table__
_COUNTERPARTS = RollupCounterpart.__table__
_DAYS = RollupDay.__table__
_HOURS = RollupHour.__table__
_RECEIVED = RollupReceived.__table__

Key = tuple[Any, ...]
Deltas = dict[Key, Counter[str]]


def period_start(period: PeriodName, day: date) -> date:
    """The first local day of the period of that name containing `day` (weeks start on Monday)."""
    if period is PeriodName.WEEK:
        return day - timedelta(days=day.weekday())
    if period is PeriodName.MONTH:
        return day.replace(day=1)
    return ALL_START


def _buckets(day: date) -> tuple[tuple[str, date], ...]:
    return tuple((period.value, period_start(period, day)) for period in PeriodName)


def is_received(
    user_id: str, kind: Kind, source: str, counterpart: str, channel_id: str | None, thread_ts: str | None
) -> bool:
    """Engagement a teammate gave on an item in Slack: what `received` counts (distinct giver and item)."""
    return (
        source == Source.SLACK.value
        and kind in GIVEN_KINDS
        and bool(counterpart)
        and counterpart != user_id
        and bool(channel_id)
        and bool(thread_ts)
    )


def apply_rows(session: Session, team_id: str, rows: Iterable[Sequence[Any]], sign: int) -> None:
    """Add (+1) or remove (-1) ledger rows, given as tuples of `FACT_COLUMNS`, to the team's rollups."""
    counterparts: Deltas = defaultdict(Counter)
    days: Deltas = defaultdict(Counter)
    hours: Deltas = defaultdict(Counter)
    received: Deltas = defaultdict(Counter)
    totals: Deltas = defaultdict(Counter)
    for user_id, kind_name, day, hour, counterpart, source, channel_id, thread_ts in rows:
        kind = Kind(kind_name)
        column = COUNT_COLUMNS[kind]
        buckets = _buckets(day)
        for bucket in buckets:
            totals[(*bucket, user_id)][column] += sign
        if kind in LIGHT_KINDS:
            days[(user_id, day)][column] += sign
        elif kind in PUSHED_KINDS:
            hours[(user_id, day, hour)][column] += sign
        else:
            for bucket in buckets:
                counterparts[(user_id, *bucket, counterpart)][column] += sign
        if is_received(user_id, kind, source, counterpart, channel_id, thread_ts):
            for bucket in buckets:
                received[(*bucket, counterpart, user_id, channel_id, thread_ts)]["count"] += sign
    if not totals:
        return

    for (user_id, period, start, counterpart), new, old in _count(session, team_id, _COUNTERPARTS, counterparts):
        change = _group_change(BREADTH, new, old, unknown=counterpart == "")
        totals[(period, start, user_id)].update(change)
    for family, table, deltas in ((LIGHT, _DAYS, days), (PUSHED, _HOURS, hours)):
        for (user_id, day, *_hour), new, old in _count(session, team_id, table, deltas):
            change = _group_change(family, new, old)
            for bucket in _buckets(day):
                totals[(*bucket, user_id)].update(change)
    for (period, start, user_id, *_pair), new, old in _count(session, team_id, _RECEIVED, received):
        if bool(new["count"]) != bool(old["count"]):
            totals[(period, start, user_id)][RECEIVED_COLUMN] += 1 if new["count"] else -1
    _count(session, team_id, _TOTALS, totals)


def _group_change(family: Family, new: Mapping[str, int], old: Mapping[str, int], *, unknown: bool = False) -> Counter:
    """How one group's change of counts moves its member's subset sums."""
    before = group_sums(family, _by_kind(old), unknown=unknown)
    after = group_sums(family, _by_kind(new), unknown=unknown)
    return Counter({name: after[name] - before[name] for name in after if after[name] != before[name]})


def _by_kind(counts: Mapping[str, int]) -> dict[Kind, int]:
    return {kind: counts[column] for kind, column in COUNT_COLUMNS.items() if column in counts}


def _key_columns(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


def _count(
    session: Session, team_id: str, table: Table, deltas: Deltas
) -> list[tuple[Key, dict[str, int], dict[str, int]]]:
    """Add `deltas` to the table's counters; return (key without team, new counts, old counts) per row.

    Rows left with nothing but zeros are deleted: an empty group or member has nothing to say.
    """
    keys = _key_columns(table)[1:]
    counters = [column.name for column in table.columns if column.name not in keys and column.name != "team_id"]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["team_id", *keys],
        set_={name: table.c[name] + statement.excluded[name] for name in counters},
    ).returning(*(table.c[name] for name in (*keys, *counters)))
    # Sorted, so every writer takes row locks in one order and concurrent transactions cannot deadlock.
    values = [
        {"team_id": team_id, **dict(zip(keys, key, strict=True)), **{name: delta[name] for name in counters}}
        for key, delta in sorted(deltas.items())
    ]
    changes: list[tuple[Key, dict[str, int], dict[str, int]]] = []
    emptied: list[Key] = []
    if not values:
        return changes
    # One cached statement, many parameter sets: SQLAlchemy batches them into multi-row VALUES with RETURNING.
    for row in session.execute(statement, values):
        key = tuple(row[: len(keys)])
        new = dict(zip(counters, row[len(keys) :], strict=True))
        delta = deltas[key]
        changes.append((key, new, {name: value - delta[name] for name, value in new.items()}))
        if not any(new.values()):
            emptied.append(key)
    batch = max(1, _MAX_PARAMETERS // len(keys))
    for begin in range(0, len(emptied), batch):
        session.execute(
            delete(table).where(
                table.c.team_id == team_id,
                tuple_(*(table.c[name] for name in keys)).in_(emptied[begin : begin + batch]),
            )
        )
    return changes


ROLLUP_TABLES = (_TOTALS, _COUNTERPARTS, _DAYS, _HOURS, _RECEIVED)


def rebuild_rollups(session: Session, team_id: str) -> int:
    """Recompute a team's rollups from its ledger (a safety net after a manual fix); return rows summed."""
    for table in ROLLUP_TABLES:
        session.execute(delete(table).where(table.c.team_id == team_id))
    done, last_id = 0, None
    while True:
        statement = select(Activity.id, *FACT_COLUMNS).where(Activity.team_id == team_id)
        if last_id is not None:
            statement = statement.where(Activity.id > last_id)
        chunk = session.execute(statement.order_by(Activity.id).limit(_REBUILD_CHUNK)).all()
        if not chunk:
            return done
        apply_rows(session, team_id, (row[1:] for row in chunk), +1)
        done += len(chunk)
        last_id = chunk[-1][0]
