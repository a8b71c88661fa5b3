"""Exactly once: claim before send, record after, retry what Slack refused, recover what a crash left behind."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from bot.config import Settings
from bot.deps import Deps
from bot.services.deliveries import LEASE, METADATA_EVENT, Outgoing, Result, deliver_once, retry_delay
from bot.slack.blocks import Message, section
from bot.slack.client import make_web_client
from bot.store.deliveries import Status, insert_claim
from tests.coaching_world import SOCIAL, World
from tests.conftest import Clock
from tests.slack_stub import SlackStub

KEY = "summary:2026-W48"


@pytest.fixture
def world(deps: Deps) -> World:
    return World(deps.db).team()


@pytest.fixture
def client(settings: Settings) -> WebClient:
    return make_web_client(settings)


def summary(key: str = KEY, **extra: object) -> Outgoing:
    text = "📊 Your week on social"
    return Outgoing("T0ACME001", key, Message(text, [section(text)]), channel_id=SOCIAL, **extra)  # type: ignore[arg-type]


def test_a_message_is_sent_once_and_its_ts_recorded(
    deps: Deps, client: WebClient, slack: SlackStub, world: World
) -> None:
    first = deliver_once(deps, client, summary())
    second = deliver_once(deps, client, summary())

    assert first.result is Result.SENT and second.result is Result.NOT_OURS
    [posted] = slack.messages()
    assert posted["channel"] == SOCIAL and posted["text"] == "📊 Your week on social"
    assert posted["metadata"] == {"event_type": METADATA_EVENT, "event_payload": {"key": KEY}}
    row = world.delivery(KEY)
    assert row is not None
    assert (row.status, row.message_ts, row.channel_id, row.attempts) == ("sent", first.message_ts, SOCIAL, 1)


def test_racing_senders_post_once(deps: Deps, client: WebClient, slack: SlackStub, world: World) -> None:
    """Eight threads claim the same key at the same moment, each on its own connection."""
    start = threading.Barrier(8)
    results: list[Result] = []

    def send() -> None:
        start.wait()
        results.append(deliver_once(deps, client, summary()).result)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == sorted([Result.SENT] + [Result.NOT_OURS] * 7)
    assert len(slack.messages()) == 1


def test_a_429_is_retried_after_retry_after_and_sent_once(
    deps: Deps, client: WebClient, slack: SlackStub, world: World
) -> None:
    slack.fail_next("chat.postMessage", 429, retry_after=1)

    delivered = deliver_once(deps, client, summary())

    assert delivered.result is Result.SENT
    calls = slack.calls_to("chat.postMessage")
    assert len(calls) == 2  # the refused attempt and the one that landed
    row = world.delivery(KEY)
    assert row is not None and row.status == "sent" and row.message_ts == delivered.message_ts is not None
    assert row.attempts == 1


def in_channel(slack: SlackStub, key: str = KEY) -> list[dict]:
    """What people in the channel see: our messages carrying `key`."""
    return [
        m for m in slack.channel_history(SOCIAL) if m.get("metadata", {}).get("event_payload", {}).get("key") == key
    ]


@pytest.mark.parametrize(
    "fail",
    [
        lambda slack: slack.fail_next("chat.postMessage", 500, after_processing=True),
        lambda slack: slack.fail_next("chat.postMessage", 503, after_processing=True),
        lambda slack: slack.drop_next("chat.postMessage", after_processing=True),
    ],
    ids=["500", "503", "connection reset"],
)
def test_a_failure_after_slack_posted_it_is_confirmed_from_the_history_not_resent(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World, fail: Callable[[SlackStub], None]
) -> None:
    fail(slack)

    first = deliver_once(deps, client, summary())

    assert first.result is Result.UNCONFIRMED
    row = world.delivery(KEY)
    assert row is not None and (row.status, row.attempts, row.unconfirmed_since) == ("unconfirmed", 1, clock.now)
    clock.advance(seconds=30)  # inside the backoff: left alone
    assert deliver_once(deps, client, summary()).result is Result.NOT_OURS
    clock.advance(seconds=30)
    recovered = deliver_once(deps, client, summary())
    assert recovered.result is Result.RECOVERED
    assert deliver_once(deps, client, summary()).result is Result.NOT_OURS

    [posted] = in_channel(slack)
    assert len(slack.calls_to("chat.postMessage")) == 1  # exactly one message, never resent
    history = slack.calls_to("conversations.history")
    assert [(c.args["channel"], c.args["include_all_metadata"]) for c in history] == [(SOCIAL, "1")]
    row = world.delivery(KEY)
    assert row is not None and (row.status, row.message_ts, row.attempts) == ("sent", posted["ts"], 2)
    assert row.unconfirmed_since is None


@pytest.mark.parametrize(
    "fail",
    [
        lambda slack: slack.fail_next("chat.postMessage", 500),
        lambda slack: slack.drop_next("chat.postMessage", after_processing=False),
    ],
    ids=["500", "connection reset"],
)
def test_a_failure_before_slack_posted_it_is_sent_on_a_later_tick_once(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World, fail: Callable[[SlackStub], None]
) -> None:
    fail(slack)

    assert deliver_once(deps, client, summary()).result is Result.UNCONFIRMED
    assert in_channel(slack) == []
    clock.advance(minutes=1)
    sent = deliver_once(deps, client, summary())
    assert sent.result is Result.SENT
    clock.advance(minutes=1)
    assert deliver_once(deps, client, summary()).result is Result.NOT_OURS

    [posted] = in_channel(slack)
    assert len(slack.calls_to("chat.postMessage")) == 2  # the lost one and the one that landed
    assert len(slack.calls_to("conversations.history")) == 1  # looked before sending again
    row = world.delivery(KEY)
    assert row is not None and (row.status, row.message_ts, row.attempts) == ("sent", posted["ts"], 2)


def test_a_second_5xx_keeps_looking_from_the_first_doubtful_attempt(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    slack.fail_next("chat.postMessage", 500, after_processing=True)
    first_attempt = clock.now
    deliver_once(deps, client, summary())
    clock.advance(minutes=1)
    slack.fail_next("conversations.history", 503, times=3)  # the first look and both of the client's retries

    looked = deliver_once(deps, client, summary())

    assert looked.result is Result.UNCONFIRMED  # could not look: still in doubt, nothing resent
    row = world.delivery(KEY)
    assert row is not None and (row.status, row.attempts, row.unconfirmed_since) == ("unconfirmed", 2, first_attempt)
    clock.advance(minutes=2)
    assert deliver_once(deps, client, summary()).result is Result.RECOVERED
    assert len(slack.calls_to("chat.postMessage")) == 1 and len(in_channel(slack)) == 1
    oldest = float(slack.calls_to("conversations.history")[-1].args["oldest"])
    assert oldest == first_attempt.timestamp() - 60


def test_a_refusal_fails_this_tick_and_a_later_tick_sends_it(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    slack.respond("chat.postMessage", lambda _args: {"ok": False, "error": "not_in_channel"})

    failed = deliver_once(deps, client, summary())

    assert failed.result is Result.FAILED and failed.error == "not_in_channel"
    row = world.delivery(KEY)
    assert row is not None and (row.status, row.attempts, row.message_ts) == ("failed", 1, None)
    del slack.responders["chat.postMessage"]
    clock.advance(seconds=30)  # still inside the backoff: left alone
    assert deliver_once(deps, client, summary()).result is Result.NOT_OURS

    clock.advance(seconds=30)
    sent = deliver_once(deps, client, summary())
    assert sent.result is Result.SENT
    assert deliver_once(deps, client, summary()).result is Result.NOT_OURS
    assert slack.calls_to("conversations.history") == []  # a refusal is certain: nothing to look for
    assert len(slack.calls_to("chat.postMessage")) == 2 and len(in_channel(slack)) == 1
    row = world.delivery(KEY)
    assert row is not None and (row.status, row.attempts, row.message_ts) == ("sent", 2, sent.message_ts)


def test_no_connection_at_all_is_a_failure_retried_later(
    deps: Deps, clock: Clock, settings: Settings, client: WebClient, slack: SlackStub, world: World
) -> None:
    """Refused connections never carried the request: certain, so no history check, and no duplicate."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
    offline = make_web_client(replace(settings, slack_api_url=nowhere))

    failed = deliver_once(deps, offline, summary())

    assert failed.result is Result.FAILED and "Connection refused" in str(failed.error)
    clock.advance(minutes=1)
    assert deliver_once(deps, client, summary()).result is Result.SENT
    assert slack.calls_to("conversations.history") == [] and len(in_channel(slack)) == 1


