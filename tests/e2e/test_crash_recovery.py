"""Crash recovery, end to end: the Procfile's web process is SIGKILLed in the middle of a burst of events.

Slack's side of the contract: a delivery answered 200 is done, unless Slack thinks it timed out and sends it
again with the same event_id; a delivery that got no answer (connection refused, reset) is sent again later.
The bot's side: every acknowledged event is counted exactly once, whatever happened to the process after its
200, and a second copy of an event never counts twice. Nothing inside the bot is touched: the real gunicorn
command from the Procfile on a real database, the Web API stub for Slack, signed requests over HTTP, and the
operator's `python -m bot report` to read what was counted.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bot.coach.kinds import Kind
from bot.store.database import Database
from tests.e2e.web_process import REQUEST_TIMEOUT, ROOT, WebProcess, deliver, subprocess_env
from tests.slack_events import ANA, BEN, CARLA, DAN, ledger, message, rich_text
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub

MEMBERS = (ANA, BEN, CARLA, DAN)
LINKS_PER_MEMBER = 15
SENDERS = 6  # threads posting at once; the web process has 2 workers of 4 threads
KILL_AFTER_ACKS = len(MEMBERS) * LINKS_PER_MEMBER // 3
FAILURES_AFTER_KILL = 2 * SENDERS  # deliveries that must find the process dead before the burst pauses
FAILURE_PAUSE = 0.1  # seconds a sender waits after a delivery that failed
RESENT_ACKED = 5  # acknowledged before the kill, then sent again by Slack (same event_id)
SLACK_ATTEMPTS = 4  # a first delivery and Slack's 3 retries
REPORT_WITHIN = 20.0  # seconds for what was acknowledged to show up in the report


@dataclass(frozen=True)
class Delivery:
    """One Events API delivery of a member's new link message in a public channel."""

    event_id: str
    user: str
    ts: str
    body: bytes


def link_deliveries(stub: SlackStub) -> list[Delivery]:
    """Every member shares LINKS_PER_MEMBER new links, turn about, each its own message and unique URL."""
    run = secrets.token_hex(3)
    envelopes = SlackDriver(wsgi_app=None, stub=stub)
    first = int(time.time()) - 3600
    deliveries = []
    for n in range(len(MEMBERS) * LINKS_PER_MEMBER):
        user = MEMBERS[n % len(MEMBERS)]
        url = f"https://blog.example.com/e2e-{run}/post-{n}"
        ts = f"{first + n}.{n + 1:06d}"
        event = message(user, f"New on the blog <{url}|post {n}>", ts, blocks=rich_text("New on the blog", url))
        event_id = f"Ev0E2E{run.upper()}{n:03d}"
        deliveries.append(Delivery(event_id, user, ts, envelopes.event_body(event, event_id=event_id)))
    return deliveries


