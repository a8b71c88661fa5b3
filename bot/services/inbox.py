"""The inbox: every Events API delivery is stored on the request path, and one batched writer applies them.

Request path (`accept`): a listener stores the delivery, insert-or-ignore on (team, event_id), and Slack gets
its 200. Nothing else happens before the ack: no ledger, no rollups, no Web API call.

Writer (`drain_batch`, run by `LedgerWriter` in every web process, in Socket Mode and in `python -m bot worker`):
claims the oldest deliveries by Slack ts, applies them in one transaction through `bot.services.ingest`,
with the standings rollups summed over the batch (`bot.store.ledger.rollups_per_batch`), and marks them
processed in the same transaction. On PostgreSQL any number of writers share the inbox (`FOR UPDATE SKIP
LOCKED`, and writers of one channel take turns); on SQLite one writer at a time holds a lock file beside the
database. A batch that fails is applied again one delivery at a time, so one poisoned delivery cannot hold
up the rest; a delivery that failed MAX_ATTEMPTS times is parked for a person (`python -m bot inbox`).

What the writer applied may call for Slack (a burst note, a channel's history to import): that runs after
the commit, on another thread (`follow_up`), never inside a transaction.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.coach.messages import ts_order
from bot.deps import Deps
from bot.services.errors import EventNotStored
from bot.services.ingest import (
    EventEnvelope,
    IngestOutcome,
    Scopes,
    apply_events,
    event_action,
    event_channel,
    event_to_store,
)
from bot.store import inbox as q
from bot.store.ingest_queries import prune_message_states, prune_reactions_on_plain_messages
from bot.store.ledger import rollups_per_batch
from bot.store.member_data import hold_opt_outs_steady

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH_SIZE = 200
# Slack retries for two hours; keep applied deliveries a day so a late copy is still recognised.
KEEP_PROCESSED = timedelta(days=1)
# Message versions and emoji on plain messages are kept this long for deliveries that come out of order.
KEEP_MESSAGE_STATES = timedelta(days=3)
IDLE_POLL_SECONDS = 0.25  # how soon a writer sees what another process stored
# After a batch that was not full, how long the writer lets deliveries gather before it claims the next: a batch
# costs about the same few statements whatever its size, so under a burst one batch of many beats many of few.
GATHER_SECONDS = 0.1
RETRY_AFTER_ERROR_SECONDS = 1.0


@dataclass(frozen=True)
class Applied:
    """What one applied delivery calls for after the commit (see IngestOutcome)."""

    team_id: str
    outcome: IngestOutcome


@dataclass
class DrainReport:
    """What a writer did: deliveries claimed, applied, failed (and of those, parked), and their follow-ups."""

    claimed: int = 0
    applied: int = 0
    failed: int = 0
    parked: int = 0
    follow_ups: list[Applied] = field(default_factory=list)

    def add(self, other: DrainReport) -> None:
        self.claimed += other.claimed
        self.applied += other.applied
        self.failed += other.failed
        self.parked += other.parked
        self.follow_ups.extend(other.follow_ups)


FollowUp = Callable[[Sequence[Applied]], None]


# --- the request path ----------------------------------------------------------------------------------


def accept(deps: Deps, envelope: EventEnvelope) -> bool:
    """Store a delivery that can change something; False for one that cannot (not even stored).

    Raises EventNotStored when the database refused it: Slack must get an error and deliver it again.
    """
    if event_action(envelope.event, envelope.bot_user_id) is None:
        return False
    row = {
        "team_id": envelope.team_id,
        "event_id": envelope.event_id,
        "event_type": str(envelope.event.get("type"))[:64],
        "payload": {"event": event_to_store(envelope.event), "bot_user_id": envelope.bot_user_id},
        "received_at": deps.now(),
        "attempts": 0,
        "event_ts": ts_order(envelope.event.get("event_ts")) or ts_order(envelope.event.get("ts")),
    }
    try:
        with deps.db.connection() as connection:
            q.store(connection, row)
    except Exception as error:  # whatever the driver raised, the event is not safe yet: let Slack retry
        raise EventNotStored(f"event {envelope.event_id} could not be stored") from error
    _wake_writer()
    return True


# --- the writer ----------------------------------------------------------------------------------------


def drain_batch(deps: Deps, *, limit: int = BATCH_SIZE) -> DrainReport:
    """Apply up to `limit` waiting deliveries, oldest first, in one transaction; then any failures one by one."""
    skip_locked = deps.db.dialect == "postgresql"
    claimed: list[q.StoredEvent] = []
    now = deps.now()
    try:
        with deps.db.session() as session:
            hold_opt_outs_steady(session)  # before any row is locked: an opt-out waits for the batch, or it for one
            claimed = q.claim(session, limit=limit, max_attempts=MAX_ATTEMPTS, skip_locked=skip_locked, now=now)
            if not claimed:
                return DrainReport()
            follow_ups = _apply(session, claimed, now, skip_locked=skip_locked)
            q.mark_processed(session, [stored.key for stored in claimed], now)
        return DrainReport(claimed=len(claimed), applied=len(claimed), follow_ups=follow_ups)
    except Exception:
        if not claimed:
            raise  # not even the claim worked: the database is away, the caller waits and tries again
        log.warning("a batch of %d deliveries failed; applying them one at a time", len(claimed), exc_info=True)
    return _one_by_one(deps, [stored.key for stored in claimed], skip_locked=skip_locked)


def _apply(session: Session, batch: Sequence[q.StoredEvent], now: datetime, *, skip_locked: bool) -> list[Applied]:
    events = [(stored.team_id, _event(stored), stored.payload.get("bot_user_id")) for stored in batch]
    if skip_locked:
        q.lock_channels(session, [(team_id, event_channel(event)) for team_id, event, _bot in events])
    with rollups_per_batch(session):
        outcomes = apply_events(session, Scopes(session, now), events)
    return [Applied(team_id, outcome) for team_id, outcome in outcomes]


def _event(stored: q.StoredEvent) -> Mapping[str, Any]:
    event = stored.payload.get("event") if isinstance(stored.payload, Mapping) else None
    return event if isinstance(event, Mapping) else {}


def _one_by_one(deps: Deps, keys: Sequence[tuple[str, str]], *, skip_locked: bool) -> DrainReport:
    report = DrainReport(claimed=len(keys))
    for key in keys:
        now = deps.now()
        try:
            with deps.db.session() as session:
                hold_opt_outs_steady(session)
                stored = q.claim_one(session, key, skip_locked=skip_locked)
                if stored is None:
                    continue  # another writer has it, or it was applied meanwhile
                report.follow_ups.extend(_apply(session, [stored], now, skip_locked=skip_locked))
                q.mark_processed(session, [key], now)
            report.applied += 1
        except Exception as error:
            log.exception("applying event %s of %s failed", key[1], key[0])
            with deps.db.session() as session:
                retry_after = now + _backoff(q.attempts(session, key) + 1)
                attempts = q.record_failure(session, key, f"{type(error).__name__}: {error}", retry_after)
            report.failed += 1
            if attempts >= MAX_ATTEMPTS:
                report.parked += 1
                log.error("event %s of %s failed %d times and is parked: python -m bot inbox", key[1], key[0], attempts)
    return report


def _backoff(attempt: int) -> timedelta:
    """2, 4, 8, 16 seconds after failed attempts 1-4: a lock timeout or a database restart passes; a delivery
    that fails for a real reason is parked within about half a minute."""
    return timedelta(seconds=2**attempt)


def drain_pending(deps: Deps, follow_up: FollowUp | None = None, *, limit: int = BATCH_SIZE) -> DrainReport:
    """Apply everything waiting, batch after batch, running follow-ups inline (tests, `python -m bot inbox`)."""
    total = DrainReport()
    while True:
        report = drain_batch(deps, limit=limit)
        if report.claimed == 0:
            return total
        total.add(report)
        if follow_up is not None and report.follow_ups:
            follow_up(report.follow_ups)


class LedgerWriter:
    """The writer's thread, started and stopped with the process that runs it.

    It drains full batches back to back. After a batch that was not full it lets deliveries gather for
    GATHER_SECONDS; with nothing waiting it sleeps until a listener in this process stores a delivery (`accept`
    wakes it) or IDLE_POLL_SECONDS pass (deliveries another process stored). Follow-ups run on a thread of
    their own, so a slow Slack never holds up the ledger.
    """

    def __init__(self, deps: Deps, follow_up: FollowUp | None = None, *, name: str = "ledger-writer") -> None:
        self._deps = deps
        self._follow_up = follow_up
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._follow_ups = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-follow-up")

    def start(self) -> LedgerWriter:
        global _RUNNING
        _RUNNING = self
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand (committed or rolled back), then stop; follow-ups queued still run."""
        global _RUNNING
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._follow_ups.shutdown(wait=True, cancel_futures=False)
        if _RUNNING is self:
            _RUNNING = None

    def run_until_stopped(self) -> None:
        """Run in the calling thread (`python -m bot worker`)."""
        global _RUNNING
        _RUNNING = self
        self._run()

    def _run(self) -> None:
        with single_writer(self._deps, self._stop) as holding:
            if not holding:
                return
            log.info("the ledger writer is running")
            while not self._stop.is_set():
                try:
                    report = drain_batch(self._deps)
                except Exception:
                    log.exception("the ledger writer could not reach the database; trying again")
                    self._stop.wait(RETRY_AFTER_ERROR_SECONDS)
                    continue
                if report.follow_ups and self._follow_up is not None:
                    self._follow_ups.submit(self._run_follow_up, report.follow_ups)
                if report.claimed == 0:
                    self._wake.wait(IDLE_POLL_SECONDS)
                    self._wake.clear()
                if report.claimed < BATCH_SIZE:
                    self._stop.wait(GATHER_SECONDS)

    def _run_follow_up(self, applied: Sequence[Applied]) -> None:
        try:
            assert self._follow_up is not None
            self._follow_up(applied)
        except Exception:
            log.exception("a follow-up after the ledger write failed")


