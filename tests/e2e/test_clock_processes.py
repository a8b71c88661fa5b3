"""The clock's promise, end to end: `python -m bot run-due` processes against the Web API stub post each message once.

Two processes started together, trial after trial, each trial a new week with a summary, a channel reminder
and a private nudge owed: every message posted exactly once. And Slack at its worst for every post, a 429 with
Retry-After and then a 500: the 429 is waited out by slack-sdk's retry handler, the 500 leaves the message in
doubt, and the next run looks in the channel before sending again. Nothing inside the bot is touched: the
real CLI in its own processes, the real database, the stub for Slack.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.store.database import Database
from bot.store.models import Delivery
from tests.coaching_world import ANA, BEN, DAN, SOCIAL, World
from tests.e2e.web_process import ROOT, subprocess_env
from tests.slack_stub import Failure, SlackStub

MONDAY_11 = datetime(2026, 11, 23, 11, tzinfo=UTC)  # summary (09:00), reminder (10:00) and nudges all owed
TRIALS = 20
RUN_DUE_TIMEOUT = 120.0  # seconds; two-core machines under load start Python slowly


def owe_everything_at(world: World, at: datetime) -> set[str]:
    """Store a week in which the summary, the channel reminder and DAN's nudge are all due at `at`; their keys.

    DAN shared four links over the last days and answered nothing (below target); ANA's and BEN's links have
    waited more than a day for a reply, so the reminder and the nudge have something specific to name.
    """
    tag = f"{at:%Y%m%d}"
    for n in range(4):
        world.link(DAN, at - timedelta(days=n + 1, minutes=n), url=f"https://dan.example/{tag}/{n}")
    world.link(ANA, at - timedelta(hours=26), url=f"https://ana.example/{tag}")
    world.link(BEN, at - timedelta(hours=25), url=f"https://ben.example/{tag}")
    monday = at.date() - timedelta(days=at.weekday())
    return {f"summary:{monday:%G-W%V}", f"reminder:{at.date().isoformat()}", f"nudge:{DAN}:{at.date().isoformat()}"}


def message_key(args: dict[str, Any]) -> str:
    """The delivery key the bot carries in every message's metadata."""
    metadata = args.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return str((metadata.get("event_payload") or {}).get("key", ""))


def posted_keys(slack: SlackStub) -> Counter[str]:
    """How many times Slack posted each keyed message (calls answered with a failure posted nothing)."""
    return Counter(
        message_key(message) for channel in list(slack.history) for message in slack.channel_history(channel)
    )


def run_due_env(database_url: str, slack: SlackStub) -> dict[str, str]:
    return subprocess_env(
        DATABASE_URL=database_url,
        SLACK_API_URL=slack.url,
        SLACK_BOT_TOKEN="xoxb-0000000000-test-token",
        LOG_LEVEL="WARNING",
    )


def start_run_due(env: dict[str, str], at: datetime) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run-due", "--at", at.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(processes: list[subprocess.Popen[str]]) -> list[str]:
    """Wait for every process; their stdout, after checking each exited 0."""
    outputs = [process.communicate(timeout=RUN_DUE_TIMEOUT) for process in processes]
    assert [process.returncode for process in processes] == [0] * len(processes), outputs
    return [out for out, _err in outputs]


def sent_lines(outputs: list[str]) -> Counter[str]:
    """The keys that the processes say they sent (or recovered), over all their outputs."""
    keys: Counter[str] = Counter()
    for output in outputs:
        for line in output.splitlines():
            result, _, rest = line.partition(": ")
            if result in ("sent", "recovered"):
                keys[rest.split(" ", 1)[0]] += 1
    return keys


def outcomes(outputs: list[str]) -> dict[str, str]:
    """Each key a process printed, with what happened to it (sent, unconfirmed, abandoned ...)."""
    return {
        rest.split(" ", 1)[0]: result
        for output in outputs
        for result, _, rest in (line.partition(": ") for line in output.splitlines())
        if rest
    }


@pytest.fixture
def world(db: Database) -> World:
    return World(db).team()


