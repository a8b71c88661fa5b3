"""Workspaces: created on first contact, forgotten completely when the app is uninstalled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.coach.settings import TeamSettings
from bot.store.models import Activity, Channel, Delivery, InboundEvent, Member, Team
from bot.store.upsert import insert_or_ignore


def ensure_team(session: Session, team_id: str, now: datetime) -> Team:
    """Return the team's row, creating it with default settings the first time we hear from it."""
    insert_or_ignore(session, Team, [{"id": team_id, "settings": {}, "created_at": now}], ["id"])
    return session.scalars(select(Team).where(Team.id == team_id)).one()


def forget_team(session: Session, team_id: str) -> None:
    """Delete everything we keep about a workspace (Slack's guidance on app_uninstalled/tokens_revoked)."""
    for model in (Activity, Delivery, Member, Channel, InboundEvent):
        session.execute(delete(model).where(model.team_id == team_id))
    session.execute(delete(Team).where(Team.id == team_id))


def team_settings(team: Team) -> TeamSettings:
    """The team's coaching settings, defaults filled in for anything never set."""
    return TeamSettings.from_dict(team.settings or {})


def save_team_settings(team: Team, settings: TeamSettings) -> None:
    team.settings = settings.to_dict()
