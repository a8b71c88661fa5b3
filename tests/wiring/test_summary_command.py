"""`/coach summary`: a private preview of this week, through a signed slash command."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.coach.tips import tip_for_week
from bot.deps import Deps
from tests.coaching_world import ANA, BEN, World
from tests.slack_requests import SlackDriver
from tests.slack_stub import SlackStub


def test_the_preview_is_shown_to_the_caller_only(driver: SlackDriver, deps: Deps, slack: SlackStub) -> None:
    world = World(deps.db).team()
    ts = world.link(ANA, datetime(2026, 11, 23, 8, tzinfo=UTC), url="https://ana.example/launch")
    world.reply(BEN, ts, ANA, datetime(2026, 11, 23, 9, tzinfo=UTC))

    response = driver.command("summary", user=BEN)

    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["text"]["text"] == "👀 This week so far · 23–29 Nov"
    text = body["text"]
    assert "1 conversation: 0 replies, 1 comment, 0 answers" in text
    assert "1 post or link shared" in text
    assert f"1. <@{BEN}>" in text
    assert f"Most discussed: <https://ana.example/launch|ana.example/launch> shared by <@{ANA}> · 1 reply" in text
    assert tip_for_week(date(2026, 11, 23)) in text
    assert body["blocks"][-1]["elements"][0]["text"].startswith("Only you can see this preview.")
    assert slack.messages() == []  # nothing posted for the team


def test_a_fresh_workspace_gets_a_short_preview_that_says_where_the_summary_will_go(driver: SlackDriver) -> None:
    body = driver.command("summary").json()
    assert "A quiet week" in body["text"]
    assert "no channel yet (set one with `/coach settings summary-channel`)" in body["text"]


def test_the_preview_takes_no_arguments(driver: SlackDriver) -> None:
    body = driver.command("summary now").json()
    assert body["response_type"] == "ephemeral"
    assert "I didn't expect “now” after `/coach summary`" in body["text"]
