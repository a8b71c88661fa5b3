"""Reading the standings: the rollups (one row of sums per member and period), and who may be named.

The rollups are kept on write (`bot.store.rollups`); only `member_tallies` and `member_received` read the
ledger, for one member over a window no rollup covers. These queries take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.coach.kinds import Kind
from bot.coach.periods import Period, PeriodName
from bot.coach.scoring import Tally
from bot.coach.totals import COUNTERS, RECEIVED_COLUMN, MemberTotals
from bot.store.models import Activity, Member, RollupTotals
from bot.store.rollups import ALL_START, distinct_pairs, period_end, received_in_sql

_TOTALS = RollupTotals.__table__
_RECEIVED_INDEX = COUNTERS.index(RECEIVED_COLUMN)


def bucket_of(period: Period, timezone: str) -> tuple[PeriodName, date]:
    """The rollup key of a calendar period: its name and its first local day in the team's time zone."""
    if period.name is PeriodName.ALL:
        return period.name, ALL_START
    return period.name, period.start.astimezone(ZoneInfo(timezone)).date()


def member_totals(
    session: Session,
    team_id: str,
    period: PeriodName,
    start: date,
    *,
    opted_out: Collection[str] = (),
    user_ids: Collection[str] | None = None,
) -> list[MemberTotals]:
    """Every member's totals for the period (or only `user_ids`'), not counting what `opted_out` members gave."""
    statement = select(_TOTALS.c.user_id, *(_TOTALS.c[name] for name in COUNTERS)).where(
        _TOTALS.c.team_id == team_id, _TOTALS.c.period == period.value, _TOTALS.c.start == start
    )
    if user_ids is not None:
        statement = statement.where(_TOTALS.c.user_id.in_(list(user_ids)))
    totals = [MemberTotals(row[0], tuple(row[1:])) for row in session.connection().execute(statement).all()]
    unwelcome = _received_from(session, team_id, period, start, opted_out) if opted_out else {}
    if not unwelcome:
        return totals
    return [_less_received(member, unwelcome.get(member.user_id, 0)) for member in totals]


def _less_received(member: MemberTotals, n: int) -> MemberTotals:
    if not n:
        return member
    counters = list(member.counters)
    counters[_RECEIVED_INDEX] -= n
    return MemberTotals(member.user_id, tuple(counters))


def _received_from(
    session: Session, team_id: str, period: PeriodName, start: date, givers: Collection[str]
) -> dict[str, int]:
    """Received pairs that `givers` gave in the period, per receiver, from their ledger rows (opt-outs are few)."""
    ledger = Activity.__table__
    pairs = select(ledger.c.counterpart, distinct_pairs(ledger)).where(
        ledger.c.team_id == team_id, ledger.c.user_id.in_(list(givers)), *received_in_sql(ledger)
    )
    if period is not PeriodName.ALL:
        pairs = pairs.where(ledger.c.day >= start, ledger.c.day < period_end(period, start))
    rows = session.execute(pairs.group_by(ledger.c.counterpart))
    return {user_id: n for user_id, n in rows}


@dataclass(frozen=True)
class Unnamed:
    """Members the bot never names: opted out (who also no longer count), deactivated, or bots."""

    opted_out: frozenset[str]
    everyone: frozenset[str]  # opted_out plus deactivated members and bots


def unnamed_members(session: Session, team_id: str) -> Unnamed:
    """Who must never be named on a board or in a list of links, in one read of the (few) flagged members."""
    rows = session.execute(
        select(Member.user_id, Member.opted_out).where(
            Member.team_id == team_id, or_(Member.opted_out, Member.is_deleted, Member.is_bot)
        )
    ).all()
    return Unnamed(
        opted_out=frozenset(user_id for user_id, opted_out in rows if opted_out),
        everyone=frozenset(user_id for user_id, _ in rows),
    )


def member_tallies(session: Session, team_id: str, user_id: str, start: datetime, until: datetime) -> list[Tally]:
    """One member's actions from `start` up to and including `until` as the scoring's aggregate rows.

    For windows no rollup covers (last week up to the same moment as now); a member's week is a few rows.
    """
    count = func.count().label("n")
    rows = session.execute(
        select(Activity.kind, Activity.day, Activity.hour, Activity.counterpart, count)
        .where(
            Activity.team_id == team_id,
            Activity.user_id == user_id,
            Activity.occurred_at >= start,
            Activity.occurred_at <= until,
        )
        .group_by(Activity.kind, Activity.day, Activity.hour, Activity.counterpart)
    )
    return [Tally(user_id, Kind(kind), day, hour, counterpart, n) for kind, day, hour, counterpart, n in rows]


def member_received(
    session: Session, team_id: str, user_id: str, start: datetime, until: datetime, *, opted_out: Collection[str] = ()
) -> int:
    """Distinct (teammate, item) pairs of engagement the member received in Slack from `start` to `until`.

    The same pairs the rollups count (`bot.store.rollups.is_received`), not counting what `opted_out` gave.
    """
    ledger = Activity.__table__
    pairs = select(distinct_pairs(ledger)).where(
        ledger.c.team_id == team_id,
        ledger.c.counterpart == user_id,
        ledger.c.occurred_at >= start,
        ledger.c.occurred_at <= until,
        *received_in_sql(ledger),
    )
    if opted_out:
        pairs = pairs.where(ledger.c.user_id.not_in(list(opted_out)))
    return session.scalar(pairs) or 0
