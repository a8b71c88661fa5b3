"""A member's own switches for nudges: pause for a while, stop, or turn them back on.

The App Home switches and the DM nudge's buttons set the same two Member columns, so both go through
these functions. They take the caller's Session (the caller owns the transaction) and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.services.teams import ensure_team
from bot.store.models import Member
from bot.store.upsert import insert_or_update

PAUSE = timedelta(days=7)  # "pause nudges for a week"


def _set(session: Session, team_id: str, user_id: str, now: datetime, **values: Any) -> None:
    """Create the member's row if needed and set `values`, in one statement."""
    ensure_team(session, team_id, now)
    row = {"team_id": team_id, "user_id": user_id, "updated_at": now, **values}
    insert_or_update(session, Member, row, ["team_id", "user_id"], [*values, "updated_at"])


def pause_nudges(session: Session, team_id: str, user_id: str, until: datetime, *, now: datetime) -> None:
    """No nudges until `until`; they come back by themselves afterwards."""
    _set(session, team_id, user_id, now, nudges_paused_until=until)


def stop_nudges(session: Session, team_id: str, user_id: str, *, now: datetime) -> None:
    """No nudges at all until the member turns them back on."""
    _set(session, team_id, user_id, now, nudges_stopped=True)


def resume_nudges(session: Session, team_id: str, user_id: str, *, now: datetime) -> None:
    """Undo both a pause and a stop."""
    _set(session, team_id, user_id, now, nudges_stopped=False, nudges_paused_until=None)
