"""Links still waiting for a first reply: the reminder, the nudges and the App Home all ask this one question.

A link is waiting once `waiting_hours` have passed since it was shared and no teammate has written a
substantive reply in its thread (an Activity of kind 'comment' whose thread_ts is the link's message ts),
until WAITING_AT_MOST later, when the conversation has moved on. `bot.coach.schedule_rules.is_waiting` is
the rule; this query is the same rule in SQL, and `substantive_replies` is the one definition of "answered"
that the weekly summary shares.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, aliased

from bot.coach.kinds import Kind
from bot.coach.schedule_rules import WAITING_AT_MOST
from bot.store.models import Activity
from bot.store.planner import not_an_index_term


def substantive_replies(
    link: type[Activity], reply: type[Activity], as_of: datetime
) -> tuple[ColumnElement[bool], ...]:
    """The conditions that make `reply` a teammate's substantive reply to the `link` message by `as_of`.

    A reply at `as_of` itself counts, as in `is_waiting`. It runs on the (team_id, channel_id, thread_ts)
    index, whatever the planner thinks of occurred_at.
    """
    return (
        reply.team_id == link.team_id,
        reply.channel_id == link.channel_id,
        reply.thread_ts == link.message_ts,
        reply.kind == Kind.COMMENT.value,
        reply.user_id != link.user_id,
        not_an_index_term(reply.occurred_at) <= as_of,
    )


# Made once: aliasing the mapped class anew costs more than running the query it is for (~3 ms a call).
_REPLY = aliased(Activity, name="reply")
_SIBLING = aliased(Activity, name="sibling")


@dataclass(frozen=True)
class WaitingLink:
    """A shared link nobody has answered yet; one per Slack message (its first link)."""

    user_id: str
    url: str
    channel_id: str
    message_ts: str
    shared_at: datetime
    is_private: bool


def waiting_links(
    session: Session,
    team_id: str,
    now: datetime,
    waiting_hours: int,
    *,
    public_only: bool,
    limit: int,
    exclude_user_id: str | None = None,
    also_private_channels: Collection[str] = (),
    exclude_user_ids: Collection[str] = (),
) -> list[WaitingLink]:
    """Return up to `limit` links waiting at `now`, oldest first, one per message.

    Candidates were shared between `waiting_hours` and `waiting_hours` + WAITING_AT_MOST before `now`.
    `public_only` keeps private-channel links out of anything shown beyond that channel. The reply test
    runs on the (team_id, channel_id, thread_ts) index; the candidates on (team_id, occurred_at).
    `exclude_user_id` leaves out one member's own links (a nudge suggests teammates' links, not yours).
    `also_private_channels` lets `public_only` keep links from private channels the reader is in (the App
    Home's); `exclude_user_ids` leaves out members never to be named (deactivated, bots).
    """
    if limit <= 0:
        return []
    link, reply, sibling = Activity, _REPLY, _SIBLING
    answered = exists().where(*substantive_replies(link, reply, now))
    threshold = timedelta(hours=waiting_hours)
    # A message with several links is one thing to answer: keep its first link only.
    earlier_link_in_message = exists().where(
        sibling.team_id == link.team_id,
        sibling.channel_id == link.channel_id,
        sibling.message_ts == link.message_ts,
        sibling.kind == Kind.LINK.value,
        not_an_index_term(sibling.thread_ts).is_(None),
        sibling.id < link.id,
    )
    conditions = [
        link.team_id == team_id,
        link.kind == Kind.LINK.value,
        not_an_index_term(link.thread_ts).is_(None),
        link.channel_id.is_not(None),
        link.message_ts.is_not(None),
        link.url.is_not(None),
        link.occurred_at > now - threshold - WAITING_AT_MOST,
        link.occurred_at <= now - threshold,
        ~answered,
        ~earlier_link_in_message,
    ]
    if public_only and also_private_channels:
        conditions.append(or_(link.is_private.is_(False), link.channel_id.in_(list(also_private_channels))))
    elif public_only:
        conditions.append(link.is_private.is_(False))
    if exclude_user_id is not None:
        conditions.append(link.user_id != exclude_user_id)
    if exclude_user_ids:
        conditions.append(link.user_id.not_in(list(exclude_user_ids)))
    statement = (
        select(link.user_id, link.url, link.channel_id, link.message_ts, link.occurred_at, link.is_private)
        .where(*conditions)
        .order_by(link.occurred_at, link.id)
        .limit(limit)
    )
    return [
        WaitingLink(row.user_id, row.url, row.channel_id, row.message_ts, row.occurred_at, row.is_private)
        for row in session.execute(statement)
    ]
