"""Standings rollups, kept on write in the same transaction as the ledger rows they sum.

`bot.store.ledger` calls `apply_rows` with every row it really inserted (+1) or deleted (-1), so each writer
(logging, live events, history, export import, opt-out, undo) keeps them right without knowing they exist.
What is kept, and why it adds up exactly, is explained in `bot.coach.totals`; here is only the bookkeeping:

1. the groups the rules work on (given engagement per counterpart and period, likes and follows per local
   day, posts and links per local hour, received (teammate, item) pairs) are counted with atomic
   `count = count + delta` upserts whose RETURNING gives each group's new counts;
2. each changed group adds `group_sums(new) - group_sums(old)` to its member's totals, for the week, the
   month and all time (`day` is already local to the team's time zone); a changed received pair reads the
   days of its own ledger rows to tell which weeks and months it entered or left, after its upsert, so a
   second writer of the same pair waits for the first and then sees its rows;
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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    DateTime,
    MetaData,
    Select,
    String,
    Table,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal_column,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.coach.kinds import GIVEN_KINDS, LIGHT_KINDS, PUSHED_KINDS, Kind, Source
from bot.coach.periods import PeriodName
from bot.coach.totals import BREADTH, COUNT_COLUMNS, COUNTERS, LIGHT, PUSHED, RECEIVED_COLUMN, Family, group_sums
from bot.store.models import Activity, RollupCounterpart, RollupDay, RollupHour, RollupReceivedPair, RollupTotals
from bot.store.planner import not_an_index_term

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
_RECEIVED = RollupReceivedPair.__table__

Key = tuple[Any, ...]
Deltas = dict[Key, Counter[str]]


def period_start(period: PeriodName, day: date) -> date:
    """The first local day of the period of that name containing `day` (weeks start on Monday)."""
    if period is PeriodName.WEEK:
        return day - timedelta(days=day.weekday())
    if period is PeriodName.MONTH:
        return day.replace(day=1)
    return ALL_START


def period_end(period: PeriodName, start: date) -> date:
    """The day after the last local day of the week or month that begins on `start`."""
    if period is PeriodName.WEEK:
        return start + timedelta(days=7)
    if period is PeriodName.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    raise ValueError("all time has no end")


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
    apply_changes(session, team_id, ((row, sign) for row in rows))


def apply_changes(session: Session, team_id: str, changes: Iterable[tuple[Sequence[Any], int]]) -> None:
    """Apply ledger rows added (+1) and removed (-1), in any mix, to the team's rollups: deltas summed, one pass.

    The ledger writer hands a whole batch of events here at once, so each touched group is upserted once per
    batch however many events moved it; a row added and removed in the same batch cancels out.
    """
    counterparts: Deltas = defaultdict(Counter)
    days: Deltas = defaultdict(Counter)
    hours: Deltas = defaultdict(Counter)
    received: Deltas = defaultdict(Counter)
    received_days: dict[Key, Counter[date]] = defaultdict(Counter)
    totals: Deltas = defaultdict(Counter)
    for (user_id, kind_name, day, hour, counterpart, source, channel_id, thread_ts), sign in changes:
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
            pair = (counterpart, user_id, channel_id, thread_ts)
            received[pair]["count"] += sign
            received_days[pair][day] += sign
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
    _count(session, team_id, _RECEIVED, received)  # first: it queues this writer behind others of the same pairs
    for (receiver, *_pair), bucket, change in _received_changes(session, team_id, received_days):
        totals[(*bucket, receiver)][RECEIVED_COLUMN] += change
    _count(session, team_id, _TOTALS, totals)


def _received_changes(
    session: Session, team_id: str, changed: Mapping[Key, Counter[date]]
) -> Iterator[tuple[Key, tuple[str, date], int]]:
    """Which periods each changed pair entered (+1) or left (-1), as (pair, (period, start), change).

    A pair counts in a week or month while any of its ledger rows falls in it. The ledger already holds this
    transaction's change, so the days before it are the days now less `changed` (signed counts per day).
    """
    days_now = _received_days(session, team_id, changed)
    for pair, change in changed.items():
        now = days_now.get(pair, Counter())
        after = {day for day, n in now.items() if n > 0}
        before = {day for day in now.keys() | change.keys() if now[day] - change[day] > 0}
        for period in PeriodName:
            was = {period_start(period, day) for day in before}
            is_now = {period_start(period, day) for day in after}
            for start in is_now - was:
                yield pair, (period.value, start), +1
            for start in was - is_now:
                yield pair, (period.value, start), -1


def _received_days(session: Session, team_id: str, pairs: Collection[Key]) -> dict[Key, Counter[date]]:
    """The days of each pair's received rows in the ledger, counted (on the (team, channel, thread) index)."""
    ledger = _LEDGER
    items = sorted({(channel_id, thread_ts) for _receiver, _giver, channel_id, thread_ts in pairs})
    found: dict[Key, Counter[date]] = defaultdict(Counter)
    batch = _MAX_PARAMETERS // 2
    for begin in range(0, len(items), batch):
        rows = session.execute(
            select(ledger.c.counterpart, ledger.c.user_id, ledger.c.channel_id, ledger.c.thread_ts, ledger.c.day).where(
                ledger.c.team_id == team_id,
                tuple_(ledger.c.channel_id, ledger.c.thread_ts).in_(items[begin : begin + batch]),
                *received_in_sql(ledger),
            )
        )
        for receiver, giver, channel_id, thread_ts, day in rows:
            pair = (receiver, giver, channel_id, thread_ts)
            if pair in pairs:
                found[pair][day] += 1
    return found


