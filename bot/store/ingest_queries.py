"""Queries behind watching Slack: thread parents, a message's entries, reactions, channels, stored events.

Every function takes the caller's Session and never commits: the ingest, history and export services
own their transactions. Ledger rows still go in and out through `bot.store.ledger`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.coach.kinds import Kind, Source
from bot.coach.messages import MESSAGE_KEY_PREFIXES, ParentMessage
from bot.store.ledger import delete_activities
from bot.store.models import Activity, Channel, InboundEvent, Member, Reaction
from bot.store.upsert import insert_for, insert_or_ignore, insert_or_update

# --- thread parents and link messages ------------------------------------------------------------


@dataclass(frozen=True)
class LinkMessage:
    """A message we counted links in: who shared them and whether the channel is private."""

    user_id: str
    is_private: bool


def link_message(session: Session, team_id: str, channel_id: str, ts: str) -> LinkMessage | None:
    """Return the link message (channel, ts), or None when that message carried no link we counted."""
    row = session.execute(
        select(Activity.user_id, Activity.is_private)
        .where(
            Activity.team_id == team_id,
            Activity.channel_id == channel_id,
            Activity.message_ts == ts,
            Activity.kind == Kind.LINK.value,
        )
        .limit(1)
    ).first()
    return LinkMessage(row.user_id, row.is_private) if row else None


def link_parent(session: Session, team_id: str, channel_id: str, thread_ts: str) -> ParentMessage | None:
    """Return a thread's parent as the domain needs it, if the parent is a link message we counted."""
    found = link_message(session, team_id, channel_id, thread_ts)
    return ParentMessage(user_id=found.user_id, ts=thread_ts, has_links=True) if found else None


# --- a message's own entries (edits and deletions) -------------------------------------------------


def _message_keys_condition() -> Any:
    return or_(*(Activity.source_key.startswith(prefix, autoescape=True) for prefix in MESSAGE_KEY_PREFIXES))


def message_entries(session: Session, team_id: str, channel_id: str, ts: str) -> dict[str, tuple[int, str]]:
    """Return the entries that belong to the message itself (links, its reply), as source_key -> (id, kind)."""
    rows = session.execute(
        select(Activity.source_key, Activity.id, Activity.kind).where(
            Activity.team_id == team_id,
            Activity.channel_id == channel_id,
            Activity.message_ts == ts,
            Activity.source == Source.SLACK.value,
            _message_keys_condition(),
        )
    )
    return {key: (row_id, kind) for key, row_id, kind in rows}


def delete_message_and_what_hung_on_it(session: Session, team_id: str, channel_id: str, ts: str) -> int:
    """Remove a deleted message's entries, reactions on it, and engagement given in its thread."""
    session.execute(
        delete(Reaction).where(
            Reaction.team_id == team_id, Reaction.channel_id == channel_id, Reaction.message_ts == ts
        )
    )
    return delete_activities(
        session,
        team_id,
        Activity.source == Source.SLACK.value,
        Activity.channel_id == channel_id,
        or_(Activity.message_ts == ts, and_(Activity.thread_ts == ts, Activity.kind != Kind.LINK.value)),
    )


# --- reactions -------------------------------------------------------------------------------------


def add_reactions(session: Session, rows: Sequence[Mapping[str, str]]) -> None:
    """Remember which emoji each member put on a link message (rows of Reaction's columns), in one executemany."""
    if not rows:
        return
    insert = insert_for(session)
    table = Reaction.__table__
    statement = insert(table).on_conflict_do_nothing(index_elements=[column.name for column in table.primary_key])
    session.execute(statement, list(rows))


def remove_reaction(session: Session, team_id: str, channel_id: str, ts: str, user_id: str, reaction: str) -> int:
    """Forget one emoji; return how many emoji the member still has on that message."""
    mine = (
        Reaction.team_id == team_id,
        Reaction.channel_id == channel_id,
        Reaction.message_ts == ts,
        Reaction.user_id == user_id,
    )
    session.execute(delete(Reaction).where(*mine, Reaction.reaction == reaction))
    return session.scalar(select(func.count()).select_from(Reaction).where(*mine)) or 0


def delete_entry(session: Session, team_id: str, source_key: str) -> int:
    return delete_activities(session, team_id, Activity.source_key == source_key)


# --- channels and members --------------------------------------------------------------------------


