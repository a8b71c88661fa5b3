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

That costs about 100 µs per row: fine for live traffic, far too slow for a million imported messages.
`rebuild_rollups` recomputes a team's rollups set-based instead (SQL GROUP BYs straight into the group
tables, then `group_sums` once per distinct group shape), for about 18 µs per row of the team's ledger.
Bulk writers insert without rollups and rebuild once (`bot.store.ledger.BulkLedger`); property tests hold
the rebuild and the rollups kept on write to each other.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    DateTime,
    MetaData,
    Select,
    Table,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session

from bot.coach.kinds import GIVEN_KINDS, LIGHT_KINDS, PUSHED_KINDS, Kind, Source
from bot.coach.periods import PeriodName
from bot.coach.totals import BREADTH, COUNT_COLUMNS, COUNTERS, LIGHT, PUSHED, RECEIVED_COLUMN, Family, group_sums
from bot.store.models import Activity, RollupCounterpart, RollupDay, RollupHour, RollupReceived, RollupTotals
from bot.store.upsert import insert_for

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
    insert = insert_for(session)
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
_LEDGER = Activity.__table__
_KIND_OF_COLUMN = {column: kind for kind, column in COUNT_COLUMNS.items()}
_RAW_COUNTS = tuple(COUNTERS.index(column) for column in COUNT_COLUMNS.values())

Totals = dict[tuple[str, date, str], list[int]]  # (period, start, member) -> sums in COUNTERS order
_TOTALS_BATCH = 500


