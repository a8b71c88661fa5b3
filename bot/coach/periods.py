"""Calendar periods in a team's time zone: "week" starts on Monday, "month" on the 1st, "all" is everything.

Tallies, leaderboards and summaries all ask "which instants belong to this period?"; the answer is a
half-open UTC interval so the store can filter with a plain range on an indexed timestamp column.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


class PeriodName(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware UTC datetimes, with the name it was asked for."""

    name: PeriodName
    start: datetime
    end: datetime


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_containing(name: PeriodName | str, now: datetime, timezone: str) -> Period:
    """Return the calendar period called `name` that contains `now` in `timezone` (an IANA name)."""
    name = PeriodName(name)
    if name is PeriodName.ALL:
        return Period(name, EPOCH, FAR_FUTURE)
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    if name is PeriodName.WEEK:
        first = today - timedelta(days=today.weekday())
        after = first + timedelta(days=7)
    else:
        first = today.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    return Period(name, _local_midnight(first, zone), _local_midnight(after, zone))


def previous_period(period: Period, timezone: str) -> Period:
    """Return the period of the same name just before `period` (for trends: this week vs last week)."""
    if period.name is PeriodName.ALL:
        return period
    return period_containing(period.name, period.start - timedelta(microseconds=1), timezone)
