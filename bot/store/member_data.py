"""Everything the bot keeps that names one member or carries their words, and how opt-out forgets it.

`FORGOTTEN_BY` says, table by table, what `forget_member` does there; `HOLDS_NO_MEMBER_DATA` lists the tables
that never name a member. A table in neither is a table nobody decided about: the opt-out test fails on it.
These queries take the caller's Session and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, select, text, update
from sqlalchemy.orm import Session

from bot.store.ledger import delete_activities
from bot.store.models import Activity, Delivery, InboundEvent, Member, MessageState, Reaction, Team

# What opt-out does in each table that can name a member (see forget_member).
FORGOTTEN_BY: Mapping[str, str] = {
    "teams": "the member leaves the team's coach admins (settings name no one who opted out)",
    "members": "the row stays, flagged opted_out, with nothing else about them (it remembers the choice)",
    "activities": "their actions, and teammates' engagement with their (now uncounted) links, are deleted",
    "rollup_totals": "kept on write: emptied with the ledger rows they summed",
    "rollup_counterparts": "kept on write: emptied with the ledger rows they summed",
    "rollup_days": "kept on write: emptied with the ledger rows they summed",
    "rollup_hours": "kept on write: emptied with the ledger rows they summed",
    "rollup_received_pairs": "kept on write: emptied with the ledger rows they summed",
    "reactions": "their emoji are deleted",
    "message_states": "every kept message version that names them (theirs, replies to them, mentions) is deleted",
    "inbound_events": "deliveries that name them keep only (team, event_id) for dedupe: the payload is emptied",
    "deliveries": "the records of messages sent to them (nudges) are deleted",
}
COACH_ADMINS = "coach_admins"  # the key of TeamSettings.to_dict() that names members
# Tables with no column that can hold a member's id or words.
HOLDS_NO_MEMBER_DATA = frozenset({"channels"})

# Every profile field of the member row cleared on opt-out; user_id, team_id, opted_out and the flags stay.
_FORGOTTEN_PROFILE = {
    "name": None,
    "tz": None,
    "is_admin": False,
    "admin_checked_at": None,
    "nudges_paused_until": None,
    "nudges_stopped": False,
    "last_nudged_at": None,
    "last_burst_note_at": None,
}


@dataclass(frozen=True)
class Forgotten:
    """How much opt-out deleted: `actions` is the member's own ledger rows, what the confirmation reports."""

    actions: int
    engagement_with_them: int
    reactions: int
    message_versions: int
    deliveries_emptied: int
    messages_sent_to_them: int


def _names(column: Any, user_id: str) -> ColumnElement[bool]:
    """The JSON or text column holds the member's id somewhere (author, mention, parent, reactor)."""
    return cast(column, Text).contains(user_id, autoescape=True)


def authored_by(payload: Any, user_id: str) -> bool:
    """Whether a stored delivery is the member's own doing: their message, edit, deletion or emoji."""
    event = payload.get("event") if isinstance(payload, Mapping) else None
    if not isinstance(event, Mapping):
        return False
    candidates = [event]
    candidates += [event[key] for key in ("message", "previous_message") if isinstance(event.get(key), Mapping)]
    return any(candidate.get("user") == user_id for candidate in candidates)


# PostgreSQL advisory lock (namespace, key) between writers and opt-outs (the inbox's channel locks use 714).
_OPT_OUTS_LOCK = {"namespace": 715, "key": 0}