def rebuild_rollups(session: Session, team_id: str) -> int:
    """Recompute a team's rollups from its ledger, set-based; return how many ledger rows they sum.

    The team's ledger is read once into a narrow temporary table, from which the database counts the groups
    straight into their tables (eight INSERT ... SELECT ... GROUP BY, whatever the ledger's size); each
    member's totals then come from those groups, read grouped again by their counts, so the pure
    `group_sums` runs once per distinct group shape, not once per row.
    The safety net after a manual fix, and how bulk writers (`ledger.BulkLedger`) finish. On PostgreSQL the
    ledger is locked against other writers until commit: their rollup updates would otherwise land between
    these statements and be counted twice or lost.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text(f"LOCK TABLE {_LEDGER.name} IN SHARE MODE"))
    for table in ROLLUP_TABLES:
        session.execute(delete(table).where(table.c.team_id == team_id))
    # The ledger is read once, into a narrow temporary table that the GROUP BYs then scan: on SQLite a big
    # import's pages sit in the write-ahead log, where every page read costs more the longer the log is.
    facts = Table(
        "rollup_facts",
        MetaData(),
        *(Column(column.name, column.type) for column in (_LEDGER.c.team_id, *FACT_COLUMNS)),
        prefixes=["TEMPORARY"],
    )
    facts.create(session.connection())
    session.execute(
        insert(facts).from_select(
            [column.name for column in facts.columns],
            select(_LEDGER.c.team_id, *FACT_COLUMNS).where(_LEDGER.c.team_id == team_id),
        )
    )
    _count_groups(session, facts, dialect)
    facts.drop(session.connection())
    totals = _totals_of_groups(session, team_id, dialect)
    keys = sorted(totals)
    for begin in range(0, len(keys), _TOTALS_BATCH):  # in batches: a row is ~60 columns
        session.execute(
            insert(_TOTALS),
            [
                {"team_id": team_id, "period": period, "start": start, "user_id": user_id}
                | dict(zip(COUNTERS, totals[(period, start, user_id)], strict=True))
                for period, start, user_id in keys[begin : begin + _TOTALS_BATCH]
            ],
        )
    return sum(
        sums[i] for (period, _, _), sums in totals.items() if period == PeriodName.ALL.value for i in _RAW_COUNTS
    )


def _count_groups(session: Session, ledger: Table, dialect: str) -> None:
    """Fill the group tables from a team's ledger rows (FACT_COLUMNS), each group's rows in primary-key order."""

    def fill(table: Table, columns: list[str], groups: Select[Any]) -> None:
        session.execute(insert(table).from_select(columns, groups))

    counters = _counters(_COUNTERPARTS)
    for period in PeriodName:
        start = _start_of(period, ledger.c.day, dialect)
        fill(
            _COUNTERPARTS,
            ["team_id", "user_id", "start", "counterpart", *counters, "period"],
            select(
                ledger.c.team_id,
                ledger.c.user_id,
                start,
                ledger.c.counterpart,
                *(_counted(ledger, column) for column in counters),
            )
            .add_columns(_sql(period.value))
            .where(ledger.c.kind.in_([kind.value for kind in BREADTH.kinds]))
            .group_by(ledger.c.team_id, ledger.c.user_id, start, ledger.c.counterpart),
        )
    for table, family, keys in (
        (_DAYS, LIGHT, (ledger.c.team_id, ledger.c.user_id, ledger.c.day)),
        (_HOURS, PUSHED, (ledger.c.team_id, ledger.c.user_id, ledger.c.day, ledger.c.hour)),
    ):
        counters = _counters(table)
        fill(
            table,
            [column.name for column in keys] + counters,
            select(*keys, *(_counted(ledger, column) for column in counters))
            .where(ledger.c.kind.in_([kind.value for kind in family.kinds]))
            .group_by(*keys),
        )
    received = (  # is_received, in SQL
        ledger.c.source == Source.SLACK.value,
        ledger.c.kind.in_([kind.value for kind in GIVEN_KINDS]),
        ledger.c.counterpart != _sql(""),
        ledger.c.counterpart != ledger.c.user_id,
        ledger.c.channel_id.is_not(None),
        ledger.c.channel_id != _sql(""),
        ledger.c.thread_ts.is_not(None),
        ledger.c.thread_ts != _sql(""),
    )
    for period in PeriodName:
        start = _start_of(period, ledger.c.day, dialect)
        keys = (ledger.c.team_id, start, ledger.c.counterpart, ledger.c.user_id, ledger.c.channel_id)
        fill(
            _RECEIVED,
            ["team_id", "start", "user_id", "giver", "channel_id", "thread_ts", "count", "period"],
            select(*keys, ledger.c.thread_ts, func.count(), _sql(period.value))
            .where(*received)
            .group_by(*keys, ledger.c.thread_ts),
        )


def _totals_of_groups(session: Session, team_id: str, dialect: str) -> Totals:
    """Each member's totals per period: the groups' counts and `group_sums`, times how many groups share them."""
    totals: Totals = {}

    def add(period: str, start: date, user_id: str, contributions: tuple[tuple[int, int], ...], times: int) -> None:
        sums = totals.get((period, start, user_id))
        if sums is None:
            sums = totals[(period, start, user_id)] = [0] * len(COUNTERS)
        for index, value in contributions:
            sums[index] += value * times

    table = _COUNTERPARTS
    counters = tuple(_counters(table))
    shape = (*(table.c[name] for name in counters), table.c.counterpart == _sql(""))  # '' is an unknown counterpart
    for user_id, period, start, *counts, unknown, times in session.execute(
        select(table.c.user_id, table.c.period, table.c.start, *shape, func.count())
        .where(table.c.team_id == team_id)
        .group_by(table.c.user_id, table.c.period, table.c.start, *shape)
    ):
        add(period, start, user_id, _contributions(BREADTH, counters, tuple(counts), bool(unknown)), times)
    for table, family in ((_DAYS, LIGHT), (_HOURS, PUSHED)):
        counters = tuple(_counters(table))
        for period in PeriodName:
            start = _start_of(period, table.c.day, dialect)
            counts = [table.c[name] for name in counters]
            for user_id, first_day, *values, times in session.execute(
                select(table.c.user_id, start, *counts, func.count())
                .where(table.c.team_id == team_id)
                .group_by(table.c.user_id, start, *counts)
            ):
                add(period.value, first_day, user_id, _contributions(family, counters, tuple(values)), times)
    received = ((COUNTERS.index(RECEIVED_COLUMN), 1),)
    for period, start, user_id, pairs in session.execute(
        select(_RECEIVED.c.period, _RECEIVED.c.start, _RECEIVED.c.user_id, func.count())
        .where(_RECEIVED.c.team_id == team_id)
        .group_by(_RECEIVED.c.period, _RECEIVED.c.start, _RECEIVED.c.user_id)
    ):
        add(period, start, user_id, received, pairs)
    return totals


@functools.lru_cache(maxsize=4096)
def _contributions(
    family: Family, columns: tuple[str, ...], counts: tuple[int, ...], unknown: bool = False
) -> tuple[tuple[int, int], ...]:
    """What one group with these counts adds to its member's totals, as (index in COUNTERS, value) pairs."""
    by_kind = {_KIND_OF_COLUMN[column]: n for column, n in zip(columns, counts, strict=True)}
    sums = {COUNT_COLUMNS[kind]: n for kind, n in by_kind.items()} | group_sums(family, by_kind, unknown=unknown)
    return tuple((COUNTERS.index(name), value) for name, value in sums.items() if value)


def _sql(literal: str) -> ColumnElement[Any]:
    """A constant written into the statement rather than bound, so SELECT and GROUP BY name the same expression."""
    return literal_column("'" + literal.replace("'", "''") + "'")


def _start_of(period: PeriodName, day: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The first local day of `period` containing `day`, in SQL (period_start's twin)."""
    if period is PeriodName.ALL:
        start: ColumnElement[Any] = (
            literal_column(f"DATE '{ALL_START.isoformat()}'")
            if dialect == "postgresql"
            else _sql(ALL_START.isoformat())
        )
    elif dialect == "postgresql":
        start = cast(func.date_trunc(_sql(period.value), cast(day, DateTime)), Date)
    elif period is PeriodName.WEEK:
        start = func.date(day, _sql("-6 days"), _sql("weekday 1"))  # back to the Monday on or before
    else:
        start = func.date(day, _sql("start of month"))
    return type_coerce(start, Date)


def _counted(ledger: Table, column: str) -> ColumnElement[Any]:
    """How many of the group's ledger rows are of the kind `column` counts."""
    return func.count(case((ledger.c.kind == _KIND_OF_COLUMN[column].value, literal_column("1"))))


def _counters(table: Table) -> list[str]:
    return [column.name for column in table.columns if column.name.startswith("n_")]
