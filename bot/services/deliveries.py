"""Send a message exactly once, however many clocks run, restart, replay the same instant or meet a 5xx.

The protocol, per message key (e.g. "summary:2026-W48"):

1. **Claim** in the database first: INSERT the Delivery row on the unique (team_id, key). Only the
   process whose INSERT lands sends; everyone else sees the row and leaves it alone. `on_claimed` runs in
   that same transaction and may give the claim up (the nudge cap is taken there, so it holds whatever
   happens next).
2. **Send** with no session held, through `sending_client`, which retries only what proves Slack did not
   post the message: a 429 (after its Retry-After) and a connection that failed before the request was
   written. A 5xx or a connection lost after the request went out proves nothing either way.
3. **Record** what we know:
   - `sent`, with Slack's ts;
   - `failed` when Slack did not post it (an error answer, a 4xx, a 429 after the retries, no connection):
     a later tick claims it again after a backoff that grows with each attempt, for as long as the job
     still finds the message due, so nothing refused is lost (`on_refused` undoes `on_claimed`);
   - `unconfirmed` when Slack may have posted it: a 5xx, or the answer never came back.

Every message carries its key as Slack message metadata. Whoever next takes over an `unconfirmed` claim, or
a claim left `claimed` past its lease (the process died mid-send), first looks for the key in the channel's
history since the doubtful attempt began (`unconfirmed_since`): found means it was delivered, and only the
ts is recorded; absent means it never arrived, and it is sent. If the history cannot be read for a passing
reason (a 5xx, a 429, the network), the claim stays `unconfirmed` for a later look. If Slack refuses to
show it at all, `resend_unconfirmed` decides: a channel summary is sent again rather than lost.

DMs have no history the bot can read (no im:history scope), so nothing can confirm a DM. A nudge
(`resend_unconfirmed=False`) that may have arrived is abandoned there and then, never sent twice: at worst
the member misses one nudge, and the nudge cap, taken at claim time, counts it as sent.

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
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from http.client import HTTPException
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.slack.blocks import Message
from bot.slack.client import sending_client
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
    FAILED = "failed"  # Slack did not post it; a later tick retries
    UNCONFIRMED = "unconfirmed"  # Slack may have posted it; a later tick looks for it before sending again
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
    claimed_at: datetime
    unconfirmed_since: datetime | None  # an earlier attempt that may have reached Slack unseen began then


OnClaimed = Callable[[Session], bool]
OnRefused = Callable[[Session], None]

# What a call can raise once the request may have left: urllib's URLError means it never left whole.
_TRANSPORT_ERRORS = (OSError, HTTPException)


class _GivenUp(Exception):
    """`on_claimed` declined the claim: roll its transaction back."""


def retry_delay(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... minutes after each failed attempt, at most an hour, so a refusal is not hammered."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _may_take_over(row: Delivery, now: datetime) -> bool:
    if row.status in (Status.FAILED, Status.UNCONFIRMED):
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
        return _Claim(row.id, owner, 1, outgoing.channel_id, now, None)
    row = find_delivery(session, outgoing.team_id, outgoing.key)
    if row is None or not _may_take_over(row, now):
        return None
    # Read what we saw before the UPDATE: the session's copy of the row follows it.
    seen_status, seen_attempts, seen_channel, seen_at = row.status, row.attempts, row.channel_id, row.claimed_at
    # A failed attempt never reached Slack, though an earlier one may have; an unconfirmed or crashed one may have.
    doubt = row.unconfirmed_since if seen_status == Status.FAILED else (row.unconfirmed_since or seen_at)
    channel_id = seen_channel if doubt is not None else outgoing.channel_id
    taken = take_over(
        session,
        row.id,
        seen_status=seen_status,
        seen_attempts=seen_attempts,
        channel_id=channel_id,
        owner=owner,
        at=now,
        unconfirmed_since=doubt,
    )
    if not taken:
        return None
    log.info("retrying %s for %s (attempt %d, was %s)", outgoing.key, outgoing.team_id, seen_attempts + 1, seen_status)
    return _Claim(row.id, owner, seen_attempts + 1, channel_id, now, doubt)


def _settle(
    deps: Deps,
    claim: _Claim,
    status: Status,
    *,
    on_refused: OnRefused | None = None,
    unconfirmed_since: datetime | None = None,
    **values: str | None,
) -> None:
    with deps.db.session() as session:
        settled = settle_claim(
            session,
            claim.delivery_id,
            owner=claim.owner,
            attempts=claim.attempts,
            status=status,
            at=deps.now(),
            unconfirmed_since=unconfirmed_since,
            **values,
        )
        if settled and on_refused is not None:
            on_refused(session)
    if not settled:
        log.warning("delivery %d was taken over while it was being sent; it may arrive twice", claim.delivery_id)


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or error.response.status_code)
    return f"{type(error).__name__}: {error}"


def _passing(error: Exception) -> bool:
    """Tell whether asking again later may well work: Slack was busy or down, or the network was."""
    if isinstance(error, SlackApiError):
        return error.response.status_code == 429 or error.response.status_code >= 500
    return True


def _posted_earlier(client: WebClient, channel_id: str, key: str, since: datetime) -> str | None:
    """Return the ts of our message carrying `key` in the channel since `since`, or None if not found.

    Raises SlackApiError (or a transport error) when the history cannot be read: "unknown", not "absent".
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


