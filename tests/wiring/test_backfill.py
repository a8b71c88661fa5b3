"""History import: when the bot joins a channel, and on `/coach backfill`, through signed requests and the stub.

The stub plays conversations.history in two pages with a 429 in between, and conversations.replies for
the one thread, so the tests see what Slack would send a real backfill.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from bot.coach.kinds import Kind
from bot.slack.events.channels import BACKFILLS
from bot.store.models import Channel, Team
from tests.slack_events import ANA, BEN, BOT, CARLA, DAN, SOCIAL, joined, ledger, rich_text, tally
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub

POST = "https://x.com/ana/status/1861"
BLOG = "https://blog.example.com/carla/launch"
PARENT_TS = "1795000000.000100"


def history_message(user: str, text: str, ts: str, **extra: Any) -> dict[str, Any]:
    """A message as conversations.history returns it (no channel, blocks included)."""
    return {"type": "message", "user": user, "text": text, "ts": ts, "blocks": rich_text(text), **extra}


NEWEST_PAGE = [
    history_message(CARLA, f"Launch post is live <{BLOG}>", "1795100000.000100"),
    history_message("U0SLACKBOT", "reminder", "1795090000.000100", subtype="bot_message", bot_id="B0OTHER01"),
]
OLDEST_PAGE = [
    history_message(
        ANA,
        f"My thread on listening first <{POST}>",
        PARENT_TS,
        thread_ts=PARENT_TS,
        reply_count=2,
        reactions=[
            {"name": "tada", "users": [BEN, CARLA, BOT], "count": 3},
            {"name": "fire", "users": [BEN], "count": 1},
        ],
    ),
    history_message(DAN, "Morning all", "1794990000.000100"),
]
REPLIES = [
    history_message(ANA, f"My thread on listening first <{POST}>", PARENT_TS, thread_ts=PARENT_TS, reply_count=2),
    history_message(BEN, "This changed how I plan my week, thank you", "1795000300.000100", thread_ts=PARENT_TS),
    history_message(ANA, "Glad it helped!", "1795000600.000100", thread_ts=PARENT_TS),
]


def script_history(slack: SlackStub, *, gate: threading.Event | None = None) -> None:
    """Two pages of history, newest first, with a 429 (Retry-After: 0) before the second; one thread."""

    def history(args: dict[str, Any]) -> dict[str, Any]:
        if gate is not None:
            gate.wait(timeout=10)
        if args.get("cursor") == "page2":
            return {"ok": True, "messages": OLDEST_PAGE, "has_more": False, "response_metadata": {"next_cursor": ""}}
        slack.fail_next("conversations.history", 429, retry_after=0)
        return {"ok": True, "messages": NEWEST_PAGE, "has_more": True, "response_metadata": {"next_cursor": "page2"}}

    def replies(args: dict[str, Any]) -> dict[str, Any]:
        assert args["ts"] == PARENT_TS
        return {"ok": True, "messages": REPLIES, "has_more": False}

    slack.respond("conversations.history", history)
    slack.respond("conversations.replies", replies)


EXPECTED = {
    (Kind.LINK, CARLA, ""): 1,
    (Kind.LINK, ANA, ""): 1,
    (Kind.LIKE, BEN, ANA): 1,  # tada and fire: one like
    (Kind.LIKE, CARLA, ANA): 1,
    (Kind.COMMENT, BEN, ANA): 1,
}


@pytest.fixture(autouse=True)
def _wait_for_background_imports():  # type: ignore[no-untyped-def]
    yield
    BACKFILLS.join(timeout=30)


def test_the_bot_joining_imports_two_weeks_of_history_once(driver: SlackDriver, slack: SlackStub, db, clock) -> None:  # type: ignore[no-untyped-def]
    script_history(slack)

    assert driver.event(joined(BOT)).status == 200
    BACKFILLS.join(timeout=30)

    assert tally(db) == EXPECTED
    calls = slack.calls_to("conversations.history")
    assert [call.args.get("cursor") for call in calls] == [None, "page2", "page2"]  # the 429 was retried
    assert float(calls[0].args["oldest"]) == clock.now.timestamp() - 14 * 86400
    assert calls[0].args["limit"] == "200"
    with db.session() as session:
        channel = session.scalars(select(Channel).where(Channel.channel_id == SOCIAL)).one()
        team = session.get(Team, TEAM_ID)
    assert channel.bot_joined_at == clock.now and channel.history_imported_at == clock.now
    assert team.first_channel_id == SOCIAL


def test_a_person_joining_changes_nothing(driver: SlackDriver, slack: SlackStub, db) -> None:  # type: ignore[no-untyped-def]
    assert driver.event(joined(BEN)).status == 200
    BACKFILLS.join(timeout=30)

    assert slack.calls_to("conversations.history") == []
    with db.session() as session:
        assert session.scalars(select(Channel)).all() == []


def test_an_admin_backfills_on_demand_and_twice_changes_nothing(driver: SlackDriver, slack: SlackStub, db) -> None:  # type: ignore[no-untyped-def]
    script_history(slack)
    slack.add_user(ANA, is_admin=True)

    first = driver.command(f"backfill <#{SOCIAL}|social> 7", user=ANA, channel="C0OTHER001")
    BACKFILLS.join(timeout=30)
    assert first.status == 200
    assert first.json()["response_type"] == "ephemeral"
    assert f"reading the last 7 days of <#{SOCIAL}>" in first.json()["text"]
    assert tally(db) == EXPECTED

    driver.command("backfill", user=ANA, channel=SOCIAL)
    BACKFILLS.join(timeout=30)

    assert tally(db) == EXPECTED
    done, again = driver.responses_posted()
    assert done["text"].startswith(f"Done with <#{SOCIAL}>: I read 6 messages from the last 7 days")
    assert "2 shared links, 1 comment and 2 likes. 5 entries new to the tally." in done["text"]
    assert "All of it was already counted." in again["text"]
    assert done["response_type"] == "ephemeral"


def test_only_admins_may_backfill(driver: SlackDriver, slack: SlackStub, db) -> None:  # type: ignore[no-untyped-def]
    slack.add_user(BEN, is_admin=False)

    response = driver.command("backfill", user=BEN)

    assert response.status == 200
    assert "Only workspace admins and coach admins" in response.json()["text"]
    assert slack.calls_to("conversations.history") == []


def test_backfill_needs_a_channel(driver: SlackDriver, slack: SlackStub) -> None:
    slack.add_user(ANA, is_admin=True)

    response = driver.command("backfill", user=ANA, channel="D0ANA00001")

    assert "I can only read channels" in response.json()["text"]
    assert slack.calls_to("conversations.history") == []


def test_a_channel_the_bot_is_not_in_is_explained(driver: SlackDriver, slack: SlackStub, db) -> None:  # type: ignore[no-untyped-def]
    slack.add_user(ANA, is_admin=True)
    slack.respond("conversations.history", lambda _args: {"ok": False, "error": "not_in_channel"})

    driver.command("backfill", user=ANA)
    BACKFILLS.join(timeout=30)

    (answer,) = driver.responses_posted()
    assert answer["text"].startswith(f"I'm not in <#{SOCIAL}> yet. Invite me with `/invite @More Social`")
    assert ledger(db) == []


def test_a_second_backfill_of_the_same_channel_waits_for_the_first(driver: SlackDriver, slack: SlackStub, db) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    script_history(slack, gate=gate)
    slack.add_user(ANA, is_admin=True)

    first = driver.command("backfill", user=ANA)
    second = driver.command("backfill 3", user=ANA)
    gate.set()
    BACKFILLS.join(timeout=30)

    assert "On it" in first.json()["text"]
    assert second.json()["text"] == f"I'm already reading <#{SOCIAL}>; I'll tell you here when it's done."
    assert tally(db) == EXPECTED
