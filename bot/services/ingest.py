"""What the bot sees in Slack, into the ledger: live events, and the rows history and export imports share.

Live events are stored before they are acknowledged (`receive_event`): a copy of an event that was
already processed is skipped, and one that was stored but never finished is processed again, here or
by `replay_unprocessed`. Processing never depends on that dedupe alone: ledger rows are unique per
(team, source_key) and edits replace the entries of one (channel, ts), so any event can be applied
twice. Every path turns a message into entries with `bot.coach.messages.entries_for_message`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.coach.kinds import Kind, Source
from bot.coach.messages import (
    ChannelContext,
    LedgerEntry,
    ParentMessage,
    entries_for_message,
    entry_for_reaction,
    is_human_message,
    links_in,
    ts_to_datetime,
)
from bot.deps import Deps
from bot.services.errors import EventNotStored
from bot.services.teams import ensure_team, team_settings
from bot.store import ingest_queries as q
from bot.store.ledger import activity_row, delete_activity_ids, insert_activities
from bot.store.models import Team

log = logging.getLogger(__name__)

# Slack retries for two hours; keep processed events a day so a late copy is still recognised.
KEEP_PROCESSED = timedelta(days=1)
# An event that failed this often is left for a person to look at, and pruned after a week.
MAX_ATTEMPTS = 5
KEEP_ABANDONED = timedelta(days=7)
REPLAY_BATCH = 500
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
        if not isinstance(event, Mapping):
            return None
        return cls(team_id, event_id, event, bot_user_id)


@dataclass(frozen=True)
class IngestOutcome:
    """What an event changed that the listener acts on after the transaction committed."""

    duplicate: bool = False
    links_added: int = 0
    user_id: str | None = None
    channel_id: str | None = None
    bot_joined_channel: str | None = None  # the bot was added here: import the channel's history


NOTHING = IngestOutcome()
DUPLICATE = IngestOutcome(duplicate=True)


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


def _rows(entries: Iterable[LedgerEntry], scope: _Scope) -> list[dict[str, Any]]:
    return [entry_row(entry, team_id=scope.team.id, timezone=scope.timezone, now=scope.now) for entry in entries]


def _is_private(session: Session, team_id: str, channel_id: str, channel_type: object) -> bool:
    """The event's channel_type decides; else what we stored about the channel; else the id's prefix."""
    if channel_type in _PRIVATE_CHANNEL_TYPES:
        return True
    if channel_type in _PUBLIC_CHANNEL_TYPES:
        return False
    stored = q.channel_is_private(session, team_id, channel_id)
    return stored if stored is not None else channel_id.startswith("G")


def _channel(session: Session, scope: _Scope, event: Mapping[str, Any]) -> ChannelContext:
    channel_id = str(event.get("channel") or "")
    private = _is_private(session, scope.team.id, channel_id, event.get("channel_type"))
    return ChannelContext(channel_id=channel_id, is_private=private, bot_user_id=scope.bot_user_id)


def _parent(session: Session, team_id: str, channel_id: str, message: Mapping[str, Any]) -> ParentMessage | None:
    thread_ts = message.get("thread_ts")
    if not isinstance(thread_ts, str) or thread_ts == message.get("ts"):
        return None
    return q.link_parent(session, team_id, channel_id, thread_ts)


def _remember_channel(session: Session, scope: _Scope, event: Mapping[str, Any], channel: ChannelContext) -> None:
    if event.get("channel_type") in _PRIVATE_CHANNEL_TYPES + _PUBLIC_CHANNEL_TYPES:
        q.upsert_channel(session, scope.team.id, channel.channel_id, is_private=channel.is_private)


# --- live events, one function per kind --------------------------------------------------------------


def ingest_message(session: Session, scope: _Scope, event: Mapping[str, Any]) -> IngestOutcome:
    """A new message: its links are the author's output; a reply to a teammate's link is engagement."""
    channel = _channel(session, scope, event)
    parent = _parent(session, scope.team.id, channel.channel_id, event)
    entries = scope.counted(entries_for_message(event, channel, parent))
    if not entries:
        return NOTHING
    _remember_channel(session, scope, event, channel)
    links = [entry for entry in entries if entry.kind is Kind.LINK]
    insert_activities(session, _rows((entry for entry in entries if entry.kind is not Kind.LINK), scope))
    links_added = insert_activities(session, _rows(links, scope))
    return IngestOutcome(links_added=links_added, user_id=entries[0].user_id, channel_id=channel.channel_id)


def ingest_edit(session: Session, scope: _Scope, event: Mapping[str, Any]) -> IngestOutcome:
    """message_changed: read the message again and replace what it was worth, leaving reactions alone.

    The unfurl Slack adds later is such an edit: the links are the same, so nothing changes. A tombstone
    (a thread parent deleted while it has replies) is a deletion.
    """
    message = event.get("message")
    if not isinstance(message, Mapping):
        return NOTHING
    previous = event.get("previous_message") if isinstance(event.get("previous_message"), Mapping) else {}
    ts = message.get("ts") or previous.get("ts")
    if not isinstance(ts, str):
        return NOTHING
    channel = _channel(session, scope, event)
    if message.get("subtype") == "tombstone":
        q.delete_message_and_what_hung_on_it(session, scope.team.id, channel.channel_id, ts)
        return NOTHING
    if not is_human_message(message, scope.bot_user_id):
        return NOTHING  # an edit of a bot's message, or one we cannot read: what we counted stands
    message = {**message, "ts": ts}
    parent = _parent(session, scope.team.id, channel.channel_id, message)
    entries = scope.counted(entries_for_message(message, channel, parent))
    wanted = {entry.source_key: entry.kind.value for entry in entries}
    stored = q.message_entries(session, scope.team.id, channel.channel_id, ts)
    stale = [row_id for key, (row_id, kind) in stored.items() if wanted.get(key) != kind]
    delete_activity_ids(session, scope.team.id, stale)
    if entries:
        _remember_channel(session, scope, event, channel)
    links_added = insert_activities(session, _rows((e for e in entries if e.kind is Kind.LINK), scope))
    insert_activities(session, _rows((e for e in entries if e.kind is not Kind.LINK), scope))
    return IngestOutcome(links_added=links_added, user_id=message.get("user"), channel_id=channel.channel_id)


def ingest_delete(session: Session, scope: _Scope, event: Mapping[str, Any]) -> IngestOutcome:
    """message_deleted: the shared link goes, and so do the replies and reactions it received."""
    previous = event.get("previous_message") if isinstance(event.get("previous_message"), Mapping) else {}
    ts = event.get("deleted_ts") or previous.get("ts")
    if isinstance(ts, str):
        q.delete_message_and_what_hung_on_it(session, scope.team.id, str(event.get("channel") or ""), ts)
    return NOTHING


def _reaction_target(event: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(channel, message ts, reacting member) of a reaction on a message; None for files and the malformed."""
    item = event.get("item")
    if not isinstance(item, Mapping) or item.get("type") != "message":
        return None
    channel_id, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if not (isinstance(channel_id, str) and isinstance(ts, str) and isinstance(user, str)):
        return None
    return channel_id, ts, user


