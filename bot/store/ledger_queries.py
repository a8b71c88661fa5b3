"""One member's side of the ledger: their row, their last log, everything for export (opt-out is
`bot.store.member_data`).

Counts per period come from the standings rollups (`bot.store.tallies`); these queries only ever read or
touch a single member's rows. They take a Session and never commit: the calling service owns the
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.coach.kinds import Source
from bot.store.models import Activity, Member
from bot.store.upsert import insert_or_ignore


def ensure_member(session: Session, team_id: str, user_id: str) -> Member:
    """Return the member's row, creating it on first contact (the team row must exist)."""
    insert_or_ignore(session, Member, [{"team_id": team_id, "user_id": user_id}], ["team_id", "user_id"])
    return session.scalars(select(Member).where(Member.team_id == team_id, Member.user_id == user_id)).one()


def latest_logged(session: Session, team_id: str, user_id: str) -> Activity | None:
    """The member's most recently logged action (`/coach log`, typed or form); observed rows never count."""
    return session.scalars(
        select(Activity)
        .where(Activity.team_id == team_id, Activity.user_id == user_id, Activity.source == Source.LOG.value)
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(1)
    ).first()


def count_member_activities(session: Session, team_id: str, user_id: str) -> int:
    """How many ledger rows the member is the actor of, whatever their source."""
    return (
        session.scalar(
            select(func.count()).select_from(Activity).where(Activity.team_id == team_id, Activity.user_id == user_id)
        )
        or 0
    )


def member_activities(session: Session, team_id: str, user_id: str) -> Sequence[Activity]:
    """Every row the member is the actor of, oldest first (their export)."""
    return session.scalars(
        select(Activity)
        .where(Activity.team_id == team_id, Activity.user_id == user_id)
        .order_by(Activity.occurred_at, Activity.id)
    ).all()
