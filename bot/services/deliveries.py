"""Send a message exactly once, however many clocks run, restart or replay the same instant.

The protocol, per message key (e.g. "summary:2026-W48"):

1. **Claim** in the database first: INSERT the Delivery row on the unique (team_id, key). Only the
   process whose INSERT lands sends; everyone else sees the row and leaves it alone.
2. **Send** with no session held. The WebClient's retry handlers absorb 429s (honouring Retry-After) and
   5xx answers within this attempt.
3. **Record** the outcome: `sent` with Slack's ts, or `failed` when Slack refused it after those
   retries. A failed row is claimed again by a later tick, after a backoff that grows with each attempt,
   for as long as the job still finds the message due: nothing refused is lost.

A claim left `claimed` (the process died, or the call ended in a timeout, so we cannot know whether
Slack got the message) is taken over once its lease expires. Every message carries its key as Slack
message metadata, so the new owner first looks for it in the channel's history: found means it was
delivered, and only the ts is recorded. When the history cannot tell (a DM, which the bot cannot read),
`resend_unconfirmed` decides: a channel summary is sent again rather than lost; a personal nudge is
abandoned rather than doubled.

Bookkeeping instants come from `deps.now()`, the wall clock, never from the instant a job is run for:
`run-due --at` last Monday must not make a fresh claim look days old to a clock running now.
"""

from __future__ import annotations

import enum
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.slack.blocks import Message
from bot.store.deliveries import (
    SETTLED,
    Status,
    find_delivery,
    insert_claim,
    insert_settled,
    settle_claim,
    take_over,
)
from bot.store.models import Delivery

log = logging.getLogger(__name__)

# Longer than one send can take: the client's timeout and its retries, with Retry-After waits, fit well inside.
LEASE = timedelta(minutes=15)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
METADATA_EVENT = "more_social_delivery"
HISTORY_PAGES = 5  # how far back to look for an unconfirmed message: 5 pages of 200 since its claim


class Result(enum.StrEnum):
    SENT = "sent"
    RECOVERED = "recovered"  # an earlier, unconfirmed attempt had reached Slack: recorded, not resent
    FAILED = "failed"  # Slack refused it; a later tick retries
    ABANDONED = "abandoned"  # not confirmed and not safe to resend
    NOT_OURS = "not ours"  # already delivered, being delivered by someone else, or waiting to retry


@dataclass(frozen=True)
class Outgoing:
    """One message to deliver once: to `channel_id`, or as a DM to `dm_user_id`."""

    team_id: str
    key: str
    message: Message
    channel_id: str | None = None
    dm_user_id: str | None = None
    resend_unconfirmed: bool = True


@dataclass(frozen=True)
class Delivered:
    """What happened to one Outgoing, for logs and `python -m bot run-due`."""

    team_id: str
    key: str
    result: Result
    channel_id: str | None = None
    message_ts: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    owner: str
    attempts: int
    channel_id: str | None
    unconfirmed_since: datetime | None  # set when taking over a stale claim that may have been sent


OnSent = Callable[[Session], None]


