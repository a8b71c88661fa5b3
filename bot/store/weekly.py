"""Aggregates over a window of the ledger: links and replies for the weekly summary, the nudges' rolling week.

The leaderboard's calendar weeks come from the standings rollups; a nudge looks at the last seven days,
which no rollup holds, so `tallies` groups those rows here (on the (team_id, occurred_at) index) into the
domain's `Tally` for `bot.coach.scoring.score_members` to judge.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session, aliased

from bot.coach.kinds import PUSHED_KINDS, Kind
from bot.coach.scoring import Tally
from bot.coach.weekly import DiscussedLink
from bot.store.models import Activity
from bot.store.waiting import substantive_replies

_KINDS = {kind.value: kind for kind in Kind}
_PUSHED = [kind.value for kind in PUSHED_KINDS]


def _in_window(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Activity.occurred_at >= start, Activity.occurred_at < end)


def tallies(
    session: Session, team_id: str, start: datetime, end: datetime, user_ids: Collection[str] | None = None
) -> list[Tally]:
    """Return the ledger of [start, end) as scoring's aggregate rows (optionally for some members only)."""
    conditions = [Activity.team_id == team_id, *_in_window(start, end)]
    if user_ids is not None:
        if not user_ids:
            return []
        conditions.append(Activity.user_id.in_(list(user_ids)))
    statement = (
        select(
            Activity.user_id, Activity.kind, Activity.day, Activity.hour, Activity.counterpart, func.count().label("n")
        )
        .where(*conditions)
        .group_by(Activity.user_id, Activity.kind, Activity.day, Activity.hour, Activity.counterpart)
    )
    return [
        Tally(row.user_id, _KINDS[row.kind], row.day, row.hour, row.counterpart, row.n)
        for row in session.execute(statement)
        if row.kind in _KINDS
    ]


def frequent_posters(session: Session, team_id: str, start: datetime, end: datetime, min_posts: int) -> list[str]:
    """Return members with at least `min_posts` posts and links in [start, end): the only ones a nudge concerns."""
    statement = (
        select(Activity.user_id)
        .where(Activity.team_id == team_id, *_in_window(start, end), Activity.kind.in_(_PUSHED))
        .group_by(Activity.user_id)
        .having(func.count() >= min_posts)
        .order_by(Activity.user_id)
    )
    return list(session.scalars(statement))


def _links_shared(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Activity.kind == Kind.LINK.value,
        Activity.thread_ts.is_(None),
        Activity.message_ts.is_not(None),
        *_in_window(start, end),
    )


def most_discussed_link(
    session: Session,
    team_id: str,
    start: datetime,
    end: datetime,
    as_of: datetime,
    *,
    exclude_user_ids: Collection[str] = (),
) -> DiscussedLink | None:
    """Return the public-channel link shared in [start, end) with the most replies by `as_of`, if any has one.

    Links shared by `exclude_user_ids` (members never named: deactivated, bots) are never the one.
    """
    reply = aliased(Activity)
    replies = func.count(reply.id).label("replies")
    statement = (
        select(Activity.user_id, Activity.url, Activity.channel_id, Activity.message_ts, replies)
        .join(reply, and_(*substantive_replies(Activity, reply, as_of)))
        .where(Activity.team_id == team_id, *_links_shared(start, end), Activity.is_private.is_(False))
        .where(Activity.url.is_not(None), *_not_by(exclude_user_ids))
        .group_by(Activity.id, Activity.user_id, Activity.url, Activity.channel_id, Activity.message_ts)
        .order_by(replies.desc(), Activity.occurred_at, Activity.id)
        .limit(1)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return DiscussedLink(row.user_id, row.url, row.channel_id, row.message_ts, row.replies)


def _not_by(user_ids: Collection[str]) -> tuple[ColumnElement[bool], ...]:
    return (Activity.user_id.not_in(list(user_ids)),) if user_ids else ()


def shared_and_unanswered(
    session: Session, team_id: str, start: datetime, end: datetime, as_of: datetime
) -> tuple[int, int]:
    """Return (messages with links shared in [start, end), those of them nobody replied to by `as_of`)."""
    reply = aliased(Activity)
    answered = select(reply.id).where(*substantive_replies(Activity, reply, as_of)).exists()

    def messages(*conditions: ColumnElement[bool]) -> int:
        shared = (
            select(Activity.channel_id, Activity.message_ts)
            .where(Activity.team_id == team_id, *_links_shared(start, end), *conditions)
            .distinct()
            .subquery()
        )
        return session.scalar(select(func.count()).select_from(shared)) or 0

    return messages(), messages(~answered)


def links_shared_by(session: Session, team_id: str, user_id: str, start: datetime, end: datetime) -> int:
    """Return how many links one member shared in (start, end]: the burst note's count."""
    statement = select(func.count()).where(
        Activity.team_id == team_id,
        Activity.user_id == user_id,
        Activity.kind == Kind.LINK.value,
        Activity.occurred_at > start,
        Activity.occurred_at <= end,
    )
    return session.scalar(statement) or 0
