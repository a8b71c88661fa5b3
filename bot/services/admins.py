"""Who may change settings, and what Slack says about a member (admin, time zone, bot, deactivated).

Workspace admins and owners come from users.info and are cached on the Member row for a few minutes,
so a run of `/coach settings` lines costs one Slack call; a demoted admin loses the right once the cache
is stale. Coach admins are listed in the team's settings and need no Slack call at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coach.messages import ts_order
from bot.deps import Deps
from bot.services.teams import ensure_team, team_settings
from bot.store.ingest_queries import member_fitted
from bot.store.models import Member
from bot.store.upsert import insert_or_update

ADMIN_CHECK_FRESH = timedelta(minutes=10)


@dataclass(frozen=True)
class SlackProfile:
    """The parts of users.info the coach relies on."""

    user_id: str
    name: str | None
    tz: str | None
    is_admin: bool  # admin, owner or primary owner of the workspace
    is_bot: bool
    is_deleted: bool


def profile_from_users_info(user: dict[str, Any]) -> SlackProfile:
    user_id = str(user.get("id", ""))
    tz = user.get("tz")
    return SlackProfile(
        user_id=user_id,
        name=user.get("real_name") or user.get("name"),
        tz=tz if isinstance(tz, str) and tz else None,
        is_admin=any(bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner")),
        is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
        is_deleted=bool(user.get("deleted")),
    )


def get_member(session: Session, team_id: str, user_id: str) -> Member | None:
    return session.scalars(select(Member).where(Member.team_id == team_id, Member.user_id == user_id)).one_or_none()


def save_profile(session: Session, team_id: str, profile: SlackProfile, now: datetime) -> None:
    """Store what Slack said about a member, keeping their own choices (opt-out, pauses) untouched.

    For a member who opted out only the flags are kept: their name and time zone stay forgotten.
    """
    ensure_team(session, team_id, now)
    known = get_member(session, team_id, profile.user_id)
    forgotten = known is not None and known.opted_out
    row = {
        "team_id": team_id,
        "user_id": profile.user_id,
        "name": None if forgotten else profile.name,
        "tz": None if forgotten else profile.tz,
        "is_bot": profile.is_bot,
        "is_deleted": profile.is_deleted,
        # As new as a user_change sent now: one Slack sent earlier and delivers late changes nothing.
        "status_version": ts_order(f"{now.timestamp():.6f}"),
        "is_admin": profile.is_admin,
        "admin_checked_at": now,
        "updated_at": now,
    }
    row = dict(member_fitted(row))
    insert_or_update(
        session, Member, row, ["team_id", "user_id"], [key for key in row if key not in ("team_id", "user_id")]
    )


def fetch_profile(deps: Deps, client: WebClient, team_id: str, user_id: str) -> SlackProfile:
    """Ask Slack about a member (users.info) and remember the answer."""
    profile = profile_from_users_info(client.users_info(user=user_id)["user"])
    with deps.db.session() as session:
        save_profile(session, team_id, profile, deps.now())
    return profile


def is_admin(deps: Deps, client: WebClient, team_id: str, user_id: str) -> bool:
    """Tell whether the member may change the team's settings: a coach admin, or a workspace admin or owner."""
    now = deps.now()
    with deps.db.session() as session:
        team = ensure_team(session, team_id, now)
        if user_id in team_settings(team).coach_admins:
            return True
        member = get_member(session, team_id, user_id)
        if (
            member is not None
            and member.admin_checked_at is not None
            and now - member.admin_checked_at < ADMIN_CHECK_FRESH
        ):
            return member.is_admin
    return fetch_profile(deps, client, team_id, user_id).is_admin