def test_a_dm_that_may_have_arrived_is_abandoned_at_once(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    key = "nudge:U0ANA00001:2026-11-24"
    nudge = Outgoing("T0ACME001", key, Message("Hi"), dm_user_id="U0ANA00001", resend_unconfirmed=False)
    slack.fail_next("chat.postMessage", 500, after_processing=True)

    assert deliver_once(deps, client, nudge).result is Result.ABANDONED
    clock.advance(hours=1)
    assert deliver_once(deps, client, nudge).result is Result.NOT_OURS
    assert len(slack.calls_to("chat.postMessage")) == 1 and slack.calls_to("conversations.history") == []
    row = world.delivery(key)
    assert row is not None and row.status == "abandoned" and row.channel_id is None


def test_the_retry_backoff_grows_to_an_hour() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert retry_delay(10) == timedelta(hours=1)


def crashed_claim(deps: Deps, key: str = KEY, channel_id: str | None = SOCIAL) -> None:
    """A process claimed `key` and died before it could say whether Slack took the message."""
    with deps.db.session() as session:
        insert_claim(session, "T0ACME001", key, channel_id, "host:1:dead", deps.now())


def test_a_fresh_claim_of_another_process_is_left_alone(
    deps: Deps, client: WebClient, slack: SlackStub, world: World
) -> None:
    crashed_claim(deps)
    assert deliver_once(deps, client, summary()).result is Result.NOT_OURS
    assert slack.messages() == []


def test_a_stale_claim_whose_message_reached_slack_is_recorded_not_resent(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    crashed_claim(deps)
    clock.advance(seconds=LEASE.total_seconds())
    slack.respond(
        "conversations.history",
        lambda _args: {
            "ok": True,
            "messages": [
                {"type": "message", "ts": "1763890000.000300", "text": "someone else"},
                {
                    "type": "message",
                    "ts": "1763890000.000200",
                    "text": "📊 Your week on social",
                    "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": KEY}},
                },
            ],
            "has_more": False,
        },
    )

    delivered = deliver_once(deps, client, summary())

    assert delivered.result is Result.RECOVERED
    assert slack.messages() == []
    row = world.delivery(KEY)
    assert row is not None and (row.status, row.message_ts, row.attempts) == ("sent", "1763890000.000200", 2)


