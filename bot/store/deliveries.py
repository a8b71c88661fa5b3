"""Delivery rows: the claim-before-send ledger behind everything the clock posts exactly once.

Every write here is a compare-and-set (an INSERT on the unique (team_id, key), or an UPDATE that names
the status and attempt it expects), so two processes racing for the same message cannot both win, on
SQLite or on PostgreSQL. The rules for when a claim may be taken over live in bot.services.deliveries.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.orm import Session

from bot.store.models import Delivery
from bot.store.upsert import insert_for


class Status(enum.StrEnum):
    CLAIMED = "claimed"  # someone is sending it now (or crashed while sending)
    SENT = "sent"  # Slack has it; message_ts says where
    FAILED = "failed"  # Slack refused it after the client's retries; a later tick tries again
    UNCONFIRMED = "unconfirmed"  # Slack may have it (a 5xx, a lost connection); a later tick looks, then sends
    ABANDONED = "abandoned"  # given up on purpose: sending again could duplicate it
    SKIPPED = "skipped"  # nothing to send this time (e.g. no links waiting); settled all the same


SETTLED = frozenset({Status.SENT, Status.ABANDONED, Status.SKIPPED})


def find_delivery(session: Session, team_id: str, key: str) -> Delivery | None:
    return session.scalars(select(Delivery).where(Delivery.team_id == team_id, Delivery.key == key)).one_or_none()


def _insert_new(session: Session, row: dict[str, Any]) -> bool:
    """INSERT unless (team_id, key) exists; RETURNING tells both dialects' drivers apart from a skipped row."""
    insert = insert_for(session)
    statement = (
        insert(Delivery).values(row).on_conflict_do_nothing(index_elements=["team_id", "key"]).returning(Delivery.id)
    )
    return session.execute(statement).first() is not None


def _changed(session: Session, statement: Update) -> bool:
    """Run a compare-and-set UPDATE; True when it changed the row (RETURNING, not the driver's rowcount)."""
    return session.execute(statement.returning(Delivery.id)).first() is not None


def insert_claim(session: Session, team_id: str, key: str, channel_id: str | None, owner: str, at: datetime) -> bool:
    """Claim a key nobody has claimed yet; return whether this call won it."""
    row = {
        "team_id": team_id,
        "key": key,
        "channel_id": channel_id,
        "status": Status.CLAIMED.value,
        "claimed_by": owner,
        "claimed_at": at,
        "attempts": 1,
    }
    return _insert_new(session, row)


def insert_settled(session: Session, team_id: str, key: str, status: Status, at: datetime) -> bool:
    """Record that a key needs no message (nothing to say); return whether this call recorded it."""
    row = {"team_id": team_id, "key": key, "status": status.value, "claimed_at": at, "attempts": 0}
    return _insert_new(session, row)


def take_over(
    session: Session,
    delivery_id: int,
    *,
    seen_status: str,
    seen_attempts: int,
    channel_id: str | None,
    owner: str,
    at: datetime,
    unconfirmed_since: datetime | None,
) -> bool:
    """Re-claim a failed, unconfirmed or stale claim, if nobody changed it since we read it; return whether we won.

    `unconfirmed_since` is written with the claim, so a crash while confirming loses no doubt.
    """
    return _changed(
        session,
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == seen_status, Delivery.attempts == seen_attempts)
        .values(
            status=Status.CLAIMED.value,
            claimed_by=owner,
            claimed_at=at,
            attempts=seen_attempts + 1,
            channel_id=channel_id,
            unconfirmed_since=unconfirmed_since,
        ),
    )


def settle_claim(
    session: Session,
    delivery_id: int,
    *,
    owner: str,
    attempts: int,
    status: Status,
    at: datetime,
    channel_id: str | None = None,
    message_ts: str | None = None,
    error: str | None = None,
    unconfirmed_since: datetime | None = None,
) -> bool:
    """Close our own claim as sent, failed, unconfirmed or abandoned; False means it was taken over meanwhile."""
    values: dict[str, object] = {"status": status.value, "error": error, "unconfirmed_since": unconfirmed_since}
    if status is Status.SENT:
        values.update(sent_at=at, message_ts=message_ts, channel_id=channel_id)
    elif channel_id is not None:
        values["channel_id"] = channel_id
    return _changed(
        session,
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == Status.CLAIMED.value,
            Delivery.claimed_by == owner,
            Delivery.attempts == attempts,
        )
        .values(**values),
    )
