"""Workspaces: created on first contact, forgotten completely when the app is uninstalled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.coach.settings import TeamSettings
from bot.deps import Deps
from bot.store.models import Base, Team
from bot.store.upsert import insert_or_ignore


def ensure_team(session: Session, team_id: str, now: datetime) -> Team:
    """Return the team's row, creating it with default settings the first time we hear from it.

    Read first: on SQLite a write takes the database's one write lock until the transaction ends, and every
    command and batch of events starts here; only the very first contact needs to write.
    """
    team = session.scalars(select(Team).where(Team.id == team_id)).one_or_none()
    if team is not None:
        return team
    insert_or_ignore(session, Team, [{"id": team_id, "settings": {}, "created_at": now}], ["id"])
    return session.scalars(select(Team).where(Team.id == team_id)).one()


def forget_team(session: Session, team_id: str) -> None:
    """Delete everything we keep about a workspace (Slack's guidance on app_uninstalled/tokens_revoked).

    Every table keyed by team_id is emptied explicitly, children first, rather than trusting ON DELETE
    CASCADE alone, so a table added later is forgotten too and the deletion never depends on pragmas.
    """
    for table in reversed(Base.metadata.sorted_tables):
        if "team_id" in table.c:
            session.execute(delete(table).where(table.c.team_id == team_id))
    session.execute(delete(Team).where(Team.id == team_id))


def forget_workspace(deps: Deps, team_id: str) -> None:
    """The use case behind app_uninstalled and tokens_revoked: one transaction that forgets the workspace."""
    with deps.db.session() as session:
        forget_team(session, team_id)


def team_settings(team: Team) -> TeamSettings:
    """The team's coaching settings, defaults filled in for anything never set."""
    return TeamSettings.from_dict(team.settings or {})


def save_team_settings(team: Team, settings: TeamSettings) -> None:
    team.settings = settings.to_dict()
