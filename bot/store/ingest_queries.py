"""Queries behind watching Slack: thread parents, a message's entries and versions, reactions, channels.

Every function takes the caller's Session and never commits: the ingest, history and export services
own their transactions. Ledger rows still go in and out through `bot.store.ledger`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, tuple_, update
from sqlalchemy.orm import Session

from bot.coach.kinds import Kind, Source
from bot.coach.messages import ParentMessage
from bot.store.ledger import delete_activities
from bot.store.limits import CHANNEL_NAME, MEMBER_NAME, MEMBER_TZ, fit
from bot.store.models import REACTION_KEY, Activity, Channel, Member, MessageState, Reaction
from bot.store.upsert import insert_for, insert_or_update, insert_or_update_many

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


def delete_thread_engagement(session: Session, team_id: str, channel_id: str, thread_ts: str) -> int:
    """Remove the comments given in a thread whose parent no longer has a link of a teammate to engage with."""
    return delete_activities(
        session,
        team_id,
        Activity.channel_id == channel_id,
        Activity.thread_ts == thread_ts,
        Activity.source_key.startswith("reply:", autoescape=True),
    )


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


# --- message versions (order-independent ingest) ------------------------------------------------------


@dataclass(frozen=True)
class StoredMessage:
    """The newest version of a message seen (see MessageState)."""

    ts: str
    thread_ts: str | None
    version: str
    deleted: bool
    message: dict[str, Any] | None


_STATE_COLUMNS = (
    MessageState.ts,
    MessageState.thread_ts,
    MessageState.version,
    MessageState.deleted,
    MessageState.message,
)


def prune_message_states(session: Session, *, updated_before: datetime) -> int:
    result = session.execute(delete(MessageState).where(MessageState.updated_at < updated_before))
    return result.rowcount or 0


def prune_reactions_on_plain_messages(session: Session, *, ts_before: str) -> int:
    """Forget emoji on messages that never had a counted link (kept a while in case the message came late)."""
    linked = select(Activity.id).where(
        Activity.team_id == Reaction.team_id,
        Activity.channel_id == Reaction.channel_id,
        Activity.message_ts == Reaction.message_ts,
        Activity.kind == Kind.LINK.value,
    )
    result = session.execute(delete(Reaction).where(Reaction.message_ts < ts_before, ~linked.exists()))
    return result.rowcount or 0


# --- a batch of live events: what it touches, read at once and written at once ---------------------------

MessageKey = tuple[str, str]  # (channel, ts)
_IN_BATCH = 400  # keys per IN list: two parameters each, far under either database's limit


@dataclass(frozen=True)
class ReactionMark:
    """The newest event seen for one member's emoji on one message: its Slack ts (None: from history) and whether
    it took the emoji away."""

    event_ts: str | None
    removed: bool


@dataclass(frozen=True)
class LedgerRow:
    """What the writer needs of a stored ledger row of a message it touches."""

    id: int
    source_key: str
    kind: str
    user_id: str
    is_private: bool
    channel_id: str
    message_ts: str
    thread_ts: str | None


def _chunks(keys: Collection[Any]) -> list[list[Any]]:
    listed = sorted(keys)
    return [listed[begin : begin + _IN_BATCH] for begin in range(0, len(listed), _IN_BATCH)]


def message_states(session: Session, team_id: str, keys: Collection[MessageKey]) -> dict[MessageKey, StoredMessage]:
    found: dict[MessageKey, StoredMessage] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(MessageState.channel_id, *_STATE_COLUMNS).where(
                MessageState.team_id == team_id, tuple_(MessageState.channel_id, MessageState.ts).in_(chunk)
            )
        )
        for channel_id, *state in rows:
            found[(channel_id, state[0])] = StoredMessage(*state)
    return found


def thread_replies(session: Session, team_id: str, parents: Collection[MessageKey]) -> dict[MessageKey, StoredMessage]:
    """The replies kept (not deleted) in these threads, by (channel, reply ts), whatever order they arrived in."""
    found: dict[MessageKey, StoredMessage] = {}
    for chunk in _chunks(parents):
        rows = session.execute(
            select(MessageState.channel_id, *_STATE_COLUMNS).where(
                MessageState.team_id == team_id,
                tuple_(MessageState.channel_id, MessageState.thread_ts).in_(chunk),
                MessageState.ts != MessageState.thread_ts,
                MessageState.deleted.is_(False),
            )
        )
        for channel_id, *state in rows:
            found[(channel_id, state[0])] = StoredMessage(*state)
    return found


def ledger_rows(session: Session, team_id: str, keys: Collection[MessageKey]) -> list[LedgerRow]:
    """The Slack ledger rows of these messages: their links and replies, and the likes on them."""
    found: list[LedgerRow] = []
    for chunk in _chunks(keys):
        rows = session.execute(
            select(
                Activity.id,
                Activity.source_key,
                Activity.kind,
                Activity.user_id,
                Activity.is_private,
                Activity.channel_id,
                Activity.message_ts,
                Activity.thread_ts,
            ).where(
                Activity.team_id == team_id,
                tuple_(Activity.channel_id, Activity.message_ts).in_(chunk),
                Activity.source == Source.SLACK.value,
            )
        )
        found.extend(LedgerRow(*row) for row in rows)
    return found


def reaction_marks(
    session: Session, team_id: str, keys: Collection[MessageKey]
) -> dict[MessageKey, dict[tuple[str, str], ReactionMark]]:
    """Every emoji event remembered on these messages: (member, emoji) -> its newest mark."""
    found: dict[MessageKey, dict[tuple[str, str], ReactionMark]] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            select(
                Reaction.channel_id,
                Reaction.message_ts,
                Reaction.user_id,
                Reaction.reaction,
                Reaction.event_ts,
                Reaction.removed,
            ).where(Reaction.team_id == team_id, tuple_(Reaction.channel_id, Reaction.message_ts).in_(chunk))
        )
        for channel_id, ts, user_id, name, event_ts, removed in rows:
            found.setdefault((channel_id, ts), {})[(user_id, name)] = ReactionMark(event_ts, removed)
    return found


def channels_privacy(session: Session, team_id: str, channel_ids: Collection[str]) -> dict[str, bool]:
    if not channel_ids:
        return {}
    rows = session.execute(
        select(Channel.channel_id, Channel.is_private).where(
            Channel.team_id == team_id, Channel.channel_id.in_(sorted(channel_ids))
        )
    )
    return {channel_id: is_private for channel_id, is_private in rows}


def save_message_states(
    session: Session, team_id: str, states: Mapping[MessageKey, StoredMessage], now: datetime
) -> None:
    """Write the batch's newest message versions, in one executemany."""
    rows = [
        {
            "team_id": team_id,
            "channel_id": channel_id,
            "ts": state.ts,
            "thread_ts": state.thread_ts,
            "version": state.version,
            "deleted": state.deleted,
            "message": state.message,
            "updated_at": now,
        }
        for (channel_id, _ts), state in sorted(states.items())
    ]
    insert_or_update_many(
        session,
        MessageState.__table__,
        rows,
        ["team_id", "channel_id", "ts"],
        ["thread_ts", "version", "deleted", "message", "updated_at"],
    )


