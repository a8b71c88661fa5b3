"""The clock's arithmetic: what is due for a team at `now`, as facts a service can act on.

The clock calls `run_due(now)` every minute. Each rule here answers for one instant and returns a
dedupe key instead of remembering anything, so the service stores the key with what it sent: a clock
that was down at 09:00 still sends at 09:07, running twice sends once, and a run for a past instant gives
the answer that instant would have had.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.coach.periods import Period, PeriodName, period_containing, previous_period
from bot.coach.settings import TeamSettings

WORK_START = time(9, 0)
WORK_END = time(18, 0)  # exclusive: nobody gets a nudge at 18:00 or later
NUDGE_COOLDOWN = timedelta(days=3)
NUDGE_MIN_POSTS = 3  # below this a ratio says more about chance than habit
BURST_LINKS = 5  # links within an hour that make a burst
BURST_NOTE_COOLDOWN = timedelta(days=1)
# How long a link keeps waiting once its threshold has passed. After a week the conversation has moved on:
# a reply would land in a thread nobody reads any more, and the reminder's five places belong to links a
# reply can still help. Counted from the threshold, so every allowed threshold (up to 168 h) gets its week.
WAITING_AT_MOST = timedelta(days=7)
# Targets are typed as decimals: 55 actions at a 1.1 target balance 50 posts, though 1.1 * 50 > 55 in floats.
_RATIO_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SummaryDue:
    """The weekly summary posted in the week starting `week_start`, about the week before it."""

    key: str  # "summary:2026-W48": the ISO week it is posted in
    week_start: date  # that week's Monday in the team's time zone
    covers: Period


@dataclass(frozen=True)
class ReminderDue:
    """The channel reminder for one local day."""

    key: str  # "reminder:2026-11-23"
    day: date


@dataclass(frozen=True)
class NudgeCandidate:
    """What the nudge rule needs to know about one member, gathered by the service."""

    user_id: str
    given_7d: int
    posts_7d: int
    tz: str | None = None  # the member's own IANA zone from Slack; None means the team's
    opted_out: bool = False
    paused_until: datetime | None = None
    stopped: bool = False
    deleted: bool = False
    is_bot: bool = False
    last_nudged_at: datetime | None = None


class NudgeReason(enum.StrEnum):
    """Why a nudge is or is not sent: one fact, for logs and tests."""

    DELETED = "deleted"
    BOT = "bot"
    STOPPED = "stopped"
    OPTED_OUT = "opted out"
    PAUSED = "paused"
    FEW_POSTS = "few posts"
    BALANCED = "balanced"
    COOLDOWN = "cooldown"
    QUIET_DAY = "quiet day"
    OUTSIDE_WORKING_HOURS = "outside working hours"
    BELOW_TARGET = "below target"


@dataclass(frozen=True)
class NudgeDecision:
    send: bool
    reason: NudgeReason


def _require_aware(*instants: datetime | None) -> None:
    """Refuse naive datetimes: they would silently take the server's zone."""
    for instant in instants:
        if instant is not None and instant.utcoffset() is None:
            raise ValueError(f"{instant!r} has no time zone; the clock's rules need aware datetimes")


def _wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of a local wall-clock time, compared by offset, never by wall clock."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def summary_due(settings: TeamSettings, now: datetime) -> SummaryDue | None:
    """Return the summary due at `now`: from the configured weekday and time until the week ends.

    Due rather than "exactly at", so a clock that missed the minute catches up later that week.
    """
    _require_aware(now)
    this_week = period_containing(PeriodName.WEEK, now, settings.timezone)
    zone = ZoneInfo(settings.timezone)
    monday = this_week.start.astimezone(zone).date()
    if now < _wall_clock(monday + timedelta(days=settings.summary_weekday), settings.summary_time, zone):
        return None
    return SummaryDue(f"summary:{monday:%G-W%V}", monday, previous_period(this_week, settings.timezone))


def reminder_due(settings: TeamSettings, now: datetime) -> ReminderDue | None:
    """Return today's reminder if today is a working day in the team's zone and its time has come."""
    _require_aware(now)
    zone = ZoneInfo(settings.timezone)
    today = now.astimezone(zone).date()
    if today.weekday() in settings.quiet_days or now < _wall_clock(today, settings.reminder_time, zone):
        return None
    return ReminderDue(f"reminder:{today.isoformat()}", today)


def is_waiting(
    shared_at: datetime, first_substantive_reply_at: datetime | None, now: datetime, waiting_hours: int
) -> bool:
    """Tell whether a shared link is waiting for a reply at `now`: its threshold passed with no reply.

    A link is not waiting while it is fresh (the team has `waiting_hours` to answer in its own time); it
    waits from then until a teammate's first substantive reply, or until WAITING_AT_MOST has passed too.
    """
    _require_aware(shared_at, first_substantive_reply_at, now)
    if first_substantive_reply_at is not None and first_substantive_reply_at <= now:
        return False
    threshold = timedelta(hours=waiting_hours)
    return threshold <= now - shared_at < threshold + WAITING_AT_MOST


def _member_zone(tz: str | None, team_timezone: str) -> ZoneInfo:
    """Return the member's zone, or the team's when Slack gave none or one we cannot read."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(team_timezone)


def nudge_decision(member: NudgeCandidate, settings: TeamSettings, now: datetime) -> NudgeDecision:
    """Decide whether to send `member` a private nudge at `now`, and say why.

    Only people who asked for none of it are left alone, only a real habit (three posts or more, below
    target) earns a nudge, and never more than one every three days, on a quiet day or outside working
    hours where the member is.
    """
    _require_aware(now, member.paused_until, member.last_nudged_at)
    for reason, applies in (
        (NudgeReason.DELETED, member.deleted),
        (NudgeReason.BOT, member.is_bot),
        (NudgeReason.STOPPED, member.stopped),
        (NudgeReason.OPTED_OUT, member.opted_out),
        (NudgeReason.PAUSED, member.paused_until is not None and now < member.paused_until),
        (NudgeReason.FEW_POSTS, member.posts_7d < NUDGE_MIN_POSTS),
        (NudgeReason.BALANCED, member.given_7d / settings.target_ratio + _RATIO_TOLERANCE >= member.posts_7d),
        (
            NudgeReason.COOLDOWN,
            member.last_nudged_at is not None and now - member.last_nudged_at < NUDGE_COOLDOWN,
        ),
    ):
        if applies:
            return NudgeDecision(False, reason)
    local = now.astimezone(_member_zone(member.tz, settings.timezone))
    if local.weekday() in settings.quiet_days:
        return NudgeDecision(False, NudgeReason.QUIET_DAY)
    if not WORK_START <= local.time() < WORK_END:
        return NudgeDecision(False, NudgeReason.OUTSIDE_WORKING_HOURS)
    return NudgeDecision(True, NudgeReason.BELOW_TARGET)


def burst_note_due(link_times_last_hour: int, last_burst_note_at: datetime | None, now: datetime) -> bool:
    """Tell whether a burst of links (five or more in the last hour) deserves a note: at most once a day."""
    _require_aware(last_burst_note_at, now)
    if link_times_last_hour < BURST_LINKS:
        return False
    return not burst_note_cooling_down(last_burst_note_at, now)


def burst_note_cooling_down(last_burst_note_at: datetime | None, now: datetime) -> bool:
    """Tell whether the member had a burst note within the last day: then no count of links can earn another."""
    _require_aware(last_burst_note_at, now)
    return last_burst_note_at is not None and now - last_burst_note_at < BURST_NOTE_COOLDOWN