def test_two_run_due_processes_at_once_post_every_message_exactly_once_trial_after_trial(
    world: World, slack: SlackStub, database_url: str
) -> None:
    env = run_due_env(database_url, slack)
    owed: set[str] = set()
    for trial in range(TRIALS):
        at = MONDAY_11 + timedelta(weeks=trial)
        this_week = owe_everything_at(world, at)
        owed |= this_week

        outputs = finish([start_run_due(env, at), start_run_due(env, at)])

        posted = posted_keys(slack)
        assert {key: n for key, n in posted.items() if n != 1} == {}, f"trial {trial}: posted twice {outputs}"
        assert set(posted) == owed, f"trial {trial}: owed {sorted(owed)}, posted {sorted(posted)}: {outputs}"
        assert sent_lines(outputs) == Counter(this_week), f"trial {trial}: {outputs}"


class RateLimitedThenBroken(SlackStub):
    """Slack at its worst for each new message: a 429 with Retry-After, then a 500, then it works.

    `posted_before_500` says whether Slack carried the post out before answering 500 (it sometimes does).
    """

    def __init__(self, *, posted_before_500: bool) -> None:
        super().__init__()
        self.posted_before_500 = posted_before_500
        self.attempts: Counter[str] = Counter()
        self._posting = threading.Lock()

    def _answer(self, method: str, content_type: str, raw: bytes, headers: Any) -> tuple[int | None, dict, dict]:
        if method != "chat.postMessage":
            return super()._answer(method, content_type, raw, headers)
        with self._posting:  # the scripted failure belongs to this call, not to one running beside it
            key = message_key(json.loads(raw) if "json" in content_type else {})
            self.attempts[key] += 1
            if self.attempts[key] == 1:
                self.failures[method].append(Failure(429, retry_after=1))
            elif self.attempts[key] == 2:
                body = {"ok": False, "error": "internal_error"}
                self.failures[method].append(Failure(500, body=body, after_processing=self.posted_before_500))
            return super()._answer(method, content_type, raw, headers)


@pytest.fixture(params=[False, True], ids=["500-not-posted", "500-after-posting"])
def flaky_slack(request: pytest.FixtureRequest) -> Iterator[RateLimitedThenBroken]:
    stub = RateLimitedThenBroken(posted_before_500=request.param).start()
    yield stub
    stub.stop()


def a_minute_passes(db: Database) -> None:
    """Move every claim's bookkeeping back past the first retry delay, as the next minute's tick would find it."""
    with db.session() as session:
        for delivery in session.scalars(select(Delivery)):
            delivery.claimed_at -= timedelta(minutes=2)


def test_after_a_429_then_a_500_for_every_post_each_message_arrives_exactly_once(
    world: World, flaky_slack: RateLimitedThenBroken, database_url: str, db: Database
) -> None:
    env = run_due_env(database_url, flaky_slack)
    owed = owe_everything_at(world, MONDAY_11)

    first = finish([start_run_due(env, MONDAY_11)])
    a_minute_passes(db)
    second = finish([start_run_due(env, MONDAY_11)])
    a_minute_passes(db)
    third = finish([start_run_due(env, MONDAY_11)])

    posted = posted_keys(flaky_slack)
    nudge = f"nudge:{DAN}:{MONDAY_11.date().isoformat()}"
    channel_messages = owed - {nudge}
    assert outcomes(first) == {nudge: "abandoned"} | dict.fromkeys(channel_messages, "unconfirmed"), first
    # The next run looks in the channel first: found, it records the ts; absent, it sends.
    again = "recovered" if flaky_slack.posted_before_500 else "sent"
    assert outcomes(second) == dict.fromkeys(channel_messages, again), second
    assert all(flaky_slack.attempts[key] >= 2 for key in owed), flaky_slack.attempts  # each met the 429 and the 500
    assert {key: posted[key] for key in channel_messages} == dict.fromkeys(channel_messages, 1), (first, second)
    # A DM's history is not the bot's to read, so a nudge in doubt is never resent: once if Slack posted it
    # before its 500, else not at all (the member misses one nudge rather than getting two).
    assert posted[nudge] == (1 if flaky_slack.posted_before_500 else 0), (first, second)
    assert sum(posted.values()) == len(posted), posted
    assert third == ["Nothing was due at 2026-11-23T11:00:00+00:00 (or it was sent already).\n"]
    channel_posts = [m for m in flaky_slack.channel_history(SOCIAL) if message_key(m) in channel_messages]
    assert len(channel_posts) == len(channel_messages)
