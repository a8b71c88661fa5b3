"""What the bot sees in Slack, into the ledger: live events, and the rows history and export imports share.

Live events reach here from the inbox (`bot.services.inbox`): the ledger writer applies a batch of stored
deliveries in one transaction through `apply_event`. Applying never depends on the order deliveries came in,
nor on their being applied once: each event updates what is known (a message's newest version, an emoji's
newest event, a deletion), then the entries of what it touched are worked out again and stored as the
difference, behind the unique (team, source_key) index. Every path turns a message into entries with
`bot.coach.messages.entries_for_message`.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from bot.coach.kinds import Kind, Source
from bot.coach.messages import (
    MESSAGE_KEY_PREFIXES,
    ChannelContext,
    LedgerEntry,
    ParentMessage,
    entries_for_message,
    entry_for_reaction,
    is_human_message,
    links_in,
    ts_order,
)
from bot.services.teams import ensure_team, team_settings
from bot.store import ingest_queries as q
from bot.store import limits
from bot.store.ledger import activity_row, delete_activity_ids, insert_activities
from bot.store.member_data import forget_who_opted_out_since, hold_opt_outs_steady
from bot.store.models import Team

log = logging.getLogger(__name__)

# While reading history oldest first, thread parents are remembered this long; older ones come from the store.
THREAD_MEMORY = timedelta(days=30)

# Slack's private channels: channel_type "group" on message events, "G" on member_joined_channel.
_PRIVATE_CHANNEL_TYPES = ("group", "G")
_PUBLIC_CHANNEL_TYPES = ("channel", "C")


@dataclass(frozen=True)
class EventEnvelope:
    """One Events API delivery as the listeners hand it over: whose, which, what, and our own bot user."""

    team_id: str
    event_id: str
    event: Mapping[str, Any]
    bot_user_id: str | None

    @classmethod
    def from_body(cls, body: Mapping[str, Any], bot_user_id: str | None) -> EventEnvelope | None:
        """Read an event_callback body; None when it lacks what dedupe needs (team, event id, event)."""
        team_id, event_id, event = body.get("team_id"), body.get("event_id"), body.get("event")
        if not (isinstance(team_id, str) and team_id and isinstance(event_id, str) and event_id):
            return None
        if not isinstance(event, Mapping) or len(team_id) > limits.SLACK_ID:  # no workspace has an id that long
            return None
        # The event id only dedupes: one too long for its column is cut stably, so a retry still matches it.
        return cls(team_id, limits.fit_key(event_id, limits.EVENT_ID), event, bot_user_id)


@dataclass(frozen=True)
class IngestOutcome:
    """What an event changed that calls for Slack once the writer's transaction committed (bot.services.inbox)."""

    links_added: int = 0
    user_id: str | None = None
    channel_id: str | None = None
    bot_joined_channel: str | None = None  # the bot was added here: import the channel's history


NOTHING = IngestOutcome()


