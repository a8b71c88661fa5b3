"""`/coach settings`: everyone may look, admins may change; every change validated before it is saved.

The team's time zone starts as the first admin's own: nothing is asked at install time, so the first
workspace admin Slack tells us about (the one who first runs `/coach settings`, usually the person who
installed the bot) lends their zone until someone sets one. Until then, or if no admin is known, UTC.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coach.settings import SettingError, TeamSettings, apply_setting, describe_settings
from bot.deps import Deps
from bot.services.admins import is_admin
from bot.services.errors import Refusal
from bot.services.teams import ensure_team, save_team_settings, team_settings
from bot.store.limits import SLACK_ID
from bot.store.models import Member, Team

log = logging.getLogger(__name__)

CHANNEL_SETTINGS = {"summary-channel": "summary_channel", "reminder-channel": "reminder_channel"}


@dataclass(frozen=True)
class SettingsView:
    """The settings card's content: (name, value) rows and whether the caller may change them."""

    rows: list[tuple[str, str]]
    can_change: bool
    first_channel_id: str | None


@dataclass(frozen=True)
class SettingChanged:
    name: str
    shown: str  # the new value as the card shows it


def _admin_timezone(session: Session, team_id: str) -> str | None:
    """The zone of the first workspace admin we learnt about, if it is one we can read."""
    statement = (
        select(Member.tz)
        .where(
            Member.team_id == team_id,
            Member.is_admin,
            Member.tz.is_not(None),
            Member.is_bot.is_(False),
            Member.is_deleted.is_(False),
        )
        .order_by(Member.admin_checked_at.asc().nulls_last(), Member.user_id)
    )
    for tz in session.scalars(statement):
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return tz
    return None


def effective_settings(session: Session, team: Team) -> TeamSettings:
    """The team's settings; the first time an admin's zone is known, it becomes the team's zone."""
    stored = team.settings or {}
    if "timezone" not in stored:
        zone = _admin_timezone(session, team.id)
        if zone is not None:
            team.settings = {**stored, "timezone": zone}
            log.info("team %s takes its first admin's time zone, %s", team.id, zone)
    return team_settings(team)


def show_settings(deps: Deps, client: WebClient, team_id: str, user_id: str) -> SettingsView:
    can_change = is_admin(deps, client, team_id, user_id)
    with deps.db.session() as session:
        team = ensure_team(session, team_id, deps.now())
        settings = effective_settings(session, team)
        return SettingsView(describe_settings(settings), can_change, team.first_channel_id)


def _check_channel(client: WebClient, channel_id: str) -> None:
    """Refuse a channel the bot cannot post to, before it is saved and the summary silently fails there."""
    try:
        channel = client.conversations_info(channel=channel_id)["channel"]
    except SlackApiError as error:
        if error.response.get("error") != "channel_not_found":
            raise
        raise Refusal(
            f"I can't see <#{channel_id}>. If it's a private channel, invite me there first "
            "(`/invite @More Social`), then try again."
        ) from None
    if channel.get("is_archived"):
        raise Refusal(f"<#{channel_id}> is archived, so nobody would see what I post there. Pick another channel.")
    if channel.get("is_member") is False:
        raise Refusal(f"I'm not in <#{channel_id}> yet. Invite me there (`/invite @More Social`), then try again.")


def _apply(current: TeamSettings, name: str, value: str) -> TeamSettings:
    try:
        changed = apply_setting(current, name, value)
    except SettingError as error:
        raise Refusal(str(error)) from None
    new_ids = _ids_in(changed) - _ids_in(current)
    too_long = max(new_ids, key=len, default="")
    if len(too_long) > SLACK_ID:  # summaries and reminders would fail to be recorded for that channel later
        raise Refusal(
            f"That id is {len(too_long):,} characters long; Slack's are at most {SLACK_ID}. Pick the channel or"
            " person from Slack's suggestions as you type, so it reaches me as a link."
        )
    return changed


def _ids_in(settings: TeamSettings) -> set[str]:
    """The channel and member ids the settings name."""
    return {i for i in (settings.summary_channel, settings.reminder_channel, *settings.coach_admins) if i}


def change_setting(deps: Deps, client: WebClient, team_id: str, user_id: str, name: str, value: str) -> SettingChanged:
    """Apply one `/coach settings <name> <value>` line for an admin; anyone else is kindly refused."""
    name = name.strip().lower().replace("_", "-")
    if not is_admin(deps, client, team_id, user_id):
        raise Refusal(
            "Only workspace admins and coach admins can change settings. "
            "`/coach settings` shows them to everyone; ask an admin if one should change."
        )
    with deps.db.session() as session:
        team = ensure_team(session, team_id, deps.now())
        changed = _apply(effective_settings(session, team), name, value)
    field = CHANNEL_SETTINGS.get(name)
    channel_id = getattr(changed, field) if field else None
    if channel_id is not None:
        _check_channel(client, channel_id)
    with deps.db.session() as session:
        ensure_team(session, team_id, deps.now())
        team = session.scalars(select(Team).where(Team.id == team_id).with_for_update()).one()
        changed = _apply(effective_settings(session, team), name, value)
        save_team_settings(team, changed)
    shown = dict(describe_settings(changed))[name]
    log.info("team %s: %s set %s to %s", team_id, user_id, name, shown)
    return SettingChanged(name, shown)