def retry_delay(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... minutes after each failed attempt, at most an hour, so a refusal is not hammered."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _may_take_over(row: Delivery, now: datetime) -> bool:
    if row.status == Status.FAILED:
        return now >= row.claimed_at + retry_delay(row.attempts)
    return row.status == Status.CLAIMED and now >= row.claimed_at + LEASE


def needs_delivery(session: Session, team_id: str, key: str, now: datetime) -> bool:
    """Tell whether `key` could be claimed at `now`: worth building its message for."""
    row = find_delivery(session, team_id, key)
    return row is None or (row.status not in SETTLED and _may_take_over(row, now))


def settle_without_message(deps: Deps, team_id: str, key: str) -> bool:
    """Mark `key` as done with nothing to send, so a later tick the same day does not send it after all."""
    with deps.db.session() as session:
        return insert_settled(session, team_id, key, Status.SKIPPED, deps.now())


def _new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _claim(session: Session, outgoing: Outgoing, now: datetime) -> _Claim | None:
    owner = _new_owner()
    if insert_claim(session, outgoing.team_id, outgoing.key, outgoing.channel_id, owner, now):
        row = find_delivery(session, outgoing.team_id, outgoing.key)
        assert row is not None
        return _Claim(row.id, owner, 1, outgoing.channel_id, None)
    row = find_delivery(session, outgoing.team_id, outgoing.key)
    if row is None or not _may_take_over(row, now):
        return None
    # Read what we saw before the UPDATE: the session's copy of the row follows it.
    seen_status, seen_attempts, seen_channel, seen_at = row.status, row.attempts, row.channel_id, row.claimed_at
    stale = seen_status == Status.CLAIMED
    channel_id = seen_channel if stale else outgoing.channel_id
    taken = take_over(
        session,
        row.id,
        seen_status=seen_status,
        seen_attempts=seen_attempts,
        channel_id=channel_id,
        owner=owner,
        at=now,
    )
    if not taken:
        return None
    log.info("retrying %s for %s (attempt %d, was %s)", outgoing.key, outgoing.team_id, seen_attempts + 1, seen_status)
    return _Claim(row.id, owner, seen_attempts + 1, channel_id, seen_at if stale else None)


def _settle(deps: Deps, claim: _Claim, status: Status, *, on_sent: OnSent | None = None, **values: str | None) -> None:
    with deps.db.session() as session:
        settled = settle_claim(
            session,
            claim.delivery_id,
            owner=claim.owner,
            attempts=claim.attempts,
            status=status,
            at=deps.now(),
            **values,
        )
        if settled and on_sent is not None:
            on_sent(session)
    if not settled:
        log.warning("delivery %d was taken over while it was being sent; it may arrive twice", claim.delivery_id)


def _posted_earlier(client: WebClient, channel_id: str, key: str, since: datetime) -> str | None:
    """Return the ts of our message carrying `key` in the channel since `since`, or None if not found.

    Raises SlackApiError when the history cannot be read, which means "unknown", not "absent".
    """
    cursor = None
    oldest = f"{since.timestamp() - 60:.6f}"  # a minute of slack for clock skew between hosts
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=channel_id, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
        )
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == METADATA_EVENT and (metadata.get("event_payload") or {}).get("key") == key:
                return message.get("ts")
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return None


def _recover(
    deps: Deps, client: WebClient, outgoing: Outgoing, claim: _Claim, on_sent: OnSent | None
) -> Delivered | None:
    """Resolve a claim whose earlier attempt may have reached Slack; None means: go ahead and send."""
    assert claim.unconfirmed_since is not None
    if claim.channel_id is not None:
        try:
            ts = _posted_earlier(client, claim.channel_id, outgoing.key, claim.unconfirmed_since)
        except SlackApiError as error:
            log.warning(
                "could not read <#%s> to confirm %s: %s", claim.channel_id, outgoing.key, error.response.get("error")
            )
        else:
            if ts is not None:
                _settle(deps, claim, Status.SENT, on_sent=on_sent, channel_id=claim.channel_id, message_ts=ts)
                return Delivered(outgoing.team_id, outgoing.key, Result.RECOVERED, claim.channel_id, ts)
            return None
    if outgoing.resend_unconfirmed:
        return None
    _settle(deps, claim, Status.ABANDONED, error="an earlier attempt was never confirmed; not resent")
    log.warning("abandoned %s for %s: it may have been sent already", outgoing.key, outgoing.team_id)
    return Delivered(outgoing.team_id, outgoing.key, Result.ABANDONED)


def deliver_once(deps: Deps, client: WebClient, outgoing: Outgoing, *, on_sent: OnSent | None = None) -> Delivered:
    """Claim `outgoing.key`, send the message, record the ts; `on_sent` runs in the recording transaction.

    A Slack refusal (after the client's own retries) is recorded for a later tick and returned as FAILED.
    Anything else (a timeout, a crash) leaves the claim to its lease, since Slack may have the message.
    """
    with deps.db.session() as session:
        claim = _claim(session, outgoing, deps.now())
    if claim is None:
        return Delivered(outgoing.team_id, outgoing.key, Result.NOT_OURS)
    if claim.unconfirmed_since is not None:
        resolved = _recover(deps, client, outgoing, claim, on_sent)
        if resolved is not None:
            return resolved
    try:
        channel_id = outgoing.channel_id
        if channel_id is None:
            channel_id = client.conversations_open(users=outgoing.dm_user_id)["channel"]["id"]
        response = client.chat_postMessage(
            channel=channel_id,
            text=outgoing.message.text,
            blocks=outgoing.message.blocks or None,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": outgoing.key}},
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as error:
        reason = str(error.response.get("error") or error.response.status_code)
        _settle(deps, claim, Status.FAILED, error=reason)
        log.warning("Slack refused %s for %s (attempt %d): %s", outgoing.key, outgoing.team_id, claim.attempts, reason)
        return Delivered(outgoing.team_id, outgoing.key, Result.FAILED, outgoing.channel_id, error=reason)
    channel_id, ts = response["channel"], response["ts"]
    _settle(deps, claim, Status.SENT, on_sent=on_sent, channel_id=channel_id, message_ts=ts)
    return Delivered(outgoing.team_id, outgoing.key, Result.SENT, channel_id, ts)
