"""Private coaching: the DM nudge (rare, specific, easy to stop) and the burst note after a flurry of links.

Corrections are never public. A nudge goes only to a member whose last seven days are below the team's
target with at least three posts, names one to three teammates' links that are waiting for a reply (no
waiting links, no nudge: there would be nothing specific to suggest), and comes at most every three days,
never on a quiet day or outside working hours where the member is. People who opted out, paused or
stopped nudges, deactivated members and bots never get one; what Slack knows about a member is refreshed
(users.info) before a nudge if the stored copy is older than a day.

The three-day cap is taken when the nudge is claimed, not when Slack confirms it: a nudge that may have
arrived (abandoned after a 5xx, or a crash mid-send) counts, and only one Slack refused is given back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.coach.schedule_rules import (
    BURST_NOTE_COOLDOWN,
    NUDGE_COOLDOWN,
    NUDGE_MIN_POSTS,
    NudgeCandidate,
    burst_note_cooling_down,
    burst_note_due,
    nudge_decision,
)
from bot.coach.scoring import MemberScore, ScoringRules, score_members
from bot.coach.settings import TeamSettings
from bot.deps import Deps
from bot.services import members
from bot.services.admins import fetch_profile, get_member
from bot.services.deliveries import Delivered, Outgoing, deliver_once, needs_delivery
from bot.services.reminders import links_to_answer
from bot.services.settings_service import effective_settings
from bot.services.teams import ensure_team
from bot.slack.blocks.reminders import build_burst_note, build_nudge
from bot.slack.client import sending_client
from bot.store.models import Member, Team
from bot.store.tallies import unnamed_members
from bot.store.upsert import insert_or_ignore
from bot.store.waiting import waiting_links
from bot.store.weekly import frequent_posters, links_shared_by, tallies

log = logging.getLogger(__name__)

NUDGE_WINDOW = timedelta(days=7)
NUDGE_LINKS = 3
PROFILE_FRESH = timedelta(days=1)
BURST_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class _Candidate:
    candidate: NudgeCandidate
    profile_fresh: bool


def _candidate(score: MemberScore, member: Member | None, wall_now: datetime) -> _Candidate:
    fresh = member is not None and member.updated_at is not None and wall_now - member.updated_at < PROFILE_FRESH
    return _Candidate(
        NudgeCandidate(
            user_id=score.user_id,
            given_7d=score.given,
            posts_7d=score.pushed,
            tz=member.tz if member else None,
            opted_out=bool(member and member.opted_out),
            paused_until=member.nudges_paused_until if member else None,
            stopped=bool(member and member.nudges_stopped),
            deleted=bool(member and member.is_deleted),
            is_bot=bool(member and member.is_bot),
            last_nudged_at=member.last_nudged_at if member else None,
        ),
        fresh,
    )


def _candidates(
    session: Session, team_id: str, settings: TeamSettings, now: datetime, wall_now: datetime
) -> list[_Candidate]:
    """Members with three posts or more in the last seven days, scored the way the leaderboard scores them."""
    start = now - NUDGE_WINDOW
    posters = frequent_posters(session, team_id, start, now, NUDGE_MIN_POSTS)
    if not posters:
        return []
    rules = ScoringRules.from_settings(settings.weights, settings.target_ratio)
    scores = score_members(tallies(session, team_id, start, now, posters), {}, rules)
    members = {
        member.user_id: member
        for member in session.scalars(select(Member).where(Member.team_id == team_id, Member.user_id.in_(posters)))
    }
    return [_candidate(score, members.get(score.user_id), wall_now) for score in scores]


def _nudge_key(candidate: NudgeCandidate, settings: TeamSettings, now: datetime) -> str:
    zone = candidate.tz or settings.timezone
    try:
        day = now.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        day = now.astimezone(ZoneInfo(settings.timezone)).date()
    return f"nudge:{candidate.user_id}:{day.isoformat()}"


def _take_nudge_cap(team_id: str, user_id: str, now: datetime, session: Session) -> bool:
    """Take the member's one nudge in three days, in the transaction that claims the nudge's delivery.

    Taken before Slack is called, so the cap holds whatever happens next: sent, unconfirmed and abandoned,
    or a crash mid-send all count as a nudge. A compare-and-set, so two clocks nudging the same member for
    different instants (a replayed `run-due --at`) cannot both win. The member's row exists by now (their
    profile was read to decide); without one, no cap can be taken and no nudge goes out.
    """
    return _take_cooldown(session, team_id, user_id, Member.last_nudged_at, now, NUDGE_COOLDOWN)


def _release_nudge_cap(team_id: str, user_id: str, now: datetime, previous: datetime | None, session: Session) -> None:
    """Slack refused the nudge, so nobody got it: give the cap back, and the next tick may send it."""
    session.execute(
        update(Member)
        .where(Member.team_id == team_id, Member.user_id == user_id, Member.last_nudged_at == now)
        .values(last_nudged_at=previous)
        .execution_options(synchronize_session=False)
    )


def _nudge(
    deps: Deps, client: WebClient, team_id: str, settings: TeamSettings, entry: _Candidate, now: datetime
) -> Delivered | None:
    """Send one member's nudge if it is due, checked again once their Slack profile is fresh."""
    candidate = entry.candidate
    if not nudge_decision(candidate, settings, now).send:
        return None
    if not entry.profile_fresh:
        try:
            profile = fetch_profile(deps, client, team_id, candidate.user_id)
        except SlackApiError as error:
            log.info("no nudge for %s: users.info said %s", candidate.user_id, error.response.get("error"))
            return None
        candidate = replace(candidate, tz=profile.tz, deleted=profile.is_deleted, is_bot=profile.is_bot)
        if not nudge_decision(candidate, settings, now).send:
            return None
    key = _nudge_key(candidate, settings, now)
    with deps.db.session() as session:
        if not needs_delivery(session, team_id, key, deps.now()):
            return None
        links = waiting_links(
            session,
            team_id,
            now,
            settings.waiting_hours,
            public_only=True,
            limit=NUDGE_LINKS,
            exclude_user_id=candidate.user_id,
            exclude_user_ids=unnamed_members(session, team_id).everyone,
        )
    if not links:
        return None
    message = build_nudge(candidate.user_id, links_to_answer(client, links), now)
    outgoing = Outgoing(team_id, key, message, dm_user_id=candidate.user_id, resend_unconfirmed=False)
    return deliver_once(
        deps,
        client,
        outgoing,
        on_claimed=partial(_take_nudge_cap, team_id, candidate.user_id, now),
        on_refused=partial(_release_nudge_cap, team_id, candidate.user_id, now, candidate.last_nudged_at),
    )