@dataclass(frozen=True)
class _Scope:
    """The team an event belongs to, read once per transaction."""

    team: Team
    bot_user_id: str | None
    timezone: str
    now: datetime
    opted_out: frozenset[str]

    def counted(self, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        """Leave out members who opted out: nothing they do is kept."""
        return [entry for entry in entries if entry.user_id not in self.opted_out]


FORGOTTEN_MEMBER = "forgotten"  # stands in for an opted-out member's id in a teammate's kept message (no Slack id)


def without_members(message: Mapping[str, Any], forgotten: AbstractSet[str]) -> dict[str, Any]:
    """The message as the store keeps it: opted-out members' ids (a mention, the thread's parent author)
    replaced, since nothing the ledger reads from a teammate's message depends on who was mentioned."""
    kept = dict(message)
    if not forgotten:
        return kept
    text = json.dumps(kept)
    # Slack ids are letters and digits, so their text in the JSON is the id itself and replacing it keeps
    # the JSON valid; anything else is no Slack id and is left alone.
    named = [user_id for user_id in forgotten if user_id.isascii() and user_id.isalnum() and user_id in text]
    if not named:
        return kept
    for user_id in named:
        text = text.replace(user_id, FORGOTTEN_MEMBER)
    return json.loads(text)


# --- turning entries into rows ---------------------------------------------------------------------


def entry_row(entry: LedgerEntry, *, team_id: str, timezone: str, now: datetime) -> dict[str, Any]:
    """The ledger row for an entry seen in Slack (live, history or export)."""
    return activity_row(
        team_id=team_id,
        user_id=entry.user_id,
        kind=entry.kind.value,
        source=Source.SLACK.value,
        occurred_at=entry.occurred_at,
        timezone=timezone,
        source_key=entry.source_key,
        platform=entry.platform.value,
        created_at=now,
        counterpart=entry.counterpart,
        url=entry.url,
        url_key=entry.url_key,
        channel_id=entry.channel_id,
        message_ts=entry.message_ts,
        thread_ts=entry.thread_ts,
        is_private=entry.private,
    )


def _is_private(stored: bool | None, channel_id: str, channel_type: object) -> bool:
    """The event's channel_type decides; else what we stored about the channel; else the id's prefix."""
    if channel_type in _PRIVATE_CHANNEL_TYPES:
        return True
    if channel_type in _PUBLIC_CHANNEL_TYPES:
        return False
    return stored if stored is not None else channel_id.startswith("G")


# --- live events: a batch at a time, versions first, then the entries they are worth -----------------------
#
# Deliveries come in any order (Slack retries, several writers, a reply sent before its parent's event). Each
# event first updates what is known (a message's newest version, an emoji's newest event, a deletion, which is
# final), then the entries of every message it touched are worked out again from that knowledge and kept as
# the difference: so the ledger never depends on the order events arrived in. A batch reads everything its
# events touch in a few queries, applies them in memory, and writes the difference at once (`LiveBatch.write`).


@dataclass
class _Row:
    """A ledger row of a message the batch touches: stored (`id`) or to be inserted by it (`row`)."""

    kind: str
    user_id: str
    is_private: bool
    channel_id: str
    message_ts: str
    thread_ts: str | None
    id: int | None = None
    row: dict[str, Any] | None = None


_MESSAGE_KEYS = MESSAGE_KEY_PREFIXES
_LIKE_KEY = "reaction:"
_REPLY_KEY = "reply:"


def _message_key(action: str, event: Mapping[str, Any]) -> tuple[str, str, str | None] | None:
    """(channel, ts, thread_ts) of the message an event is about; None for what is about no message."""
    if action == "message":
        channel, ts, thread_ts = event.get("channel"), event.get("ts"), event.get("thread_ts")
    elif action == "message_changed":
        message = event.get("message") if isinstance(event.get("message"), Mapping) else {}
        previous = event.get("previous_message") if isinstance(event.get("previous_message"), Mapping) else {}
        channel, ts, thread_ts = event.get("channel"), message.get("ts") or previous.get("ts"), message.get("thread_ts")
    elif action == "message_deleted":
        previous = event.get("previous_message") if isinstance(event.get("previous_message"), Mapping) else {}
        channel, ts, thread_ts = event.get("channel"), event.get("deleted_ts") or previous.get("ts"), None
    elif action in ("reaction_added", "reaction_removed"):
        item = event.get("item") if isinstance(event.get("item"), Mapping) else {}
        channel, ts, thread_ts = item.get("channel"), item.get("ts"), None
    else:
        return None
    if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
        return None
    return channel, ts, thread_ts if isinstance(thread_ts, str) and thread_ts != ts else None


class LiveBatch:
    """One team's share of a batch of deliveries, applied in memory over what it touches, then written at once."""

    def __init__(self, session: Session, scope: _Scope, events: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        self._session = session
        self._scope = scope
        self._team_id = scope.team.id
        self._events = events
        self._states: dict[q.MessageKey, q.StoredMessage] = {}
        self._replies: dict[q.MessageKey, set[str]] = defaultdict(set)  # (channel, parent ts) -> reply ts
        self._rows: dict[q.MessageKey, dict[str, _Row]] = defaultdict(dict)  # (channel, ts) -> source_key -> row
        self._reactions: dict[q.MessageKey, dict[tuple[str, str], q.ReactionMark]] = defaultdict(dict)
        self._privacy: dict[str, bool] = {}
        self._state_writes: dict[q.MessageKey, q.StoredMessage] = {}
        self._reaction_writes: dict[tuple[str, str, str, str], q.ReactionMark] = {}
        self._channel_writes: dict[str, bool] = {}
        self._stale_ids: set[int] = set()
        self._load()

    # -- reading what the batch touches, in a few queries ---------------------------------------------------

    def _load(self) -> None:
        session, team_id = self._session, self._team_id
        touched: set[q.MessageKey] = set()
        channels: set[str] = set()
        for action, event in self._events:
            key = _message_key(action, event)
            if key is None:
                continue
            channel, ts, thread_ts = key
            channels.add(channel)
            touched.add((channel, ts))
            if thread_ts is not None:
                touched.add((channel, thread_ts))
        self._states.update(q.message_states(session, team_id, touched))
        replies = q.thread_replies(session, team_id, touched)
        for (channel, ts), state in replies.items():
            self._states.setdefault((channel, ts), state)
        for (channel, ts), state in self._states.items():
            if state.thread_ts and state.thread_ts != ts and not state.deleted:
                self._replies[(channel, state.thread_ts)].add(ts)
        for row in q.ledger_rows(session, team_id, touched | replies.keys()):
            self._rows[(row.channel_id, row.message_ts)][row.source_key] = _Row(
                row.kind, row.user_id, row.is_private, row.channel_id, row.message_ts, row.thread_ts, id=row.id
            )
        self._reactions.update(q.reaction_marks(session, team_id, touched))
        self._privacy = q.channels_privacy(session, team_id, channels)

    # -- applying, in memory ----------------------------------------------------------------------------------

    def apply(self) -> list[IngestOutcome]:
        outcomes: list[IngestOutcome] = []
        for action, event in self._events:
            outcome = self._APPLY[action](self, event)
            if outcome.links_added or outcome.bot_joined_channel:
                outcomes.append(outcome)
        return outcomes

    def _message(self, event: Mapping[str, Any]) -> IngestOutcome:
        """A new message: its links are the author's output; a reply to a teammate's link is engagement."""
        ts = event.get("ts")
        channel_id = str(event.get("channel") or "")
        if not isinstance(ts, str) or not channel_id or event.get("user") in self._scope.opted_out:
            return NOTHING
        message = {key: value for key, value in event.items() if key not in ("channel", "channel_type", "event_ts")}
        if not self._newer(channel_id, message, ts, ts_order(ts)):
            return NOTHING  # a newer edit, or the deletion, came first
        return self._settle(self._channel(event), message)

    def _edit(self, event: Mapping[str, Any]) -> IngestOutcome:
        """message_changed: the message's newest version replaces what it was worth, if it is the newest seen.

        The unfurl Slack adds later is such an edit: the links are the same, so nothing changes. A tombstone
        (a thread parent deleted while it has replies) is a deletion. An edit is as new as the event (its ts).
        """
        key = _message_key("message_changed", event)
        message = event.get("message")
        if key is None or not isinstance(message, Mapping):
            return NOTHING
        channel_id, ts, _thread = key
        if message.get("subtype") == "tombstone":
            return self._delete(channel_id, ts)
        if not is_human_message(message, self._scope.bot_user_id) or message.get("user") in self._scope.opted_out:
            return NOTHING  # an edit of a bot's message, or one we cannot read: what we counted stands
        edited = message.get("edited") if isinstance(message.get("edited"), Mapping) else {}
        version = ts_order(event.get("ts")) or ts_order(event.get("event_ts")) or ts_order(edited.get("ts"))
        message = {**message, "ts": ts}
        if not version or not self._newer(channel_id, message, ts, version):
            return NOTHING
        return self._settle(self._channel(event), message)

    def _deleted(self, event: Mapping[str, Any]) -> IngestOutcome:
        """message_deleted: the shared link goes, and so do the replies and reactions it received."""
        key = _message_key("message_deleted", event)
        return self._delete(key[0], key[1]) if key else NOTHING

    def _newer(self, channel_id: str, message: Mapping[str, Any], ts: str, version: str) -> bool:
        """Keep this version if it is newer than what is known of the message; False when stale or deleted."""
        known = self._states.get((channel_id, ts))
        if known is not None and (known.deleted or known.version > version):
            return False
        thread_ts = message.get("thread_ts")
        thread_ts = thread_ts if isinstance(thread_ts, str) and thread_ts != ts else None
        kept = without_members(message, self._scope.opted_out)
        state = q.StoredMessage(ts, thread_ts, version, deleted=False, message=kept)
        self._states[(channel_id, ts)] = self._state_writes[(channel_id, ts)] = state
        if thread_ts is not None:
            self._replies[(channel_id, thread_ts)].add(ts)
        return True

    def _delete(self, channel_id: str, ts: str) -> IngestOutcome:
        """A deletion is final: remembered, so the message (or an edit of it) delivered after it counts nothing."""
        known = self._states.get((channel_id, ts))
        tombstone = q.StoredMessage(ts, known.thread_ts if known else None, "", deleted=True, message=None)
        self._states[(channel_id, ts)] = self._state_writes[(channel_id, ts)] = tombstone
        # Rows the batch did not read (a reply older than the kept versions) go in SQL, now; those it holds, here.
        q.delete_message_and_what_hung_on_it(self._session, self._team_id, channel_id, ts)
        self._forget(
            lambda _key, row: (
                row.channel_id == channel_id
                and (row.message_ts == ts or (row.thread_ts == ts and row.kind != Kind.LINK.value))
            )
        )
        self._reactions.pop((channel_id, ts), None)
        for mark_key in [mark for mark in self._reaction_writes if mark[:2] == (channel_id, ts)]:
            del self._reaction_writes[mark_key]
        return NOTHING

    def _forget(self, gone: Callable[[str, _Row], bool]) -> None:
        """Drop the rows SQL just deleted (stored ones) and the batch's own inserts that went with them: `gone`
        says which, by (source_key, row), exactly as the SQL did."""
        for rows in self._rows.values():
            for source_key in [key for key, row in rows.items() if gone(key, row)]:
                del rows[source_key]

    def _settle(self, channel: ChannelContext, message: Mapping[str, Any]) -> IngestOutcome:
        """Keep what the message's newest version is worth; then its thread's replies and its emoji follow it."""
        ts = str(message["ts"])
        had_links = self._link_row(channel.channel_id, ts) is not None
        links_added = self._replace_message_entries(channel, message)
        if message.get("thread_ts") in (None, ts):  # top level: replies count only while it shares a link
            has_links = self._link_row(channel.channel_id, ts) is not None
            if had_links and not has_links:
                self._drop_thread_engagement(channel.channel_id, ts)
            elif has_links and not had_links:
                for reply_ts in sorted(self._replies.get((channel.channel_id, ts), ())):
                    reply = self._states.get((channel.channel_id, reply_ts))
                    if reply is not None and not reply.deleted and reply.message is not None:
                        self._replace_message_entries(channel, {**reply.message, "ts": reply_ts})
        self._settle_likes(channel.channel_id, ts)
        return IngestOutcome(links_added=links_added, user_id=message.get("user"), channel_id=channel.channel_id)

    def _replace_message_entries(self, channel: ChannelContext, message: Mapping[str, Any]) -> int:
        """Make the message's own entries (links, its reply) what it is worth now; return how many links are new."""
        key = (channel.channel_id, str(message["ts"]))
        entries = self._scope.counted(entries_for_message(message, channel, self._parent(channel.channel_id, message)))
        wanted = {entry.source_key: entry.kind.value for entry in entries}
        rows = self._rows[key]
        for source_key in [k for k, row in rows.items() if k.startswith(_MESSAGE_KEYS) and wanted.get(k) != row.kind]:
            self._drop(key, source_key)
        new_links = 0
        for entry in entries:
            if entry.source_key not in rows:
                self._add(entry)
                new_links += entry.kind is Kind.LINK
        return new_links

    def _parent(self, channel_id: str, message: Mapping[str, Any]) -> ParentMessage | None:
        thread_ts = message.get("thread_ts")
        if not isinstance(thread_ts, str) or thread_ts == message.get("ts"):
            return None
        link = self._link_row(channel_id, thread_ts)
        return ParentMessage(link.user_id, thread_ts, has_links=True) if link else None

    def _link_row(self, channel_id: str, ts: str) -> _Row | None:
        for row in self._rows.get((channel_id, ts), {}).values():
            if row.kind == Kind.LINK.value and row.message_ts == ts:
                return row
        return None

    def _drop_thread_engagement(self, channel_id: str, ts: str) -> None:
        """The parent's link went: the comments given in its thread go (SQL for rows the batch did not read)."""
        q.delete_thread_engagement(self._session, self._team_id, channel_id, ts)
        self._forget(
            lambda key, row: row.channel_id == channel_id and row.thread_ts == ts and key.startswith(_REPLY_KEY)
        )

    def _reaction(self, event: Mapping[str, Any]) -> IngestOutcome:
        """An emoji added or removed: the newest event on each (member, emoji) wins, then the message's likes follow.

        An emoji on a message the bot has not seen yet is remembered: it becomes a like if the message turns out
        to share a teammate's link.
        """
        key = _message_key(str(event.get("type")), event)
        user, reaction = event.get("user"), event.get("reaction")
        if key is None or not isinstance(user, str) or not isinstance(reaction, str) or user in self._scope.opted_out:
            return NOTHING
        reaction = limits.fit_key(reaction, limits.REACTION_NAME)  # the emoji's name is part of its row's key
        channel_id, ts, _thread = key
        known = self._states.get((channel_id, ts))
        if known is not None and known.deleted:
            return NOTHING
        event_ts = event.get("event_ts")
        mark = q.ReactionMark(event_ts if ts_order(event_ts) else ts, removed=event.get("type") == "reaction_removed")
        before = self._reactions[(channel_id, ts)].get((user, reaction))
        if before is not None and before.event_ts is not None and ts_order(before.event_ts) > ts_order(mark.event_ts):
            return NOTHING  # a newer event on this emoji came first
        self._reactions[(channel_id, ts)][(user, reaction)] = mark
        self._reaction_writes[(channel_id, ts, user, reaction)] = mark
        self._settle_likes(channel_id, ts)
        return NOTHING

    def _settle_likes(self, channel_id: str, ts: str) -> None:
        """One like per teammate with an emoji on a link message, dated by their first emoji; none on anything else."""
        key = (channel_id, ts)
        link = self._link_row(channel_id, ts)
        wanted: dict[str, LedgerEntry] = {}
        if link is not None:
            channel = ChannelContext(channel_id, link.is_private, self._scope.bot_user_id)
            present = [
                (user, mark.event_ts) for (user, _), mark in self._reactions.get(key, {}).items() if not mark.removed
            ]
            for user, event_ts in sorted(present, key=lambda item: ts_order(item[1] or ts)):
                if user in self._scope.opted_out or user in wanted:
                    continue
                like = entry_for_reaction(
                    reactor=user,
                    item_user=link.user_id,
                    channel=channel,
                    item_ts=ts,
                    event_ts=event_ts if event_ts and ts_order(event_ts) else ts,
                    item_has_links=True,
                )
                if like is not None:
                    wanted[like.source_key] = like
        rows = self._rows[key]
        for source_key in [k for k in rows if k.startswith(_LIKE_KEY) and k not in wanted]:
            self._drop(key, source_key)
        for source_key, like in wanted.items():
            if source_key not in rows:
                self._add(like)

    def _bot_joined(self, event: Mapping[str, Any]) -> IngestOutcome:
        """The bot was added to a channel: remember it (the summary's default home) and ask for its history."""
        channel_id = event.get("channel")
        if not isinstance(channel_id, str) or not channel_id:
            return NOTHING
        private = _is_private(self._privacy.get(channel_id), channel_id, event.get("channel_type"))
        q.upsert_channel(self._session, self._team_id, channel_id, is_private=private, bot_joined_at=self._scope.now)
        if self._scope.team.first_channel_id is None:
            self._scope.team.first_channel_id = channel_id
        return IngestOutcome(bot_joined_channel=channel_id)

    def _user_change(self, event: Mapping[str, Any]) -> IngestOutcome:
        """A member's profile changed: remember whether Slack deactivated them (never named again) or brought
        them back, and whether they are a bot."""
        user = event["user"]
        q.set_member_status(
            self._session,
            self._team_id,
            str(user["id"]),
            deleted=user.get("deleted") is True,
            is_bot=user.get("is_bot") is True,
            version=ts_order(event.get("event_ts")),
            now=self._scope.now,
        )
        return NOTHING

    _APPLY: ClassVar[dict[str, Callable[[LiveBatch, Mapping[str, Any]], IngestOutcome]]] = {
        "message": _message,
        "message_changed": _edit,
        "message_deleted": _deleted,
        "reaction_added": _reaction,
        "reaction_removed": _reaction,
        "bot_joined": _bot_joined,
        "user_change": _user_change,
    }

    def _channel(self, event: Mapping[str, Any]) -> ChannelContext:
        """The event's channel; its privacy is remembered when the event says it."""
        channel_id = str(event.get("channel") or "")
        channel_type = event.get("channel_type")
        private = _is_private(self._privacy.get(channel_id), channel_id, channel_type)
        if channel_type in _PRIVATE_CHANNEL_TYPES + _PUBLIC_CHANNEL_TYPES:
            self._privacy[channel_id] = self._channel_writes[channel_id] = private
        return ChannelContext(channel_id=channel_id, is_private=private, bot_user_id=self._scope.bot_user_id)

    def _add(self, entry: LedgerEntry) -> None:
        scope = self._scope
        self._rows[(entry.channel_id, entry.message_ts)][entry.source_key] = _Row(
            entry.kind.value,
            entry.user_id,
            entry.private,
            entry.channel_id,
            entry.message_ts,
            entry.thread_ts,
            row=entry_row(entry, team_id=scope.team.id, timezone=scope.timezone, now=scope.now),
        )

    def _drop(self, key: q.MessageKey, source_key: str) -> None:
        row = self._rows[key].pop(source_key)
        if row.id is not None:
            self._stale_ids.add(row.id)

    # -- writing the difference, at once ---------------------------------------------------------------------

    def write(self) -> None:
        session, team_id = self._session, self._team_id
        for channel_id, private in sorted(self._channel_writes.items()):
            q.upsert_channel(session, team_id, channel_id, is_private=private)
        q.save_message_states(session, team_id, self._state_writes, self._scope.now)
        q.save_reaction_marks(session, team_id, self._reaction_writes)
        delete_activity_ids(session, team_id, sorted(self._stale_ids))
        insert_activities(session, [row.row for rows in self._rows.values() for row in rows.values() if row.row])
        # Who opted out since the batch read it is forgotten again, with what the batch just wrote of theirs.
        forget_who_opted_out_since(session, team_id, self._scope.opted_out, self._scope.now)


# Fields of an event (and of its item, message and previous message) that are stored as ids and timestamps.
_ID_LIMITS = {
    **dict.fromkeys(("user", "channel", "item_user", "parent_user_id"), limits.SLACK_ID),
    **dict.fromkeys(("ts", "thread_ts", "deleted_ts", "event_ts"), limits.TS),
}


def _ids_fit(event: Mapping[str, Any]) -> bool:
    """Whether every id and ts the event carries fits its column: Slack's always do, so one that does not is no
    event of Slack's and changes nothing (PostgreSQL would refuse its rows and leave it unapplied)."""
    for part in (event, event.get("item"), event.get("message"), event.get("previous_message")):
        if isinstance(part, Mapping):
            for name, limit in _ID_LIMITS.items():
                value = part.get(name)
                if isinstance(value, str) and len(value) > limit:
                    return False
    return True


# The fields of a message from history or an export that the ledger keeps as ids and timestamps.
_MESSAGE_ID_LIMITS = {"user": limits.SLACK_ID, "ts": limits.TS, "thread_ts": limits.TS}


def message_ids_fit(message: Mapping[str, Any]) -> bool:
    """Whether a message from history or an export carries only ids and timestamps that fit their columns
    (Slack's always do; a message that does not counts for nothing, as such an event would)."""
    values = ((message.get(name), limit) for name, limit in _MESSAGE_ID_LIMITS.items())
    return not any(isinstance(value, str) and len(value) > limit for value, limit in values)


def event_action(event: Mapping[str, Any], bot_user_id: str | None) -> str | None:
    """Name what an event can change, or None for events that change nothing (and are not even stored).

    A plain message without links that is not a thread reply, bot messages, joins and leaves and the
    other subtypes, and someone else joining a channel all change nothing.
    """
    kind = event.get("type")
    if not _ids_fit(event):
        return None
    if kind == "message":
        subtype = event.get("subtype")
        if subtype in ("message_changed", "message_deleted"):
            return subtype
        if not is_human_message(event, bot_user_id):
            return None
        is_reply = isinstance(event.get("thread_ts"), str) and event.get("thread_ts") != event.get("ts")
        return "message" if is_reply or links_in(event) else None
    if kind in ("reaction_added", "reaction_removed"):
        return kind
    if kind == "member_joined_channel" and bot_user_id and event.get("user") == bot_user_id:
        return "bot_joined"
    if kind == "user_change" and _changed_user_id(event) is not None:
        return "user_change"
    return None


def _changed_user_id(event: Mapping[str, Any]) -> str | None:
    user = event.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else None
    return user_id if isinstance(user_id, str) and 0 < len(user_id) <= limits.SLACK_ID else None


# What of a user_change the inbox keeps: Slack sends the whole profile (email, phone, title, status), we need
# to know only whether the member was deactivated (or is a bot).
_USER_CHANGE_FIELDS = ("id", "team_id", "deleted", "is_bot")


def event_to_store(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event as the inbox stores it: whole, but for a user_change, only what the writer reads."""
    if event.get("type") != "user_change" or not isinstance(event.get("user"), Mapping):
        return dict(event)
    user = event["user"]
    return {
        "type": "user_change",
        "user": {field: user[field] for field in _USER_CHANGE_FIELDS if field in user},
        "event_ts": event.get("event_ts"),
    }


def event_channel(event: Mapping[str, Any]) -> str:
    """The channel an event changes things in ('' if none): writers of one channel take turns."""
    item = event.get("item")
    channel = item.get("channel") if isinstance(item, Mapping) else event.get("channel")
    return channel if isinstance(channel, str) else ""


class Scopes:
    """Each team's scope, read once per batch of events (the writer's transaction)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self._now = now
        self._scopes: dict[tuple[str, str | None], _Scope] = {}

    def get(self, team_id: str, bot_user_id: str | None) -> _Scope:
        key = (team_id, bot_user_id)
        scope = self._scopes.get(key)
        if scope is None:
            team = ensure_team(self._session, team_id, self._now)
            if bot_user_id and team.bot_user_id != bot_user_id:
                team.bot_user_id = bot_user_id
            scope = _Scope(
                team,
                bot_user_id or team.bot_user_id,
                team_settings(team).timezone,
                self._now,
                q.opted_out_user_ids(self._session, team_id),
            )
            self._scopes[key] = scope
        return scope


def apply_events(
    session: Session, scopes: Scopes, events: Sequence[tuple[str, Mapping[str, Any], str | None]]
) -> list[tuple[str, IngestOutcome]]:
    """Apply a batch of stored deliveries, (team, event, our bot user) oldest first, in the writer's transaction.

    What cannot change anything changes nothing. Returns what calls for Slack afterwards, per team.
    """
    by_team: dict[tuple[str, str | None], list[tuple[str, Mapping[str, Any]]]] = defaultdict(list)
    for team_id, event, bot_user_id in events:
        action = event_action(event, bot_user_id)
        if action is not None:
            by_team[(team_id, bot_user_id)].append((action, event))
    outcomes: list[tuple[str, IngestOutcome]] = []
    for (team_id, bot_user_id), team_events in by_team.items():
        batch = LiveBatch(session, scopes.get(team_id, bot_user_id), team_events)
        outcomes.extend((team_id, outcome) for outcome in batch.apply())
        batch.write()
    return outcomes


# --- history and exports -------------------------------------------------------------------------------


class ThreadMemory:
    """The thread parents of one channel seen so far, while its history is read oldest first.

    ts -> the author of its links, or None when it had none. Parents come before their replies, so most
    replies find their parent here; memory stays bounded by THREAD_MEMORY.
    """

    def __init__(self, keep: timedelta = THREAD_MEMORY) -> None:
        self._keep_seconds = keep.total_seconds()
        self._authors: OrderedDict[str, str | None] = OrderedDict()

    def __contains__(self, ts: str) -> bool:
        return ts in self._authors

    def link_author(self, ts: str) -> str | None:
        return self._authors.get(ts)

    def remember(self, ts: str, link_author: str | None) -> None:
        self._authors[ts] = link_author

    def forget_before(self, ts: str) -> None:
        """Drop parents older than the window before `ts` (call once per day of history)."""
        try:
            horizon = float(ts) - self._keep_seconds
        except ValueError:
            return
        while self._authors:
            oldest = next(iter(self._authors))
            if _ts_seconds(oldest) >= horizon:
                break
            self._authors.popitem(last=False)


class ThreadParents(ThreadMemory):
    """ThreadMemory that looks a parent it does not remember up in the store, once (read in an earlier run,
    or older than the window)."""

    def __init__(self, lookup: Callable[[str], ParentMessage | None], keep: timedelta = THREAD_MEMORY) -> None:
        super().__init__(keep)
        self._lookup = lookup

    def parent_of(self, message: Mapping[str, Any]) -> ParentMessage | None:
        thread_ts = message.get("thread_ts")
        if not isinstance(thread_ts, str) or thread_ts == message.get("ts"):
            return None
        if thread_ts not in self:
            found = self._lookup(thread_ts)
            self.remember(thread_ts, found.user_id if found else None)
        author = self.link_author(thread_ts)
        return ParentMessage(author, thread_ts, has_links=True) if author else None


def _ts_seconds(ts: object) -> float:
    try:
        return float(ts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def oldest_first(messages: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Sort by ts so a thread's parent precedes its replies; unreadable timestamps go first (and count nothing)."""
    listed = list(messages)
    try:  # every message with a readable ts, as nearly always: the same order, sooner
        return sorted(listed, key=lambda message: float(message["ts"]))
    except (KeyError, TypeError, ValueError):
        return sorted(listed, key=lambda message: _ts_seconds(message.get("ts")))


def reaction_likes(
    message: Mapping[str, Any], channel: ChannelContext, unwanted: AbstractSet[str]
) -> tuple[list[LedgerEntry], list[tuple[str, str]]]:
    """The likes the emoji on a link message from history are worth, and each (member, emoji) to remember.

    History carries reactions on the message itself (`reactions: [{name, users, count}]`): one like per
    teammate however many emoji, never from the author, our bot or `unwanted` members (bots, opted out).
    """
    ts, author = message["ts"], message["user"]
    likes: dict[str, LedgerEntry] = {}
    emoji: list[tuple[str, str]] = []
    for reaction in message["reactions"]:
        if not isinstance(reaction, Mapping) or not isinstance(reaction.get("users"), list):
            continue
        name = limits.fit_key(str(reaction.get("name") or ""), limits.REACTION_NAME)
        for user in reaction["users"]:
            if not isinstance(user, str) or user in unwanted or len(user) > limits.SLACK_ID:
                continue  # (no Slack id is longer than its column)
            like = likes.get(user) or entry_for_reaction(
                reactor=user, item_user=author, channel=channel, item_ts=ts, event_ts=ts, item_has_links=True
            )
            if like is None:
                continue
            likes[user] = like
            emoji.append((user, name))
    return list(likes.values()), emoji


@dataclass
class Tally:
    """What a history or export import read and counted."""

    messages: int = 0
    links: int = 0
    comments: int = 0
    likes: int = 0
    new_entries: int = 0


@dataclass
class LedgerBatch:
    """Ledger rows from a channel's history read through Slack's API, buffered and written in batches.

    Reactions arrive on the message itself here (see `reaction_likes`). Exports are read by
    `bot.services.export_reader` with the same rules, in bulk.
    """

    team_id: str
    timezone: str
    now: datetime
    bots: frozenset[str] = frozenset()
    opted_out: frozenset[str] = frozenset()
    tally: Tally = field(default_factory=Tally)
    rows: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, str]] = field(default_factory=list)

    def add(self, message: Mapping[str, Any], channel: ChannelContext, parents: ThreadParents) -> None:
        self.tally.messages += 1
        if not message_ids_fit(message):
            return  # no message of Slack's carries an id that long, and no column would keep it
        found = entries_for_message(message, channel, parents.parent_of(message))
        out = self.opted_out
        entries = [entry for entry in found if entry.user_id not in out and entry.counterpart not in out]
        ts = message.get("ts")
        has_links = any(entry.kind is Kind.LINK for entry in entries)
        is_reply = message.get("thread_ts") not in (None, ts)
        if isinstance(ts, str) and not is_reply and (has_links or message.get("reply_count")):
            parents.remember(ts, message["user"] if has_links else None)
        if has_links and isinstance(message.get("reactions"), list):
            entries.extend(self._reaction_likes(message, channel))
        for entry in entries:
            if entry.kind is Kind.LINK:
                self.tally.links += 1
            elif entry.kind is Kind.COMMENT:
                self.tally.comments += 1
            else:
                self.tally.likes += 1
        self.rows.extend(
            entry_row(entry, team_id=self.team_id, timezone=self.timezone, now=self.now) for entry in entries
        )

    def _reaction_likes(self, message: Mapping[str, Any], channel: ChannelContext) -> list[LedgerEntry]:
        likes, emoji = reaction_likes(message, channel, self.bots | self.opted_out)
        self.reactions.extend(
            {
                "team_id": self.team_id,
                "channel_id": channel.channel_id,
                "message_ts": message["ts"],
                "user_id": user,
                "reaction": name,
            }
            for user, name in emoji
        )
        return likes

    def flush(self, session: Session) -> None:
        """Write what is buffered (duplicates of earlier imports are skipped by the unique index).

        An import reads a channel for minutes: a member who opts out meanwhile is forgotten again here, with
        what this import wrote of theirs, and left out of the rest of it.
        """
        hold_opt_outs_steady(session)
        self.tally.new_entries += insert_activities(session, self.rows)
        q.add_reactions(session, self.reactions)
        self.rows.clear()
        self.reactions.clear()
        self.opted_out |= forget_who_opted_out_since(session, self.team_id, self.opted_out, self.now)