def test_a_stale_claim_whose_message_never_arrived_is_sent(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    crashed_claim(deps)
    clock.advance(seconds=LEASE.total_seconds())
    slack.respond("conversations.history", lambda _args: {"ok": True, "messages": [], "has_more": False})

    assert deliver_once(deps, client, summary()).result is Result.SENT
    assert len(slack.messages()) == 1


def test_a_stale_dm_that_cannot_be_confirmed_is_abandoned_rather_than_doubled(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    key = "nudge:U0ANA00001:2026-11-24"
    crashed_claim(deps, key, channel_id=None)
    clock.advance(minutes=16)
    nudge = Outgoing("T0ACME001", key, Message("Hi"), dm_user_id="U0ANA00001", resend_unconfirmed=False)

    assert deliver_once(deps, client, nudge).result is Result.ABANDONED
    assert deliver_once(deps, client, nudge).result is Result.NOT_OURS
    assert slack.messages() == []
    row = world.delivery(key)
    assert row is not None and row.status == Status.ABANDONED


def test_a_dm_opens_the_conversation_and_records_its_channel(
    deps: Deps, client: WebClient, slack: SlackStub, world: World
) -> None:
    nudge = Outgoing("T0ACME001", "nudge:U0ANA00001:2026-11-24", Message("Hi"), dm_user_id="U0ANA00001")

    delivered = deliver_once(deps, client, nudge)

    assert [call.args["users"] for call in slack.calls_to("conversations.open")] == ["U0ANA00001"]
    assert slack.messages()[0]["channel"] == delivered.channel_id == "D0ANA00001"


def test_on_claimed_can_give_the_claim_up_and_nothing_is_sent(
    deps: Deps, client: WebClient, slack: SlackStub, world: World
) -> None:
    assert deliver_once(deps, client, summary(), on_claimed=lambda _session: False).result is Result.NOT_OURS
    assert slack.messages() == [] and world.delivery(KEY) is None
    assert deliver_once(deps, client, summary(), on_claimed=lambda _session: True).result is Result.SENT


def test_on_refused_runs_only_when_slack_did_not_post_it(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    refused: list[str] = []
    slack.fail_next("chat.postMessage", 500)  # unconfirmed: Slack may have it
    deliver_once(deps, client, summary(), on_refused=lambda _session: refused.append("500"))
    clock.advance(minutes=1)
    slack.respond("chat.postMessage", lambda _args: {"ok": False, "error": "is_archived"})
    deliver_once(deps, client, summary(), on_refused=lambda _session: refused.append("is_archived"))
    del slack.responders["chat.postMessage"]
    clock.advance(minutes=2)
    deliver_once(deps, client, summary(), on_refused=lambda _session: refused.append("sent"))
    assert refused == ["is_archived"]
    assert len(in_channel(slack)) == 1
