"""The inbox's queries: store a delivery on the request path, claim a batch for the ledger writer, park failures.

Every function takes the caller's Session and never commits (`bot.services.inbox` owns the transactions).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from bot.store.models import InboundEvent
from bot.store.upsert import insert_for_dialect

_INBOX = InboundEvent.__table__
_PENDING = InboundEvent.processed_at.is_(None)


@dataclass(frozen=True)
class StoredEvent:
    """One delivery as the writer reads it back: whose, which, the event and our bot user at the time."""

    team_id: str
    event_id: str
    payload: dict[str, Any]
    attempts: int
    received_at: datetime | None = None
    last_error: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.team_id, self.event_id)


def store(connection: Connection, row: dict[str, Any]) -> None:
    """Insert a delivery (InboundEvent's columns) unless a copy with its (team, event_id) is already stored.

    It is all the request path writes: one Core statement on a bare connection, built once per dialect, so
    a delivery costs the driver's insert and little else (no ORM session, no statement to build or compile).
    """
    dialect = connection.dialect.name
    connection.execute(_store_statement(dialect), row)


@functools.cache
def _store_statement(dialect: str) -> Any:
    return insert_for_dialect(dialect)(_INBOX).on_conflict_do_nothing(index_elements=["team_id", "event_id"])


_CLAIM_COLUMNS = (InboundEvent.team_id, InboundEvent.event_id, InboundEvent.payload, InboundEvent.attempts)


def claim(session: Session, *, limit: int, max_attempts: int, skip_locked: bool, now: datetime) -> list[StoredEvent]:
    """The oldest deliveries (by the event's Slack ts) not yet applied nor parked.

    On PostgreSQL the rows stay locked until the transaction ends and rows another writer holds are skipped,
    so any number of writers share the inbox without applying a delivery twice.
    """
    statement = (
        select(*_CLAIM_COLUMNS)
        .where(
            _PENDING,
            InboundEvent.attempts < max_attempts,
            or_(InboundEvent.retry_after.is_(None), InboundEvent.retry_after <= now),
        )
        .order_by(InboundEvent.event_ts, InboundEvent.received_at)
        .limit(limit)
    )
    if skip_locked:
        statement = statement.with_for_update(skip_locked=True)
    return [StoredEvent(*row) for row in session.execute(statement)]


def claim_one(session: Session, key: tuple[str, str], *, skip_locked: bool) -> StoredEvent | None:
    """One delivery again by its key (a failed batch is retried one delivery at a time), if still unapplied."""
    statement = select(*_CLAIM_COLUMNS).where(InboundEvent.team_id == key[0], InboundEvent.event_id == key[1], _PENDING)
    if skip_locked:
        statement = statement.with_for_update(skip_locked=True)
    row = session.execute(statement).first()
    return StoredEvent(*row) if row else None


def lock_channels(session: Session, channels: Iterable[tuple[str, str]]) -> None:
    """Serialize writers on PostgreSQL per (team, channel) until commit: a reply and its parent must not be
    applied side by side, each blind to the other. Taken in one sorted order, so writers cannot deadlock."""
    keys = sorted({zlib.crc32(f"{team}:{channel}".encode()) for team, channel in channels})
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :key)"), {"namespace": 7_14, "key": key - 2**31})


# What an applied delivery keeps: its (team, event_id) and times, for dedupe; never the event's text.
_APPLIED = {"payload": {}, "last_error": None}


def mark_processed(session: Session, keys: Sequence[tuple[str, str]], now: datetime) -> None:
    """Settle applied deliveries and empty their payloads: a late copy is recognised by its key alone."""
    for begin in range(0, len(keys), 500):
        session.execute(
            update(InboundEvent)
            .where(tuple_(InboundEvent.team_id, InboundEvent.event_id).in_(keys[begin : begin + 500]))
            .values(processed_at=now, **_APPLIED)
        )


def attempts(session: Session, key: tuple[str, str]) -> int:
    return (
        session.scalar(
            select(InboundEvent.attempts).where(InboundEvent.team_id == key[0], InboundEvent.event_id == key[1])
        )
        or 0
    )


def record_failure(session: Session, key: tuple[str, str], error: str, retry_after: datetime) -> int:
    """Count a failed attempt at applying the delivery, not to be tried again before `retry_after`; return
    its attempts so far."""
    return session.execute(
        update(InboundEvent)
        .where(InboundEvent.team_id == key[0], InboundEvent.event_id == key[1])
        .values(attempts=InboundEvent.attempts + 1, last_error=error[:2000], retry_after=retry_after)
        .returning(InboundEvent.attempts)
    ).scalar_one()


def counts(session: Session, *, max_attempts: int) -> tuple[int, int]:
    """(deliveries waiting to be applied, deliveries parked after max_attempts failures)."""
    waiting, parked = session.execute(
        select(
            func.count().filter(InboundEvent.attempts < max_attempts),
            func.count().filter(InboundEvent.attempts >= max_attempts),
        ).where(_PENDING)
    ).one()
    return int(waiting or 0), int(parked or 0)


def parked(session: Session, *, max_attempts: int, limit: int = 100) -> list[StoredEvent]:
    rows = session.execute(
        select(*_CLAIM_COLUMNS, InboundEvent.received_at, InboundEvent.last_error)
        .where(_PENDING, InboundEvent.attempts >= max_attempts)
        .order_by(InboundEvent.received_at)
        .limit(limit)
    )
    return [StoredEvent(*row) for row in rows]


def unpark(session: Session, *, max_attempts: int, event_ids: Sequence[str] = ()) -> int:
    """Give parked deliveries (all, or those of `event_ids`) a fresh set of attempts; return how many."""
    condition = [_PENDING, InboundEvent.attempts >= max_attempts]
    if event_ids:
        condition.append(InboundEvent.event_id.in_(list(event_ids)))
    result = session.execute(update(InboundEvent).where(*condition).values(attempts=0, retry_after=None))
    return result.rowcount or 0


def prune(session: Session, *, processed_before: datetime) -> int:
    """Delete applied deliveries past Slack's retry window (parked ones stay until a person retries them)."""
    result = session.execute(delete(InboundEvent).where(InboundEvent.processed_at < processed_before))
    return result.rowcount or 0


def oldest_waiting(session: Session, *, max_attempts: int) -> datetime | None:
    """When the oldest delivery still waiting to be applied came in (how far behind the writer is)."""
    return session.scalar(
        select(func.min(InboundEvent.received_at)).where(_PENDING, InboundEvent.attempts < max_attempts)
    )
