"""A member's own switches for nudges, and which private channels they are in.

The App Home switches and the DM nudge's buttons set the same two Member columns, so both go through
these functions. They take the caller's Session (the caller owns the transaction) and never commit.
`shared_private_channels` asks Slack instead, and is called before any transaction opens.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.services.teams import ensure_team
from bot.store.models import Member
from bot.store.upsert import insert_or_update

log = logging.getLogger(__name__)

PAUSE = timedelta(days=7)  # "pause nudges for a week"
# One page of users.conversations (Slack's maximum is 1,000; 200 is its advice). A member in more private
# channels than that with the bot sees fewer private links, never a link from a channel they are not in.
PRIVATE_CHANNELS_PAGE = 200


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


def shared_private_channels(client: WebClient, user_id: str) -> frozenset[str]:
    """The private channels both the member and the bot are in: the ones whose links the member may see.

    One users.conversations call with the bot token (groups:read); it lists only conversations the bot is
    in, filtered to those `user` is in too. If Slack says no (a missing scope, rate limits beyond the
    client's retries), the member sees public-channel links only: less to show, nothing revealed.
    """
    try:
        response = client.users_conversations(
            user=user_id, types="private_channel", exclude_archived=True, limit=PRIVATE_CHANNELS_PAGE
        )
    except SlackApiError as error:
        log.warning("users.conversations failed (%s); showing public-channel links only", error.response.get("error"))
        return frozenset()
    return frozenset(channel["id"] for channel in response.get("channels") or () if channel.get("id"))
