"""Reading the standings rollups: one row of sums per member and period, never the ledger row by row.

The rollups are kept on write (`bot.store.rollups`); these queries take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.coach.periods import Period, PeriodName
from bot.coach.totals import COUNTERS, RECEIVED_COLUMN, MemberTotals
from bot.store.models import Activity, Member, RollupReceived, RollupTotals
from bot.store.rollups import ALL_START

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
    """Received pairs that `givers` gave, per receiver (on the (team_id, giver) index: opt-outs are few)."""
    rows = session.execute(
        select(RollupReceived.user_id, func.count())
        .where(
            RollupReceived.team_id == team_id,
            RollupReceived.giver.in_(list(givers)),
            RollupReceived.period == period.value,
            RollupReceived.start == start,
        )
        .group_by(RollupReceived.user_id)
    )
    return {user_id: n for user_id, n in rows}


def opted_out_members(session: Session, team_id: str) -> frozenset[str]:
    """Members who asked to be left out of everything the bot shows."""
    rows = session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.opted_out.is_(True)))
    return frozenset(rows)


def private_channels_of(session: Session, team_id: str, user_id: str) -> frozenset[str]:
    """Private channels the member has been active in: the ones whose links we may show them."""
    # No DISTINCT: it would tempt SQLite into walking the channel index; a member's rows are few.
    rows = session.scalars(
        select(Activity.channel_id).where(
            Activity.team_id == team_id, Activity.user_id == user_id, Activity.is_private.is_(True)
        )
    )
    return frozenset(channel for channel in rows if channel)