def _recover(deps: Deps, client: WebClient, outgoing: Outgoing, claim: _Claim) -> Delivered | _Claim:
    """Resolve a claim whose earlier attempt may have reached Slack, or return the claim to send it with."""
    assert claim.unconfirmed_since is not None
    if claim.channel_id is not None:
        try:
            ts = _posted_earlier(client, claim.channel_id, outgoing.key, claim.unconfirmed_since)
        except (SlackApiError, *_TRANSPORT_ERRORS) as error:
            if _passing(error):
                return _unconfirmed(deps, outgoing, claim, claim.channel_id, f"history unreadable: {_reason(error)}")
            log.warning("could not read <#%s> to confirm %s: %s", claim.channel_id, outgoing.key, _reason(error))
        else:
            if ts is None:
                return replace(claim, unconfirmed_since=None)  # it never arrived: nothing in doubt any more
            _settle(deps, claim, Status.SENT, channel_id=claim.channel_id, message_ts=ts)
            return Delivered(outgoing.team_id, outgoing.key, Result.RECOVERED, claim.channel_id, ts)
    if outgoing.resend_unconfirmed:
        return claim
    return _abandon(deps, outgoing, claim, "an earlier attempt was never confirmed; not resent")


def _abandon(deps: Deps, outgoing: Outgoing, claim: _Claim, reason: str) -> Delivered:
    _settle(deps, claim, Status.ABANDONED, error=reason, unconfirmed_since=claim.unconfirmed_since)
    log.warning("abandoned %s for %s: it may have been sent already (%s)", outgoing.key, outgoing.team_id, reason)
    return Delivered(outgoing.team_id, outgoing.key, Result.ABANDONED, error=reason)


def _unconfirmed(deps: Deps, outgoing: Outgoing, claim: _Claim, channel_id: str | None, reason: str) -> Delivered:
    """Record that Slack may have the message: a later tick looks for it before sending it again.

    A DM cannot be looked for (its history is not ours to read): one that must not be doubled is abandoned.
    """
    if outgoing.dm_user_id is not None and not outgoing.resend_unconfirmed:
        return _abandon(deps, outgoing, claim, f"unconfirmed ({reason}); a DM is never resent")
    since = claim.unconfirmed_since or claim.claimed_at
    _settle(deps, claim, Status.UNCONFIRMED, channel_id=channel_id, error=reason, unconfirmed_since=since)
    log.warning(
        "%s for %s may have reached Slack (%s); a later tick will check", outgoing.key, outgoing.team_id, reason
    )
    return Delivered(outgoing.team_id, outgoing.key, Result.UNCONFIRMED, channel_id, error=reason)


def _refused(deps: Deps, outgoing: Outgoing, claim: _Claim, reason: str, on_refused: OnRefused | None) -> Delivered:
    """Record that Slack did not post the message: a later tick sends it (after a look, if still in doubt)."""
    _settle(deps, claim, Status.FAILED, error=reason, on_refused=on_refused, unconfirmed_since=claim.unconfirmed_since)
    log.warning("Slack refused %s for %s (attempt %d): %s", outgoing.key, outgoing.team_id, claim.attempts, reason)
    return Delivered(outgoing.team_id, outgoing.key, Result.FAILED, outgoing.channel_id, error=reason)


def _send(deps: Deps, client: WebClient, outgoing: Outgoing, claim: _Claim, on_refused: OnRefused | None) -> Delivered:
    try:
        channel_id = outgoing.channel_id or client.conversations_open(users=outgoing.dm_user_id)["channel"]["id"]
    except (SlackApiError, *_TRANSPORT_ERRORS) as error:  # opening a DM posts nothing
        return _refused(deps, outgoing, claim, _reason(error), on_refused)
    try:
        response = sending_client(client).chat_postMessage(
            channel=channel_id,
            text=outgoing.message.text,
            blocks=outgoing.message.blocks or None,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"key": outgoing.key}},
            unfurl_links=False,
            unfurl_media=False,
        )
    except SlackApiError as error:
        if error.response.status_code >= 500:
            return _unconfirmed(deps, outgoing, claim, channel_id, _reason(error))
        return _refused(deps, outgoing, claim, _reason(error), on_refused)
    except URLError as error:  # connecting or writing failed, retries spent: Slack never had the request
        return _refused(deps, outgoing, claim, _reason(error), on_refused)
    except _TRANSPORT_ERRORS as error:  # the request went out and the answer never came back
        return _unconfirmed(deps, outgoing, claim, channel_id, _reason(error))
    channel_id, ts = response["channel"], response["ts"]
    _settle(deps, claim, Status.SENT, channel_id=channel_id, message_ts=ts)
    return Delivered(outgoing.team_id, outgoing.key, Result.SENT, channel_id, ts)


def deliver_once(
    deps: Deps,
    client: WebClient,
    outgoing: Outgoing,
    *,
    on_claimed: OnClaimed | None = None,
    on_refused: OnRefused | None = None,
) -> Delivered:
    """Claim `outgoing.key`, send the message, record the outcome (see the module's protocol).

    `on_claimed` runs in the claiming transaction; returning False gives the claim up and nothing is sent.
    `on_refused` runs in the transaction that records that Slack did not post the message. Anything
    unexpected (a crash) leaves the claim to its lease, and whoever takes it over looks before sending.
    """
    try:
        with deps.db.session() as session:
            claim = _claim(session, outgoing, deps.now())
            if claim is not None and on_claimed is not None and not on_claimed(session):
                raise _GivenUp
    except _GivenUp:
        claim = None
    if claim is None:
        return Delivered(outgoing.team_id, outgoing.key, Result.NOT_OURS)
    if claim.unconfirmed_since is not None:
        resolved = _recover(deps, client, outgoing, claim)
        if isinstance(resolved, Delivered):
            return resolved
        claim = resolved
    return _send(deps, client, outgoing, claim, on_refused)
