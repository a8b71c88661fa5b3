"""The nudge DM's buttons, clicked through signed block_actions requests on a nudge the clock really sent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bot.coach.settings import TeamSettings
from bot.deps import Deps
from bot.services.clock import run_due
from bot.slack.blocks.reminders import SNOOZE_NUDGES_ACTION, STOP_NUDGES_ACTION
from bot.slack.client import make_web_client
from tests.coaching_world import ANA, DAN, World
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import SlackStub

TUESDAY_11 = datetime(2026, 11, 24, 11, tzinfo=UTC)
KEY = f"nudge:{DAN}:2026-11-24"
NUDGES_ONLY = TeamSettings(summary_weekday=6, summary_time=time(23, 59), reminder_time=time(23, 59))


@pytest.fixture
def world(deps: Deps) -> World:
    return World(deps.db).team(NUDGES_ONLY)


def dms(slack: SlackStub) -> list[dict[str, Any]]:
    return [m for m in slack.messages() if m["channel"].startswith("D")]


def tick(deps: Deps, clock: Clock, world: World, now: datetime) -> None:
    """DAN has posted for days without engaging and a teammate's link waits: run the clock at `now`."""
    for n in range(4):
        world.link(DAN, now - timedelta(days=n + 1, minutes=n))
    world.link(ANA, now - timedelta(hours=25))  # unanswered for a day: waiting
    clock.now = now
    run_due(deps, make_web_client(deps.settings), now)


def click(driver: SlackDriver, world: World, dm: dict[str, Any], action_id: str) -> None:
    """Press a button of the nudge, as Slack sends it: block_actions on a bot message in the DM."""
    delivery = world.delivery(KEY)
    assert delivery is not None and delivery.message_ts
    [controls] = [block for block in dm["blocks"] if block["type"] == "actions"]
    button = next(element for element in controls["elements"] if element["action_id"] == action_id)
    payload = {
        "type": "block_actions",
        "user": {"id": DAN, "username": "dan", "name": "dan", "team_id": world.team_id},
        "container": {
            "type": "message",
            "message_ts": delivery.message_ts,
            "channel_id": dm["channel"],
            "is_ephemeral": False,
        },
        "trigger_id": "111.222.valid",
        "channel": {"id": dm["channel"], "name": "directmessage"},
        "message": {"type": "message", "ts": delivery.message_ts, "text": dm["text"], "blocks": dm["blocks"]},
        "response_url": "https://hooks.slack.com/actions/T0ACME001/111/random-value",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "nudge_controls",
                "text": button["text"],
                "value": button["value"],
                "type": "button",
                "action_ts": "1764000000.000100",
            }
        ],
    }
    response = driver.interaction(payload)
    assert response.status == 200


def test_snooze_pauses_nudges_for_a_week_and_says_so_in_place(
    driver: SlackDriver, deps: Deps, clock: Clock, slack: SlackStub, world: World
) -> None:
    tick(deps, clock, world, TUESDAY_11)
    [dm] = dms(slack)
    clock.now = TUESDAY_11 + timedelta(minutes=5)

    click(driver, world, dm, SNOOZE_NUDGES_ACTION)

    [update] = [call.args for call in slack.calls_to("chat.update")]
    assert update["channel"] == dm["channel"] and update["ts"] == world.delivery(KEY).message_ts  # type: ignore[union-attr]
    assert update["text"].startswith("😴 Snoozed. No nudges from me until <!date^")
    assert "actions" not in [block["type"] for block in update["blocks"]]  # no second click
    member = world.member_row(DAN)
    assert member is not None and member.nudges_paused_until == clock.now + timedelta(days=7)

    tick(deps, clock, world, TUESDAY_11 + timedelta(days=6))  # Monday: cooldown over, still snoozed
    assert len(dms(slack)) == 1
    tick(deps, clock, world, TUESDAY_11 + timedelta(days=7, minutes=5))  # Tuesday after: free to nudge again
    assert len(dms(slack)) == 2


def test_stop_ends_nudges_for_good(
    driver: SlackDriver, deps: Deps, clock: Clock, slack: SlackStub, world: World
) -> None:
    tick(deps, clock, world, TUESDAY_11)
    [dm] = dms(slack)

    click(driver, world, dm, STOP_NUDGES_ACTION)

    [update] = [call.args for call in slack.calls_to("chat.update")]
    assert update["text"].startswith("👍 Done: I won't send you these nudges any more.")
    member = world.member_row(DAN)
    assert member is not None and member.nudges_stopped

    for days in (3, 7, 14):
        tick(deps, clock, world, TUESDAY_11 + timedelta(days=days))
    assert len(dms(slack)) == 1