_RUNNING: LedgerWriter | None = None


def _wake_writer() -> None:
    writer = _RUNNING
    if writer is not None:
        writer.wake()


@contextlib.contextmanager
def single_writer(deps: Deps, stop: threading.Event) -> Iterator[bool]:
    """On SQLite, wait (until `stop`) for the lock that makes this the one writer; PostgreSQL needs none.

    An advisory lock on a file beside the database: the kernel releases it when the holder dies, even by
    SIGKILL, and another web worker's writer takes over within a second.
    """
    path = _sqlite_path(deps)
    if path is None:
        yield True
        return
    lock_file: IO[str] = open(f"{path}-writer.lock", "a")  # noqa: SIM115 (held for the writer's life)
    try:
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if stop.wait(1.0):
                    yield False
                    return
        yield True
    finally:
        lock_file.close()


def _sqlite_path(deps: Deps) -> str | None:
    url = make_url(str(deps.db.engine.url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return os.path.abspath(url.database)


# --- for people: parked deliveries, housekeeping ---------------------------------------------------------


@dataclass(frozen=True)
class InboxStatus:
    waiting: int
    parked: int
    oldest_waiting: datetime | None


def status(deps: Deps) -> InboxStatus:
    with deps.db.session() as session:
        waiting, parked = q.counts(session, max_attempts=MAX_ATTEMPTS)
        oldest = q.oldest_waiting(session, max_attempts=MAX_ATTEMPTS)
    return InboxStatus(waiting, parked, oldest)


def parked_deliveries(deps: Deps, limit: int = 100) -> list[q.StoredEvent]:
    with deps.db.session() as session:
        return q.parked(session, max_attempts=MAX_ATTEMPTS, limit=limit)


def retry_parked(deps: Deps, event_ids: Sequence[str] = ()) -> int:
    """Give parked deliveries (all, or `event_ids`) another MAX_ATTEMPTS tries; return how many."""
    with deps.db.session() as session:
        return q.unpark(session, max_attempts=MAX_ATTEMPTS, event_ids=event_ids)


@dataclass(frozen=True)
class PruneReport:
    deliveries: int
    message_states: int
    reactions: int


def prune(deps: Deps) -> PruneReport:
    """Forget applied deliveries past Slack's retry window, old message versions and emoji on plain messages."""
    now = deps.now()
    horizon = now - KEEP_MESSAGE_STATES
    with deps.db.session() as session:
        deliveries = q.prune(session, processed_before=now - KEEP_PROCESSED)
        states = prune_message_states(session, updated_before=horizon)
        reactions = prune_reactions_on_plain_messages(session, ts_before=ts_order(f"{int(horizon.timestamp())}"))
    return PruneReport(deliveries, states, reactions)