def send_nudges(deps: Deps, client: WebClient, team_id: str, now: datetime) -> list[Delivered]:
    """DM every member a nudge is due for at `now` (usually nobody: they are rare by design)."""
    with deps.db.session() as session:
        team = session.get(Team, team_id)
        if team is None:
            return []
        settings = effective_settings(session, team)
        entries = _candidates(session, team_id, settings, now, deps.now())
    sent = []
    for entry in entries:
        delivered = _nudge(deps, client, team_id, settings, entry, now)
        if delivered is not None:
            sent.append(delivered)
    return sent


def _ensure_member(session: Session, team_id: str, user_id: str, now: datetime) -> None:
    ensure_team(session, team_id, now)
    insert_or_ignore(session, Member, [{"team_id": team_id, "user_id": user_id}], ["team_id", "user_id"])


def snooze_nudges(deps: Deps, team_id: str, user_id: str) -> datetime:
    """Pause the member's nudges for a week (the "Snooze for a week" button); return when they resume."""
    now = deps.now()
    until = now + members.PAUSE
    with deps.db.session() as session:
        members.pause_nudges(session, team_id, user_id, until, now=now)
    return until


def stop_nudges(deps: Deps, team_id: str, user_id: str) -> None:
    """Stop the member's nudges until they turn them back on in the App Home (the "Stop these" button)."""
    now = deps.now()
    with deps.db.session() as session:
        members.stop_nudges(session, team_id, user_id, now=now)


def _keeps_quiet(member: Member, now: datetime) -> bool:
    """Private notes follow the member's wishes about nudges, and never reach bots or deactivated accounts."""
    paused = member.nudges_paused_until is not None and now < member.nudges_paused_until
    return member.opted_out or member.nudges_stopped or member.is_bot or member.is_deleted or paused


def _claim_burst_note(session: Session, team_id: str, user_id: str, now: datetime) -> bool:
    """Take today's burst note for the member: a compare-and-set, so two events at once send one note."""
    return _take_cooldown(session, team_id, user_id, Member.last_burst_note_at, now, BURST_NOTE_COOLDOWN)


def _take_cooldown(
    session: Session,
    team_id: str,
    user_id: str,
    last_sent: InstrumentedAttribute[datetime | None],
    now: datetime,
    cooldown: timedelta,
) -> bool:
    """Set `last_sent` to `now` unless it is within `cooldown`: one compare-and-set, so racers cannot both win."""
    taken = session.execute(
        update(Member)
        .where(
            Member.team_id == team_id,
            Member.user_id == user_id,
            or_(last_sent.is_(None), last_sent <= now - cooldown),
        )
        .values({last_sent.key: now})
        .returning(Member.user_id)
        .execution_options(synchronize_session=False)
    ).first()
    return taken is not None


def _release_burst_note(deps: Deps, team_id: str, user_id: str, now: datetime, previous: datetime | None) -> None:
    """Give the claim back when Slack refused the note, so the next link can try again."""
    with deps.db.session() as session:
        session.execute(
            update(Member)
            .where(Member.team_id == team_id, Member.user_id == user_id, Member.last_burst_note_at == now)
            .values(last_burst_note_at=previous)
            .execution_options(synchronize_session=False)
        )


def burst_note_if_due(
    deps: Deps, client: WebClient, team_id: str, user_id: str, channel_id: str, now: datetime
) -> bool:
    """After a member's links are stored: if they shared five or more within the hour, send one ephemeral
    note (at most once a day) that quality beats quantity. Return whether a note was sent.

    Ingestion calls this after inserting a message's links, in the channel the message came from. The
    note is sent with the send-once retries: it may be lost to an outage, never shown twice.
    """
    with deps.db.session() as session:
        ensure_team(session, team_id, deps.now())
        member = get_member(session, team_id, user_id)
        if member is not None and _keeps_quiet(member, now):
            return False
        previous = member.last_burst_note_at if member else None
        if burst_note_cooling_down(previous, now):
            return False  # today's note was sent: not worth counting the links
        count = links_shared_by(session, team_id, user_id, now - BURST_WINDOW, now)
        if not burst_note_due(count, previous, now):
            return False
        _ensure_member(session, team_id, user_id, deps.now())
        if not _claim_burst_note(session, team_id, user_id, now):
            return False
    message = build_burst_note(count)
    try:
        sending_client(client).chat_postEphemeral(
            channel=channel_id, user=user_id, text=message.text, blocks=message.blocks
        )
    except SlackApiError as error:
        # A 5xx may come after Slack showed the note: keep today's claim rather than risk a second one.
        if error.response.status_code < 500:
            _release_burst_note(deps, team_id, user_id, now, previous)
        log.info("burst note to %s in %s not confirmed: %s", user_id, channel_id, error.response.get("error"))
        return False
    return True
