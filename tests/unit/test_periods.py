"""Calendar periods in the team's time zone: weeks start on Monday, months on the 1st."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.coach.periods import PeriodName, period_containing, previous_period


def test_week_starts_monday_midnight_in_the_team_zone() -> None:
    # Sunday 23:30 UTC is already Monday 00:30 in Madrid: a new week there.
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    madrid = period_containing("week", now, "Europe/Madrid")
    assert madrid.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert madrid.end == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    utc = period_containing("week", now, "UTC")
    assert utc.start == datetime(2026, 11, 16, tzinfo=UTC)
    assert utc.start <= now < utc.end and madrid.start <= now < madrid.end


def test_month_and_previous_periods() -> None:
    now = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    month = period_containing(PeriodName.MONTH, now, "America/New_York")  # still February there
    assert month.start == datetime(2026, 2, 1, 5, 0, tzinfo=UTC)
    assert month.end == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    before = previous_period(month, "America/New_York")
    assert before.start == datetime(2026, 1, 1, 5, 0, tzinfo=UTC) and before.end == month.start


def test_a_week_across_the_daylight_saving_change_is_seven_local_days() -> None:
    # Summer time ends in Europe on Sunday 25 October 2026: that week is 7 days and 1 hour long.
    week = period_containing("week", datetime(2026, 10, 21, 12, tzinfo=UTC), "Europe/Madrid")
    assert week.start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)  # Monday 19 Oct 00:00 CEST (+2)
    assert week.end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # Monday 26 Oct 00:00 CET (+1)
    following = period_containing("week", week.end, "Europe/Madrid")
    assert following.start == week.end and previous_period(following, "Europe/Madrid") == week


def test_all_contains_everything() -> None:
    everything = period_containing("all", datetime(2026, 1, 1, tzinfo=UTC), "UTC")
    assert everything.start <= datetime(1999, 1, 1, tzinfo=UTC) < everything.end
    assert previous_period(everything, "UTC") == everything