class Burst:
    """Deliveries taken in order by several sender threads; records every answer and the order of the 200s."""

    def __init__(self, url: str, deliveries: list[Delivery]) -> None:
        self.url = url
        self.answers: dict[str, int | str] = {}
        self.acked: list[Delivery] = []
        self.changed = threading.Condition()
        self._queue = iter(deliveries)
        self._pause = threading.Event()
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _send(self) -> None:
        try:
            self._send_until_paused()
        finally:
            with self.changed:
                self.changed.notify_all()  # a waiter learns that one sender fewer is left

    def _send_until_paused(self) -> None:
        while not self._pause.is_set():
            with self.changed:
                delivery = next(self._queue, None)
            if delivery is None:
                return
            status = deliver(self.url, delivery.body)
            with self.changed:
                self.answers[delivery.event_id] = status
                if status == 200:
                    self.acked.append(delivery)
                self.changed.notify_all()
            if status != 200:
                time.sleep(FAILURE_PAUSE)  # no sender spins through the rest of the burst against a dead port

    def failures(self) -> int:
        return sum(1 for status in self.answers.values() if status != 200)

    def wait_for(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Wait until `predicate` holds (True) or every sender is done or the time is up (False)."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate() or not self._alive(), timeout=seconds) and predicate()

    def _alive(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def pause(self) -> None:
        """Stop taking new deliveries; those in flight finish (or fail)."""
        self._pause.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)


def retry_reason(answer: int | str) -> str:
    """X-Slack-Retry-Reason for a delivery that got `answer` last time."""
    if isinstance(answer, int):
        return "http_error"
    return "http_timeout" if "Timeout" in answer or "timed out" in answer else "connection_failed"


def deliver_until_acked(url: str, delivery: Delivery, *, first_retry: int, reason: str) -> int | str:
    """Send as Slack does: again after a failure, numbering the retries, until a 200 or Slack gives up."""
    answer: int | str = "never sent"
    for attempt in range(first_retry, SLACK_ATTEMPTS):
        retry = None if attempt == 0 else attempt
        answer = deliver(url, delivery.body, retry_num=retry, retry_reason=reason if retry else "")
        if answer == 200:
            return answer
        reason = retry_reason(answer)
        time.sleep(0.5)
    return answer


def send_all(url: str, sends: list[tuple[Delivery, int, str]]) -> dict[str, int | str]:
    """Deliver each (delivery, first attempt number, retry reason) from SENDERS threads; the last answer of each."""
    answers: dict[str, int | str] = {}
    queue = iter(sends)
    lock = threading.Lock()

    def sender() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            delivery, first_retry, reason = item
            answer = deliver_until_acked(url, delivery, first_retry=first_retry, reason=reason)
            with lock:
                answers[delivery.event_id] = answer

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def report_posts(env: dict[str, str]) -> dict[str, int] | str:
    """Each member's `posts` (own posts plus shared links) from `python -m bot report`, or why it failed."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--team", TEAM_ID, "--period", "all", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return f"exit {done.returncode}: {done.stderr.strip()}"
    return {member["user_id"]: member["posts"] for member in json.loads(done.stdout)["members"]}


def test_every_acknowledged_event_counts_once_after_the_web_process_is_killed_mid_burst(
    web: WebProcess, db: Database, slack: SlackStub, database_url: str
) -> None:
    deliveries = link_deliveries(slack)
    expected = Counter(delivery.user for delivery in deliveries)
    report_env = subprocess_env(DATABASE_URL=database_url)
    try:
        web.start()
        burst = Burst(web.url, deliveries)
        burst.start()
        assert burst.wait_for(lambda: len(burst.acked) >= KILL_AFTER_ACKS, 90), (
            f"only {len(burst.acked)} of {KILL_AFTER_ACKS} deliveries were acknowledged: "
            f"{Counter(burst.answers.values())}"
        )

        failures_before = burst.failures()
        web.kill()
        assert burst.wait_for(lambda: burst.failures() - failures_before >= FAILURES_AFTER_KILL, 30), (
            "the senders never found the killed web process gone"
        )
        burst.pause()
        acked_before_kill = list(burst.acked)
        unacked = [d for d in deliveries if burst.answers.get(d.event_id, "unsent") != 200]
        assert unacked, "every delivery was acknowledged before the kill: the burst needs to be longer"
        print(before_the_kill(burst, deliveries))

        web.start()  # the same command, port and database: Slack keeps calling the same Request URL
        # Every other one of those acknowledged last, the likeliest to be stored but not yet applied at the kill:
        # the resent must count once, and the others show that nothing waits for Slack's retry to be applied.
        resent = acked_before_kill[-2 * RESENT_ACKED :: 2]
        sends = [
            (d, 0, "") if d.event_id not in burst.answers else (d, 1, retry_reason(burst.answers[d.event_id]))
            for d in unacked
        ] + [(d, 1, "http_timeout") for d in resent]
        answers = send_all(web.url, sends)
        refused = {d.event_id: answers.get(d.event_id, "still sending") for d, _, _ in sends}
        refused = {event_id: answer for event_id, answer in refused.items() if answer != 200}
        assert not refused, f"after the restart these deliveries were never acknowledged: {refused}"

        deadline = time.monotonic() + REPORT_WITHIN
        while True:
            posts = report_posts(report_env)
            if posts == dict(expected) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert posts == dict(expected), diagnosis(posts, expected, deliveries, burst, resent, db)
    except BaseException:
        print(web.logs())
        raise


def diagnosis(
    posts: dict[str, int] | str,
    expected: Counter[str],
    deliveries: list[Delivery],
    burst: Burst,
    resent: list[Delivery],
    db: Database,
) -> str:
    """Say which deliveries the ledger is missing or holds twice, by what happened to them before the kill."""
    counted = Counter((row.user_id, row.message_ts) for row in ledger(db) if row.kind == Kind.LINK)
    resent_ids = {delivery.event_id for delivery in resent}
    missing: Counter[str] = Counter()
    twice: Counter[str] = Counter()
    for delivery in deliveries:
        times = counted[(delivery.user, delivery.ts)]
        if times == 1:
            continue
        (missing if times == 0 else twice)[fate(delivery, burst, resent_ids)] += 1
    return (
        f"report posts per member {posts}, expected {dict(expected)} (every delivery once).\n"
        f"{before_the_kill(burst, deliveries)}\n"
        f"Ledger links missing, by what happened before the kill: {dict(missing) or 'none'}; "
        f"counted more than once: {dict(twice) or 'none'}."
    )


def fate(delivery: Delivery, burst: Burst, resent_ids: set[str]) -> str:
    answer = burst.answers.get(delivery.event_id)
    if answer is None:
        return "first sent after the restart"
    if answer == 200:
        again = ", sent again after the restart" if delivery.event_id in resent_ids else ""
        return f"acknowledged before the kill{again}"
    return f"{answer} before the kill, acknowledged after the restart"


def before_the_kill(burst: Burst, deliveries: list[Delivery]) -> str:
    answers = dict(Counter(burst.answers.values()))
    unsent = len(deliveries) - len(burst.answers)
    return f"Before the kill: {len(burst.acked)} acknowledged, answers {answers}, {unsent} unsent."