def hold_opt_outs_steady(session: Session, *, exclusive: bool = False) -> None:
    """On PostgreSQL, until commit: writers (shared) read who opted out and write knowing it stays true; an
    opt-out (exclusive) waits for the writes in flight, and every later write waits for it and sees it.

    Taken first in a transaction, before any row lock, so the two can never wait on each other. On SQLite a
    transaction that has written holds the database's write lock: writers check again at the end
    (`forget_who_opted_out_since`) for an opt-out that committed between their read and their first write.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {lock}(:namespace, :key)"), _OPT_OUTS_LOCK)


def forget_member(
    session: Session,
    team_id: str,
    user_id: str,
    now: datetime,
    *,
    max_attempts: int | None = None,
    exclusive: bool = True,
) -> Forgotten:
    """Delete everything that names the member or carries their words; flag their row opted out.

    Teammates' replies and likes on the member's links go with the links: the ledger only ever counts
    engagement with a link it counts (a thread whose link is deleted counts nothing either), so the
    teammates' standings are what a fresh import of the channels, without the member, would give.
    The rollups follow the ledger rows on their own (`bot.store.rollups`). Deliveries parked after
    `max_attempts` failures are emptied too (None: only applied ones and the member's own). A writer that
    forgets again a member who opted out meanwhile already holds the lock, shared, and needs no more.
    """
    if exclusive:
        hold_opt_outs_steady(session, exclusive=True)
    actions = delete_activities(session, team_id, Activity.user_id == user_id)
    engagement = delete_activities(session, team_id, Activity.counterpart == user_id)
    reactions = session.execute(delete(Reaction).where(Reaction.team_id == team_id, Reaction.user_id == user_id))
    versions = session.execute(
        delete(MessageState).where(MessageState.team_id == team_id, _names(MessageState.message, user_id))
    )
    emptied = _empty_deliveries(session, team_id, user_id, now, max_attempts)
    sent = session.execute(delete(Delivery).where(Delivery.team_id == team_id, Delivery.key.contains(f":{user_id}:")))
    session.execute(
        update(Member)
        .where(Member.team_id == team_id, Member.user_id == user_id)
        .values(opted_out=True, updated_at=now, **_FORGOTTEN_PROFILE)
    )
    _leave_coach_admins(session, team_id, user_id)
    return Forgotten(actions, engagement, reactions.rowcount or 0, versions.rowcount or 0, emptied, sent.rowcount or 0)


def _leave_coach_admins(session: Session, team_id: str, user_id: str) -> None:
    """Take the member out of the team's coach admins (an admin can add them back; workspace admins stay admins
    through Slack)."""
    team = session.get(Team, team_id)
    admins = (team.settings or {}).get(COACH_ADMINS) if team is not None else None
    if team is not None and isinstance(admins, list) and user_id in admins:
        team.settings = {**team.settings, COACH_ADMINS: [admin for admin in admins if admin != user_id]}


def _empty_deliveries(session: Session, team_id: str, user_id: str, now: datetime, max_attempts: int | None) -> int:
    """Empty the payloads of inbox rows that name the member; keep (team, event_id), which dedupe needs.

    Applied and parked deliveries are emptied (a parked one waits for a person, maybe for days); a waiting
    delivery of the member's own is emptied and settled (the writer would ignore it anyway). A teammate's
    waiting delivery that only mentions them is left for the writer, which empties every payload it applies
    (`bot.store.inbox.mark_processed`).
    """
    rows = session.execute(
        select(InboundEvent.event_id, InboundEvent.payload, InboundEvent.processed_at, InboundEvent.attempts).where(
            InboundEvent.team_id == team_id, _names(InboundEvent.payload, user_id)
        )
    ).all()
    emptied = 0
    for event_id, payload, processed_at, attempts in rows:
        waiting = processed_at is None and (max_attempts is None or attempts < max_attempts)
        if waiting and not authored_by(payload, user_id):
            continue
        session.execute(
            update(InboundEvent)
            .where(InboundEvent.team_id == team_id, InboundEvent.event_id == event_id)
            .values(payload={}, last_error=None, processed_at=processed_at or now)
        )
        emptied += 1
    return emptied


def forget_who_opted_out_since(
    session: Session, team_id: str, known: AbstractSet[str], now: datetime
) -> frozenset[str]:
    """At the end of a writer's transaction (a batch of events, a page of history, an import): forget again
    every member who opted out since it read `known`, with what it wrote of theirs; return who.

    A writer reads who opted out, then writes for a while: an opt-out in between would otherwise be undone.
    The caller holds `hold_opt_outs_steady` from the start of its transaction.
    """
    opted_out = session.scalars(select(Member.user_id).where(Member.team_id == team_id, Member.opted_out))
    now_out = frozenset(opted_out) - known
    for user_id in sorted(now_out):
        forget_member(session, team_id, user_id, now, exclusive=False)
    return now_out