def save_reaction_marks(
    session: Session, team_id: str, marks: Mapping[tuple[str, str, str, str], ReactionMark]
) -> None:
    """Write the batch's emoji marks, keyed (channel, ts, member, emoji), in one executemany."""
    rows = [
        {
            "team_id": team_id,
            "channel_id": channel_id,
            "message_ts": ts,
            "user_id": user_id,
            "reaction": name,
            "event_ts": mark.event_ts,
            "removed": mark.removed,
        }
        for (channel_id, ts, user_id, name), mark in sorted(marks.items())
    ]
    insert_or_update_many(session, Reaction.__table__, rows, list(REACTION_KEY), ["event_ts", "removed"])


# --- reactions -------------------------------------------------------------------------------------


def add_reactions(session: Session, rows: Sequence[Mapping[str, str]]) -> None:
    """Remember which emoji each member put on a link message (rows of Reaction's columns), in one executemany."""
    if not rows:
        return
    insert = insert_for(session)
    table = Reaction.__table__
    statement = insert(table).on_conflict_do_nothing(index_elements=[column.name for column in table.primary_key])
    session.execute(statement, list(rows))


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
    """Create or refresh a channel row; a name or join time only overwrites when given (a name cut to fit)."""
    row: dict[str, Any] = {"team_id": team_id, "channel_id": channel_id, "is_private": is_private}
    update_columns = ["is_private"]
    for column, value in (("name", fit(name, CHANNEL_NAME)), ("bot_joined_at", bot_joined_at)):
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


def member_fitted(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """A member row whose name and time zone fit their columns (see upsert_members)."""
    name, tz = row.get("name"), row.get("tz")
    if (name is None or len(name) <= MEMBER_NAME) and (tz is None or len(tz) <= MEMBER_TZ):
        return row
    return {**row, "name": fit(name, MEMBER_NAME), "tz": tz if tz is None or len(tz) <= MEMBER_TZ else None}


def upsert_members(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Create or refresh members from a directory (name, tz, is_bot, is_deleted), leaving their choices alone.

    A name too long for its column is cut to fit; a time zone that long is no zone, so it is left out.
    """
    for row in rows:
        row = member_fitted(row)
        insert_or_update(
            session, Member, row, ["team_id", "user_id"], ["name", "tz", "is_bot", "is_deleted", "updated_at"]
        )


def set_member_status(
    session: Session, team_id: str, user_id: str, *, deleted: bool, is_bot: bool, version: str, now: datetime
) -> None:
    """Create or refresh a member's deactivated and bot flags from a user_change of `version` (its ts, in
    `ts_order` form), unless a newer one was applied already; the rest of the row is left alone."""
    row = {
        "team_id": team_id,
        "user_id": user_id,
        "is_deleted": deleted,
        "is_bot": is_bot,
        "status_version": version,
        "updated_at": now,
    }
    insert = insert_for(session)(Member).values(row)
    changed = ("is_deleted", "is_bot", "status_version", "updated_at")
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["team_id", "user_id"],
            set_={column: insert.excluded[column] for column in changed},
            where=or_(Member.status_version.is_(None), Member.status_version <= version),
        )
    )


def bot_user_ids(session: Session, team_id: str) -> frozenset[str]:
    """Members known to be bots: their reactions are not teammates' engagement."""
    return frozenset(session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.is_bot)))


def opted_out_user_ids(session: Session, team_id: str) -> frozenset[str]:
    """Members who asked not to be tracked: nothing they do in Slack is stored."""
    return frozenset(session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.opted_out)))