def received_in_sql(ledger: Table) -> tuple[ColumnElement[bool], ...]:
    """`is_received`, in SQL."""
    return (
        ledger.c.source == Source.SLACK.value,
        ledger.c.kind.in_([kind.value for kind in GIVEN_KINDS]),
        ledger.c.counterpart != _sql(""),
        ledger.c.counterpart != ledger.c.user_id,
        ledger.c.channel_id.is_not(None),
        ledger.c.channel_id != _sql(""),
        ledger.c.thread_ts.is_not(None),
        ledger.c.thread_ts != _sql(""),
    )


def _group_change(family: Family, new: Mapping[str, int], old: Mapping[str, int], *, unknown: bool = False) -> Counter:
    """How one group's change of counts moves its member's subset sums."""
    before = group_sums(family, _by_kind(old), unknown=unknown)
    after = group_sums(family, _by_kind(new), unknown=unknown)
    return Counter({name: after[name] - before[name] for name in after if after[name] != before[name]})


def _by_kind(counts: Mapping[str, int]) -> dict[Kind, int]:
    return {kind: counts[column] for kind, column in COUNT_COLUMNS.items() if column in counts}


def _key_columns(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


@functools.cache
def _key_and_counter_columns(table: Table) -> tuple[list[str], list[str]]:
    keys = _key_columns(table)[1:]
    return keys, [column.name for column in table.columns if column.name not in keys and column.name != "team_id"]


@functools.cache
def _count_statement(dialect: str, table: Table) -> Any:
    """The table's `count = count + delta` upsert with RETURNING, built once per process (not once per write)."""
    keys, counters = _key_and_counter_columns(table)
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    return statement.on_conflict_do_update(
        index_elements=["team_id", *keys],
        set_={name: table.c[name] + statement.excluded[name] for name in counters},
    ).returning(*(table.c[name] for name in (*keys, *counters)))


def _count(
    session: Session, team_id: str, table: Table, deltas: Deltas
) -> list[tuple[Key, dict[str, int], dict[str, int]]]:
    """Add `deltas` to the table's counters; return (key without team, new counts, old counts) per row.

    Rows left with nothing but zeros are deleted: an empty group or member has nothing to say.
    """
    keys, counters = _key_and_counter_columns(table)
    statement = _count_statement(session.get_bind().dialect.name, table)
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


class RollupFacts:
    """A narrow temporary copy of a team's ledger (FACT_COLUMNS): what the rebuild's GROUP BYs scan.

    The ledger is read once, into this table, rather than once per GROUP BY. A bulk writer on SQLite makes it
    before writing and copies each batch as soon as it is written (`catch_up`), while the batch's pages are
    still in SQLite's cache: copied at the end, after the index builds, the same rows were read back from
    the OS, 0.5-1.6 s for a million messages instead of 0.4 CPU-seconds spread over the writing. `complete`
    copies the rest, so the table holds the team's whole ledger either way. It lives for the transaction
    (SQLite rolls a temporary table back with it); `drop` removes it when the rebuild is done.
    """

    def __init__(self, session: Session, team_id: str) -> None:
        self._session = session
        self._team_id = team_id
        self.table = Table(
            "rollup_facts",
            MetaData(),
            *(Column(column.name, column.type) for column in (_LEDGER.c.team_id, *FACT_COLUMNS)),
            prefixes=["TEMPORARY"],
        )
        self.table.create(session.connection())
        self._before = self._copied = self._last_id()  # rows up to _before were there before; copied above it

    def _last_id(self) -> int:
        return self._session.scalar(select(func.max(_LEDGER.c.id))) or 0

    def _copy(self, *conditions: ColumnElement[bool]) -> None:
        self._session.execute(
            insert(self.table).from_select(
                [column.name for column in self.table.columns],
                select(_LEDGER.c.team_id, *FACT_COLUMNS).where(*conditions),
            )
        )

    def catch_up(self) -> None:
        """Copy the team's rows written since the last copy (ids only grow while one writer holds the ledger)."""
        last = self._last_id()
        if last > self._copied:
            self._copy(
                not_an_index_term(_LEDGER.c.team_id) == self._team_id, _LEDGER.c.id.between(self._copied + 1, last)
            )
            self._copied = last

    def complete(self) -> None:
        """Copy what is not copied yet: the rows there before this table was made, and any written since."""
        self._copy(_LEDGER.c.team_id == self._team_id, _LEDGER.c.id <= self._before)
        self.catch_up()

    def drop(self) -> None:
        self.table.drop(self._session.connection())


def rebuild_rollups(session: Session, team_id: str, facts: RollupFacts | None = None) -> int:
    """Recompute a team's rollups from its ledger, set-based; return how many ledger rows they sum.

    The team's ledger is read once into a narrow temporary table (`RollupFacts`; a bulk writer may pass the
    one it filled as it wrote), from which the database counts the groups straight into their tables (six
    INSERT ... SELECT ... GROUP BY, whatever the ledger's size); each member's totals then come from those
    groups, read grouped again by their counts, so the pure `group_sums` runs once per distinct group
    shape, not once per row.
    The safety net after a manual fix, and how bulk writers (`ledger.BulkLedger`) finish. On PostgreSQL the
    ledger is locked against other writers until commit: their rollup updates would otherwise land between
    these statements and be counted twice or lost.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text(f"LOCK TABLE {_LEDGER.name} IN SHARE MODE"))
    for table in ROLLUP_TABLES:
        session.execute(delete(table).where(table.c.team_id == team_id))
    if facts is None:
        facts = RollupFacts(session, team_id)
    facts.complete()
    _count_groups(session, facts.table, dialect)
    received = _received_per_period(session, facts.table, team_id, dialect)
    facts.drop()
    totals = _totals_of_groups(session, team_id, dialect, received)
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
    pair = (ledger.c.team_id, ledger.c.counterpart, ledger.c.user_id, ledger.c.channel_id, ledger.c.thread_ts)
    fill(
        _RECEIVED,
        ["team_id", "user_id", "giver", "channel_id", "thread_ts", "count"],
        select(*pair, func.count()).where(*received_in_sql(ledger)).group_by(*pair),
    )


def _received_per_period(
    session: Session, ledger: Table, team_id: str, dialect: str
) -> list[tuple[str, date, str, int]]:
    """How many distinct received pairs each member has per period, as (period, start, member, pairs).

    All time is the pairs table's count per member; weeks and months are counted from the ledger's rows.
    """
    found: list[tuple[str, date, str, int]] = [
        (PeriodName.ALL.value, ALL_START, user_id, pairs)
        for user_id, pairs in session.execute(
            select(_RECEIVED.c.user_id, func.count())
            .where(_RECEIVED.c.team_id == team_id)
            .group_by(_RECEIVED.c.user_id)
        )
    ]
    for period in (PeriodName.WEEK, PeriodName.MONTH):
        start = _start_of(period, ledger.c.day, dialect)
        found.extend(
            (period.value, first_day, user_id, pairs)
            for user_id, first_day, pairs in session.execute(
                select(ledger.c.counterpart, start, distinct_pairs(ledger))
                .where(*received_in_sql(ledger))
                .group_by(ledger.c.counterpart, start)
            )
        )
    return found


def _totals_of_groups(
    session: Session, team_id: str, dialect: str, received: Iterable[tuple[str, date, str, int]]
) -> Totals:
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
    one_pair = ((COUNTERS.index(RECEIVED_COLUMN), 1),)
    for period, start, user_id, pairs in received:
        add(period, start, user_id, one_pair, pairs)
    return totals


@functools.lru_cache(maxsize=4096)
def _contributions(
    family: Family, columns: tuple[str, ...], counts: tuple[int, ...], unknown: bool = False
) -> tuple[tuple[int, int], ...]:
    """What one group with these counts adds to its member's totals, as (index in COUNTERS, value) pairs."""
    by_kind = {_KIND_OF_COLUMN[column]: n for column, n in zip(columns, counts, strict=True)}
    sums = {COUNT_COLUMNS[kind]: n for kind, n in by_kind.items()} | group_sums(family, by_kind, unknown=unknown)
    return tuple((COUNTERS.index(name), value) for name, value in sums.items() if value)


def distinct_pairs(ledger: Table) -> ColumnElement[int]:
    """How many distinct (giver, channel, thread) the group's received rows hold: its receiver's pairs.

    count(DISTINCT) over one string per row keeps a small set per group, where a DISTINCT over the columns
    sorts every row and then groups them again (on a big import, 2-3 s against 0.3-0.5).
    """
    return func.count(distinct(_joined(ledger.c.user_id, ledger.c.channel_id, ledger.c.thread_ts)))


def _joined(*columns: ColumnElement[Any]) -> ColumnElement[Any]:
    """The columns as one string that tells them apart: each but the last prefixed by its length, as `4:abcd`."""
    joined: ColumnElement[Any] = columns[-1]
    for column in reversed(columns[:-1]):
        joined = cast(func.length(column), String) + literal_column("':'", String) + column + joined
    return joined


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