def _like_for(
    scope: _Scope, link: q.LinkMessage, channel_id: str, ts: str, user: str, event_ts: object
) -> LedgerEntry | None:
    """The like a reaction on a link message is worth; one without a readable time counts at the message's."""
    when = event_ts if isinstance(event_ts, str) else ts
    try:
        ts_to_datetime(when)
    except ValueError:
        when = ts
    return entry_for_reaction(
        reactor=user,
        item_user=link.user_id,
        channel=ChannelContext(channel_id, link.is_private, scope.bot_user_id),
        item_ts=ts,
        event_ts=when,
        item_has_links=True,
    )


def ingest_reaction_added(session: Session, scope: _Scope, event: Mapping[str, Any]) -> IngestOutcome:
    """An emoji on a teammate's link is a like: one per member per message, however many emoji."""
    target = _reaction_target(event)
    link = q.link_message(session, scope.team.id, target[0], target[1]) if target else None
    if target is None or link is None:
        return NOTHING
    channel_id, ts, user = target
    like = _like_for(scope, link, channel_id, ts, user, event.get("event_ts"))
    if like is None or like.user_id in scope.opted_out:
        return NOTHING
    reaction = str(event.get("reaction") or "")
    q.add_reactions(
        session,
        [{"team_id": scope.team.id, "channel_id": channel_id, "message_ts": ts, "user_id": user, "reaction": reaction}],
    )
    insert_activities(session, _rows([like], scope))
    return NOTHING


def ingest_reaction_removed(session: Session, scope: _Scope, event: Mapping[str, Any]) -> IngestOutcome:
    """Removing an emoji takes the like back once the member has no emoji left on that message."""
    target = _reaction_target(event)
    link = q.link_message(session, scope.team.id, target[0], target[1]) if target else None
    if target is None or link is None:
        return NOTHING
    channel_id, ts, user = target
    like = _like_for(scope, link, channel_id, ts, user, event.get("event_ts"))
    if like is None:
        return NOTHING
    remaining = q.remove_reaction(session, scope.team.id, channel_id, ts, user, str(event.get("reaction") or ""))
    if remaining == 0:
        q.delete_entry(session, scope.team.id, like.source_key)
    return NOTHING


def ingest_bot_joined(session: Session, scope: _Scope, event: Mapping[str, Any]) -> IngestOutcome:
    """The bot was added to a channel: remember it (the summary's default home) and ask for its history."""
    channel_id = event.get("channel")
    if not isinstance(channel_id, str) or not channel_id:
        return NOTHING
    private = _is_private(session, scope.team.id, channel_id, event.get("channel_type"))
    q.upsert_channel(session, scope.team.id, channel_id, is_private=private, bot_joined_at=scope.now)
    if scope.team.first_channel_id is None:
        scope.team.first_channel_id = channel_id
    return IngestOutcome(bot_joined_channel=channel_id)