def channel_is_private(session: Session, team_id: str, channel_id: str) -> bool | None:
    return session.scalar(
        select(Channel.is_private).where(Channel.team_id == team_id, Channel.channel_id == channel_id)
    )


def upsert_channel(
    session: Session,
    team_id: str,
    channel_id: str,
    *,
    is_private: bool,
    name: str | None = None,
    bot_joined_at: datetime | None = None,
) -> None:
    """Create or refresh a channel row; a name or join time only overwrites when given."""
    row: dict[str, Any] = {"team_id": team_id, "channel_id": channel_id, "is_private": is_private}
    update_columns = ["is_private"]
    for column, value in (("name", name), ("bot_joined_at", bot_joined_at)):
        if value is not None:
            row[column] = value
            update_columns.append(column)
    insert_or_update(session, Channel, row, ["team_id", "channel_id"], update_columns)


def mark_history_imported(session: Session, team_id: str, channel_id: str, now: datetime) -> None:
    session.execute(
        update(Channel)
        .where(Channel.team_id == team_id, Channel.channel_id == channel_id)
        .values(history_imported_at=now)
    )


def upsert_members(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Create or refresh members from a directory (name, tz, is_bot, is_deleted), leaving their choices alone."""
    for row in rows:
        insert_or_update(
            session, Member, row, ["team_id", "user_id"], ["name", "tz", "is_bot", "is_deleted", "updated_at"]
        )


def bot_user_ids(session: Session, team_id: str) -> frozenset[str]:
    """Members known to be bots: their reactions are not teammates' engagement."""
    return frozenset(session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.is_bot)))


def opted_out_user_ids(session: Session, team_id: str) -> frozenset[str]:
    """Members who asked not to be tracked: nothing they do in Slack is stored."""
    return frozenset(session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.opted_out)))


# --- stored events (store before ack) --------------------------------------------------------------


def store_event(
    session: Session, *, team_id: str, event_id: str, event_type: str, payload: Mapping[str, Any], now: datetime
) -> datetime | None:
    """Store a delivery unless it is already stored and count the attempt.

    Return the stored row's processed_at: a datetime means a copy was already fully processed.
    """
    insert_or_ignore(
        session,
        InboundEvent,
        [
            {
                "team_id": team_id,
                "event_id": event_id,
                "event_type": event_type,
                "payload": dict(payload),
                "received_at": now,
                "attempts": 0,
            }
        ],
        ["team_id", "event_id"],
    )
    return bump_attempts(session, team_id, event_id)


def bump_attempts(session: Session, team_id: str, event_id: str) -> datetime | None:
    """Count one more attempt at processing the event; return when it was processed, if it was."""
    return session.execute(
        update(InboundEvent)
        .where(InboundEvent.team_id == team_id, InboundEvent.event_id == event_id)
        .values(attempts=InboundEvent.attempts + 1)
        .returning(InboundEvent.processed_at)
    ).scalar_one()


def mark_event_processed(session: Session, team_id: str, event_id: str, now: datetime) -> None:
    session.execute(
        update(InboundEvent)
        .where(InboundEvent.team_id == team_id, InboundEvent.event_id == event_id)
        .values(processed_at=now)
    )


@dataclass(frozen=True)
class StoredEvent:
    team_id: str
    event_id: str
    payload: dict[str, Any]
    attempts: int


def unprocessed_events(
    session: Session, *, received_before: datetime, max_attempts: int, limit: int
) -> list[StoredEvent]:
    """Events stored but never processed (a crash, a failed listener), oldest first."""
    rows = session.execute(
        select(InboundEvent.team_id, InboundEvent.event_id, InboundEvent.payload, InboundEvent.attempts)
        .where(
            InboundEvent.processed_at.is_(None),
            InboundEvent.received_at < received_before,
            InboundEvent.attempts < max_attempts,
        )
        .order_by(InboundEvent.received_at)
        .limit(limit)
    )
    return [StoredEvent(*row) for row in rows]


def prune_events(session: Session, *, processed_before: datetime, abandoned_before: datetime) -> int:
    """Delete processed events past Slack's retry window, and given-up ones after a longer grace."""
    result = session.execute(
        delete(InboundEvent).where(
            or_(
                InboundEvent.processed_at < processed_before,
                and_(InboundEvent.processed_at.is_(None), InboundEvent.received_at < abandoned_before),
            )
        )
    )
    return result.rowcount or 0
