"""Time travel through the clock's rules: fixed instants, boundaries, catch-up, zones and DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.coach.periods import PeriodName
from bot.coach.schedule_rules import (
    WAITING_AT_MOST,
    NudgeCandidate,
    NudgeDecision,
    NudgeReason,
    ReminderDue,
    burst_note_cooling_down,
    burst_note_due,
    is_waiting,
    nudge_decision,
    reminder_due,
    summary_due,
)
from bot.coach.settings import TeamSettings

MADRID = ZoneInfo("Europe/Madrid")
UTC_TEAM = TeamSettings()
MADRID_TEAM = TeamSettings(timezone="Europe/Madrid")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def madrid(*args: int) -> datetime:
    return datetime(*args, tzinfo=MADRID)


# 2026-11-23 is the Monday of ISO week 48.


class TestSummaryDue:
    def test_not_due_before_the_configured_time(self) -> None:
        assert summary_due(UTC_TEAM, utc(2026, 11, 23, 8, 59, 59)) is None

    def test_due_exactly_at_the_configured_time(self) -> None:
        due = summary_due(UTC_TEAM, utc(2026, 11, 23, 9, 0))
        assert due is not None
        assert due.key == "summary:2026-W48"
        assert due.week_start == date(2026, 11, 23)

    def test_covers_the_week_before(self) -> None:
        due = summary_due(UTC_TEAM, utc(2026, 11, 23, 9, 0))
        assert due is not None
        assert due.covers.name is PeriodName.WEEK
        assert (due.covers.start, due.covers.end) == (utc(2026, 11, 16), utc(2026, 11, 23))

    @pytest.mark.parametrize(
        "late", [utc(2026, 11, 23, 9, 7), utc(2026, 11, 23, 23, 59), utc(2026, 11, 26, 12), utc(2026, 11, 29, 23, 59)]
    )
    def test_a_clock_that_was_down_catches_up_with_the_same_key_all_week(self, late: datetime) -> None:
        due = summary_due(UTC_TEAM, late)
        assert due is not None and due.key == "summary:2026-W48"

    def test_next_week_brings_a_new_key_only_at_its_own_time(self) -> None:
        assert summary_due(UTC_TEAM, utc(2026, 11, 30, 8, 59)) is None
        due = summary_due(UTC_TEAM, utc(2026, 11, 30, 9, 0))
        assert due is not None and due.key == "summary:2026-W49"

    def test_a_summary_on_another_weekday_waits_for_it(self) -> None:
        friday = replace(UTC_TEAM, summary_weekday=4, summary_time=time(16, 30))
        assert summary_due(friday, utc(2026, 11, 26, 17)) is None
        assert summary_due(friday, utc(2026, 11, 27, 16, 29)) is None
        due = summary_due(friday, utc(2026, 11, 27, 16, 30))
        assert due is not None and due.key == "summary:2026-W48"
        assert due.covers.start == utc(2026, 11, 16)

    def test_follows_the_team_zone_not_utc(self) -> None:
        # 09:00 in Madrid (CET, UTC+1) is 08:00 UTC.
        assert summary_due(MADRID_TEAM, utc(2026, 11, 23, 7, 59)) is None
        due = summary_due(MADRID_TEAM, utc(2026, 11, 23, 8, 0))
        assert due is not None and due.key == "summary:2026-W48"

    def test_the_local_week_decides_the_key_when_utc_is_still_sunday(self) -> None:
        tokyo = TeamSettings(timezone="Asia/Tokyo", summary_time=time(0, 30))
        due = summary_due(tokyo, utc(2026, 11, 22, 15, 30))  # Monday 00:30 in Tokyo
        assert due is not None and due.key == "summary:2026-W48"
        assert due.covers.start == datetime(2026, 11, 16, tzinfo=ZoneInfo("Asia/Tokyo"))

    def test_the_iso_year_names_the_first_week_of_january(self) -> None:
        due = summary_due(UTC_TEAM, utc(2026, 12, 28, 10))
        assert due is not None and due.key == "summary:2026-W53"
        due = summary_due(UTC_TEAM, utc(2027, 1, 4, 10))
        assert due is not None and due.key == "summary:2027-W01"

    def test_dst_spring_forward_week_in_madrid(self) -> None:
        # Clocks go forward on Sunday 2026-03-29: Monday 09:00 is 08:00 UTC before, 07:00 UTC after.
        assert summary_due(MADRID_TEAM, utc(2026, 3, 30, 6, 59)) is None
        due = summary_due(MADRID_TEAM, utc(2026, 3, 30, 7, 0))
        assert due is not None and due.key == "summary:2026-W14"
        assert due.covers.start == madrid(2026, 3, 23)
        assert due.covers.end - due.covers.start == timedelta(hours=167)

    def test_dst_fall_back_week_in_madrid(self) -> None:
        # Clocks go back on Sunday 2026-10-25: that week is 169 hours long.
        assert summary_due(MADRID_TEAM, madrid(2026, 10, 26, 8, 59)) is None
        due = summary_due(MADRID_TEAM, utc(2026, 10, 26, 8, 0))
        assert due is not None and due.key == "summary:2026-W44"
        assert due.covers.end - due.covers.start == timedelta(hours=169)

    def test_a_naive_now_is_refused(self) -> None:
        with pytest.raises(ValueError, match="no time zone"):
            summary_due(UTC_TEAM, datetime(2026, 11, 23, 9))


class TestReminderDue:
    def test_due_on_a_working_day_from_the_reminder_time(self) -> None:
        assert reminder_due(UTC_TEAM, utc(2026, 11, 23, 9, 59)) is None
        assert reminder_due(UTC_TEAM, utc(2026, 11, 23, 10, 0)) == ReminderDue(
            "reminder:2026-11-23", date(2026, 11, 23)
        )

    def test_catches_up_later_the_same_day_only(self) -> None:
        assert reminder_due(UTC_TEAM, utc(2026, 11, 23, 17, 45)) == ReminderDue(
            "reminder:2026-11-23", date(2026, 11, 23)
        )
        assert reminder_due(UTC_TEAM, utc(2026, 11, 24, 9, 0)) is None

    @pytest.mark.parametrize("weekend", [utc(2026, 11, 28, 10), utc(2026, 11, 29, 12)])
    def test_not_due_on_quiet_days(self, weekend: datetime) -> None:
        assert reminder_due(UTC_TEAM, weekend) is None

    def test_a_team_without_quiet_days_gets_one_every_day(self) -> None:
        always = replace(UTC_TEAM, quiet_days=frozenset())
        due = reminder_due(always, utc(2026, 11, 29, 10))
        assert due is not None and due.key == "reminder:2026-11-29"

    def test_the_local_day_decides_quiet_days(self) -> None:
        # Friday 23:30 UTC is already Saturday 00:30 in Madrid; Sunday 23:30 UTC is Monday in Madrid.
        late = replace(MADRID_TEAM, reminder_time=time(0, 15))
        assert reminder_due(late, utc(2026, 11, 27, 23, 30)) is None
        assert reminder_due(late, utc(2026, 11, 29, 23, 30)) == ReminderDue("reminder:2026-11-30", date(2026, 11, 30))

    def test_dst_change_keeps_the_local_time(self) -> None:
        # 10:00 in Madrid is 09:00 UTC on Friday 2026-03-27 and 08:00 UTC on Monday 2026-03-30.
        assert reminder_due(MADRID_TEAM, utc(2026, 3, 27, 8, 59)) is None
        assert reminder_due(MADRID_TEAM, utc(2026, 3, 27, 9, 0)) is not None
        assert reminder_due(MADRID_TEAM, utc(2026, 3, 30, 7, 59)) is None
        assert reminder_due(MADRID_TEAM, utc(2026, 3, 30, 8, 0)) is not None


class TestIsWaiting:
    SHARED = utc(2026, 11, 23, 11)

    def test_a_fresh_link_is_not_waiting_yet(self) -> None:
        assert not is_waiting(self.SHARED, None, self.SHARED, 24)
        assert not is_waiting(self.SHARED, None, self.SHARED + timedelta(hours=23, minutes=59), 24)

    def test_waits_once_the_threshold_passes_without_a_reply(self) -> None:
        assert is_waiting(self.SHARED, None, self.SHARED + timedelta(hours=24), 24)
        assert is_waiting(self.SHARED, None, self.SHARED + timedelta(hours=30), 24)
        assert not is_waiting(self.SHARED, None, self.SHARED + timedelta(hours=30), 48)

    def test_a_link_shared_on_friday_evening_waits_through_the_weekend_into_monday(self) -> None:
        friday_evening = utc(2026, 11, 20, 18)
        monday_reminder = utc(2026, 11, 23, 10)
        assert is_waiting(friday_evening, None, monday_reminder, 24)

    def test_waits_a_week_after_the_threshold_then_the_conversation_has_moved_on(self) -> None:
        threshold = timedelta(hours=24)
        assert is_waiting(self.SHARED, None, self.SHARED + threshold + WAITING_AT_MOST - timedelta(seconds=1), 24)
        assert not is_waiting(self.SHARED, None, self.SHARED + threshold + WAITING_AT_MOST, 24)

    def test_the_longest_threshold_still_leaves_a_week_of_waiting(self) -> None:
        assert is_waiting(self.SHARED, None, self.SHARED + timedelta(hours=168), 168)
        assert is_waiting(self.SHARED, None, self.SHARED + timedelta(hours=168) + timedelta(days=6), 168)

    def test_stops_waiting_at_the_first_substantive_reply(self) -> None:
        reply = self.SHARED + timedelta(hours=30)
        assert is_waiting(self.SHARED, reply, reply - timedelta(seconds=1), 24)
        assert not is_waiting(self.SHARED, reply, reply, 24)
        assert not is_waiting(self.SHARED, self.SHARED + timedelta(hours=2), self.SHARED + timedelta(hours=26), 24)

    def test_a_link_shared_after_now_is_not_waiting(self) -> None:
        assert not is_waiting(self.SHARED, None, self.SHARED - timedelta(hours=30), 24)


def member(**changes: object) -> NudgeCandidate:
    """A member who posts a lot and gives little: below the 4:1 target, nudge-worthy by default."""
    return replace(NudgeCandidate(user_id="U1", given_7d=2, posts_7d=4), **changes)


# Tuesday 2026-11-24, 11:00 UTC: a working hour in UTC.
WORKING = utc(2026, 11, 24, 11)


class TestNudgeDecision:
    def test_sends_to_a_member_below_target(self) -> None:
        assert nudge_decision(member(), UTC_TEAM, WORKING) == NudgeDecision(True, NudgeReason.BELOW_TARGET)

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"deleted": True}, "deleted"),
            ({"is_bot": True}, "bot"),
            ({"stopped": True}, "stopped"),
            ({"opted_out": True}, "opted out"),
            ({"paused_until": WORKING + timedelta(seconds=1)}, "paused"),
        ],
    )
    def test_never_to_people_who_asked_not_to_be_or_cannot_be(self, changes: dict[str, object], reason: str) -> None:
        assert nudge_decision(member(**changes), UTC_TEAM, WORKING) == NudgeDecision(False, reason)

    def test_a_pause_ends_at_its_instant(self) -> None:
        assert nudge_decision(member(paused_until=WORKING), UTC_TEAM, WORKING).send

    @pytest.mark.parametrize(
        ("given", "posts", "reason"), [(0, 2, "few posts"), (12, 3, "balanced"), (40, 4, "balanced")]
    )
    def test_only_a_habit_below_target_earns_a_nudge(self, given: int, posts: int, reason: str) -> None:
        assert nudge_decision(member(given_7d=given, posts_7d=posts), UTC_TEAM, WORKING) == NudgeDecision(False, reason)

    def test_the_team_target_decides_what_is_below(self) -> None:
        thirds = replace(UTC_TEAM, target_ratio=2.0)
        assert nudge_decision(member(given_7d=8, posts_7d=4), thirds, WORKING).reason == "balanced"
        assert nudge_decision(member(given_7d=7, posts_7d=4), thirds, WORKING).send

    def test_at_most_one_nudge_every_three_days(self) -> None:
        nudged = WORKING - timedelta(days=3)
        assert nudge_decision(member(last_nudged_at=nudged + timedelta(seconds=1)), UTC_TEAM, WORKING) == (
            NudgeDecision(False, "cooldown")
        )
        assert nudge_decision(member(last_nudged_at=nudged), UTC_TEAM, WORKING).send

    @pytest.mark.parametrize(
        ("now", "send"),
        [
            (utc(2026, 11, 24, 8, 59), False),
            (utc(2026, 11, 24, 9, 0), True),
            (utc(2026, 11, 24, 17, 59), True),
            (utc(2026, 11, 24, 18, 0), False),
            (utc(2026, 11, 24, 3, 0), False),
        ],
    )
    def test_only_in_working_hours(self, now: datetime, send: bool) -> None:
        decision = nudge_decision(member(), UTC_TEAM, now)
        assert decision.send is send
        assert send or decision.reason == "outside working hours"

    def test_never_on_a_quiet_day(self) -> None:
        assert nudge_decision(member(), UTC_TEAM, utc(2026, 11, 28, 11)) == NudgeDecision(False, "quiet day")

    def test_the_members_own_zone_decides_the_day(self) -> None:
        # Friday 2026-11-27 12:00 UTC is already Saturday 01:00 in Auckland: a quiet day there.
        friday_noon = utc(2026, 11, 27, 12)
        assert nudge_decision(member(), UTC_TEAM, friday_noon).send
        assert nudge_decision(member(tz="Pacific/Auckland"), UTC_TEAM, friday_noon).reason == "quiet day"
        # Monday 2026-11-30 02:00 UTC is still Sunday evening in Los Angeles.
        assert nudge_decision(member(tz="America/Los_Angeles"), UTC_TEAM, utc(2026, 11, 30, 2)).reason == ("quiet day")

    def test_the_members_own_zone_decides_the_hours(self) -> None:
        # 01:00 UTC is 10:00 in Tokyo, and 02:00 in Madrid.
        night_in_utc = utc(2026, 11, 24, 1)
        assert nudge_decision(member(tz="Asia/Tokyo"), MADRID_TEAM, night_in_utc).send
        assert nudge_decision(member(), MADRID_TEAM, night_in_utc).reason == "outside working hours"

    @pytest.mark.parametrize("tz", [None, "", "Mars/Olympus_Mons"])
    def test_without_a_readable_member_zone_the_team_zone_is_used(self, tz: str | None) -> None:
        # 08:30 UTC is 09:30 in Madrid: working hours for the team, not yet for UTC.
        assert nudge_decision(member(tz=tz), MADRID_TEAM, utc(2026, 11, 24, 8, 30)).send

    def test_dst_shifts_working_hours_in_utc(self) -> None:
        # 08:30 UTC is 09:30 in Madrid on Friday 2026-03-27 (CET) but 10:30 on Monday 2026-03-30 (CEST);
        # 07:30 UTC is 08:30 before the change (too early) and 09:30 after it.
        assert not nudge_decision(member(), MADRID_TEAM, utc(2026, 3, 27, 7, 30)).send
        assert nudge_decision(member(), MADRID_TEAM, utc(2026, 3, 30, 7, 30)).send


class TestBurstNote:
    def test_five_links_within_an_hour_make_a_burst(self) -> None:
        assert not burst_note_due(4, None, WORKING)
        assert burst_note_due(5, None, WORKING)

    def test_at_most_one_note_a_day(self) -> None:
        assert not burst_note_due(9, WORKING - timedelta(hours=23, minutes=59), WORKING)
        assert burst_note_due(9, WORKING - timedelta(days=1), WORKING)

    def test_a_note_within_the_day_cools_down_whatever_the_count(self) -> None:
        # The writer's follow-up skips counting links for a member this says is cooling down.
        assert not burst_note_cooling_down(None, WORKING)
        assert burst_note_cooling_down(WORKING - timedelta(hours=23, minutes=59), WORKING)
        assert not burst_note_cooling_down(WORKING - timedelta(days=1), WORKING)
        for count in range(12):
            cooling = burst_note_cooling_down(WORKING - timedelta(hours=2), WORKING)
            assert not (cooling and burst_note_due(count, WORKING - timedelta(hours=2), WORKING))