_Apply = Callable[[Session, _Scope, Mapping[str, Any]], IngestOutcome]
_APPLY: dict[str, _Apply] = {
    "message": ingest_message,
    "message_changed": ingest_edit,
    "message_deleted": ingest_delete,
    "reaction_added": ingest_reaction_added,
    "reaction_removed": ingest_reaction_removed,
    "bot_joined": ingest_bot_joined,
}


def event_action(event: Mapping[str, Any], bot_user_id: str | None) -> str | None:
    """Name what an event can change, or None for events that change nothing (and are not even stored).

    A plain message without links that is not a thread reply, bot messages, joins and leaves and the
    other subtypes, and someone else joining a channel all change nothing.
    """
    kind = event.get("type")
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
    return None


# --- store before ack, process, replay ---------------------------------------------------------------


def receive_event(deps: Deps, envelope: EventEnvelope) -> IngestOutcome:
    """Store the delivery (committed), then apply it and mark it processed in one transaction.

    A copy of an event already processed changes nothing. A copy that arrives while the first is still
    being processed, or after it failed, is applied again, which is harmless.
    """
    action = event_action(envelope.event, envelope.bot_user_id)
    if action is None:
        return NOTHING
    now = deps.now()
    try:
        with deps.db.session() as session:
            processed_at = q.store_event(
                session,
                team_id=envelope.team_id,
                event_id=envelope.event_id,
                event_type=str(envelope.event.get("type"))[:64],
                payload={"event": dict(envelope.event), "bot_user_id": envelope.bot_user_id},
                now=now,
            )
    except Exception as error:  # whatever the driver raised, the event is not safe yet: let Slack retry
        raise EventNotStored(f"event {envelope.event_id} could not be stored") from error
    if processed_at is not None:
        log.info("skipped event %s: a copy was already processed", envelope.event_id)
        return DUPLICATE
    return _process(deps, envelope, action)


def _process(deps: Deps, envelope: EventEnvelope, action: str) -> IngestOutcome:
    now = deps.now()
    with deps.db.session() as session:
        team = ensure_team(session, envelope.team_id, now)
        if envelope.bot_user_id and team.bot_user_id != envelope.bot_user_id:
            team.bot_user_id = envelope.bot_user_id
        scope = _Scope(
            team,
            envelope.bot_user_id or team.bot_user_id,
            team_settings(team).timezone,
            now,
            q.opted_out_user_ids(session, envelope.team_id),
        )
        outcome = _APPLY[action](session, scope, envelope.event)
        q.mark_event_processed(session, envelope.team_id, envelope.event_id, now)
    return outcome


def _mark_processed(deps: Deps, envelope: EventEnvelope) -> IngestOutcome:
    with deps.db.session() as session:
        q.mark_event_processed(session, envelope.team_id, envelope.event_id, deps.now())
    return NOTHING


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did; `bot_joined` lists (team, channel) whose history import still has to start."""

    replayed: int
    failed: int
    pruned: int
    bot_joined: tuple[tuple[str, str], ...] = ()


def replay_unprocessed(deps: Deps, older_than: timedelta = timedelta(minutes=2)) -> ReplayReport:
    """Apply stored events that were never processed (a crash, a failing listener), then prune old ones.

    `older_than` leaves alone events a listener may be processing right now. Meant for the clock, every
    few minutes. An event that keeps failing is tried MAX_ATTEMPTS times, then left for a person.
    """
    now = deps.now()
    with deps.db.session() as session:
        pending = q.unprocessed_events(
            session, received_before=now - older_than, max_attempts=MAX_ATTEMPTS, limit=REPLAY_BATCH
        )
    replayed = failed = 0
    joined: list[tuple[str, str]] = []
    for stored in pending:
        event = stored.payload.get("event")
        envelope = EventEnvelope(
            stored.team_id,
            stored.event_id,
            event if isinstance(event, Mapping) else {},
            stored.payload.get("bot_user_id"),
        )
        action = event_action(envelope.event, envelope.bot_user_id)
        with deps.db.session() as session:
            q.bump_attempts(session, stored.team_id, stored.event_id)
        try:
            outcome = _process(deps, envelope, action) if action else _mark_processed(deps, envelope)
        except Exception:  # one poisoned event must not stop the others; it stays stored for a person
            log.exception("replaying event %s failed (attempt %d)", stored.event_id, stored.attempts + 1)
            failed += 1
            continue
        replayed += 1
        if outcome.bot_joined_channel:
            joined.append((stored.team_id, outcome.bot_joined_channel))
    with deps.db.session() as session:
        pruned = q.prune_events(session, processed_before=now - KEEP_PROCESSED, abandoned_before=now - KEEP_ABANDONED)
    return ReplayReport(replayed, failed, pruned, tuple(joined))


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
        name = str(reaction.get("name") or "")
        for user in reaction["users"]:
            if not isinstance(user, str) or user in unwanted:
                continue
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
        found = entries_for_message(message, channel, parents.parent_of(message))
        entries = [entry for entry in found if entry.user_id not in self.opted_out]
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
        """Write what is buffered (duplicates of earlier imports are skipped by the unique index)."""
        self.tally.new_entries += insert_activities(session, self.rows)
        q.add_reactions(session, self.reactions)
        self.rows.clear()
        self.reactions.clear()
