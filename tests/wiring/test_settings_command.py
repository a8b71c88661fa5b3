"""`/coach settings` through signed slash commands: what an admin and a member see, and what is saved."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from bot.coach.settings import TeamSettings
from bot.deps import Deps
from tests.coaching_world import World
from tests.slack_requests import SlackDriver
from tests.slack_stub import SlackStub

ADMIN, OWNER, MEMBER, BEN = "U0ADMIN001", "U0OWNER001", "U0MEMBER01", "U0BEN00001"


@pytest.fixture(autouse=True)
def people(slack: SlackStub) -> None:
    slack.add_user(ADMIN, name="Ada Admin", tz="Europe/Madrid", is_admin=True)
    slack.add_user(OWNER, name="Olga Owner", tz="America/New_York", is_owner=True)
    slack.add_user(MEMBER, name="Max Member", tz="Asia/Tokyo")


def answer(driver: SlackDriver, text: str, user: str) -> dict[str, Any]:
    response = driver.command(text, user=user)
    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    return body


def card_text(body: dict[str, Any]) -> str:
    return "\n".join(
        block["text"]["text"] if "text" in block else block["elements"][0]["text"] for block in body["blocks"]
    )


def stored(deps: Deps) -> TeamSettings:
    return World(deps.db).settings()


def test_anyone_can_see_the_settings_but_only_admins_are_invited_to_change_them(driver: SlackDriver) -> None:
    member_view = card_text(answer(driver, "settings", MEMBER))
    assert "⚙️ More Social settings" in member_view
    assert "*summary-time* · Monday 09:00 (UTC)" in member_view
    assert "*quiet-days* · Saturday, Sunday" in member_view
    assert "*target* · 4:1 (4-1-1, 80/20)" in member_view
    assert "Only workspace admins and coach admins can change these" in member_view

    admin_view = card_text(answer(driver, "settings", ADMIN))
    assert "Change one with `/coach settings <name> <value>`" in admin_view


def test_the_team_takes_the_first_admins_time_zone_until_one_is_set(driver: SlackDriver, deps: Deps) -> None:
    answer(driver, "settings", MEMBER)
    assert stored(deps).timezone == "UTC"  # a member's zone is not the team's

    view = card_text(answer(driver, "settings", ADMIN))
    assert "*timezone* · Europe/Madrid" in view
    assert stored(deps).timezone == "Europe/Madrid"

    answer(driver, "settings", OWNER)  # a later admin does not move the team's clock
    assert stored(deps).timezone == "Europe/Madrid"


@pytest.mark.parametrize(
    ("text", "field", "value", "shown"),
    [
        ("summary-channel <#C0LAUNCH01|launch>", "summary_channel", "C0LAUNCH01", "<#C0LAUNCH01>"),
        ("summary-time friday 16:30", "summary_time", time(16, 30), "Friday 16:30"),
        ("timezone europe/madrid", "timezone", "Europe/Madrid", "Europe/Madrid"),
        ("reminder-channel <#C0SOCIAL01|social>", "reminder_channel", "C0SOCIAL01", "<#C0SOCIAL01>"),
        ("reminder-time 11:15", "reminder_time", time(11, 15), "11:15"),
        ("quiet-days fri,sat,sun", "quiet_days", frozenset({4, 5, 6}), "Friday, Saturday, Sunday"),
        ("target 5-3-2", "target_ratio", 2.3, "2.3:1 (5-3-2)"),
        ("target rule of thirds", "target_ratio", 2.0, "2:1 (rule-of-thirds)"),
        ("target 3", "target_ratio", 3.0, "3:1"),
        ("waiting-hours 48", "waiting_hours", 48, "48 hours"),
        ("weight reply 6", "weights", {"reply": 6.0}, "reply 6 (others default)"),
        ("admins add <@U0BEN00001|ben>", "coach_admins", frozenset({BEN}), "<@U0BEN00001>"),
    ],
)
def test_an_admin_changes_one_setting(
    driver: SlackDriver, deps: Deps, text: str, field: str, value: object, shown: str
) -> None:
    body = answer(driver, f"settings {text}", ADMIN)

    assert body["text"].startswith(f"✅ *{text.split()[0]}* is now ") and shown in body["text"]
    saved = getattr(stored(deps), field)
    assert (dict(saved) if field == "weights" else saved) == value


def test_an_owner_counts_as_an_admin(driver: SlackDriver, deps: Deps) -> None:
    answer(driver, "settings waiting-hours 12", OWNER)
    assert stored(deps).waiting_hours == 12


def test_a_member_is_told_kindly_and_nothing_changes(driver: SlackDriver, deps: Deps) -> None:
    body = answer(driver, "settings target 2", MEMBER)
    assert body["text"].startswith("Only workspace admins and coach admins can change settings.")
    assert stored(deps).target_ratio == 4.0


def test_a_coach_admin_added_by_an_admin_can_change_settings(driver: SlackDriver, deps: Deps, slack: SlackStub) -> None:
    answer(driver, f"settings admins add <@{MEMBER}|max>", ADMIN)
    body = answer(driver, "settings reminder-time 09:30", MEMBER)
    assert body["text"].startswith("✅ *reminder-time* is now 09:30")
    assert stored(deps).reminder_time == time(9, 30)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("timezone Mars/Olympus", "I don't know the time zone “Mars/Olympus”"),
        ("timezone madrid", "Did you mean Europe/Madrid?"),
        ("waiting-hours 500", "Waiting hours must be between 1 and 168"),
        ("summary-time someday 09:00", "isn't a day of the week"),
        ("reminder-time 25:00", "use the 24-hour clock"),
        ("target lots", "The presets are 4-1-1, 5-3-2, rule-of-thirds, 80/20"),
        ("weight retweet 5", "isn't a kind of action"),
        ("summary-channel #social", "pick the channel from Slack's list"),
    ],
)
def test_bad_values_get_a_clear_answer_and_change_nothing(
    driver: SlackDriver, deps: Deps, text: str, says: str
) -> None:
    answer(driver, "settings", ADMIN)
    before = stored(deps)

    body = answer(driver, f"settings {text}", ADMIN)

    assert says in body["text"]
    assert "For example: `/coach settings" in body["text"]
    assert stored(deps) == before


def test_a_channel_the_bot_is_not_in_is_refused(driver: SlackDriver, deps: Deps, slack: SlackStub) -> None:
    slack.respond("conversations.info", lambda args: {"ok": True, "channel": {"id": "C0LAUNCH01", "is_member": False}})
    body = answer(driver, "settings summary-channel <#C0LAUNCH01|launch>", ADMIN)
    assert body["text"] == "I'm not in <#C0LAUNCH01> yet. Invite me there (`/invite @More Social`), then try again."
    assert stored(deps).summary_channel is None


def test_a_channel_slack_cannot_find_is_refused(driver: SlackDriver, deps: Deps, slack: SlackStub) -> None:
    slack.respond("conversations.info", lambda args: {"ok": False, "error": "channel_not_found"})
    body = answer(driver, "settings reminder-channel <#G0PRIVATE1|plans>", ADMIN)
    assert body["text"].startswith("I can't see <#G0PRIVATE1>.")
    assert stored(deps).reminder_channel is None


def test_admin_rights_are_read_from_slack_once_per_few_minutes(driver: SlackDriver, slack: SlackStub) -> None:
    answer(driver, "settings target 3", ADMIN)
    answer(driver, "settings target 4", ADMIN)
    answer(driver, "settings", ADMIN)
    assert len(slack.calls_to("users.info")) == 1
