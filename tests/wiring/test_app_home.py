"""The App Home: app_home_opened publishes the dashboard; its switches change the member's nudges."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.services.home import NudgeSwitch
from bot.slack.blocks.home import SWITCH_ACTIONS
from bot.slack.client import RATE_LIMIT_RETRIES
from bot.store.database import Database
from bot.store.models import Member
from bot.store.upsert import insert_or_update
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub
from tests.waiting_time import waiting_since
from tests.wiring.test_coach_leaderboard import ANA, BEN, CARLA, DAN, log

KEY = ["team_id", "user_id"]
PAYLOADS = json.loads((Path(__file__).parents[1] / "fixtures" / "app_home_payloads.json").read_text())


def open_home(driver: SlackDriver, user: str = ANA, tab: str = "home") -> int:
    event = copy.deepcopy(PAYLOADS["app_home_opened"])  # Slack's documented example, with our ids
    event.update(user=user, channel="D0" + user[2:], tab=tab)
    return driver.request(driver.event_body(event), "application/json").status


def published(slack: SlackStub) -> list[dict[str, Any]]:
    return [call.args for call in slack.calls_to("views.publish")]


def texts(view: dict[str, Any]) -> str:
    parts = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(parts)


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in view["blocks"]:
        for element in [block.get("accessory") or {}, *block.get("elements", [])]:
            if element.get("type") == "button":
                found.append(element)
    return found


def ts(at: datetime) -> str:
    return f"{int(at.timestamp())}.000100"


def share(driver: SlackDriver, user: str, url: str, at: datetime, channel: str = "C0SOCIAL01") -> None:
    kind = "group" if channel.startswith("G") else "channel"
    message = {"type": "message", "channel": channel, "channel_type": kind, "user": user, "text": f"<{url}>"}
    assert driver.event({**message, "ts": ts(at), "event_ts": ts(at)}).status == 200


def press(driver: SlackDriver, user: str, switch: NudgeSwitch) -> int:
    """Bolt's own block_actions payload, pressed on the Home tab by `user`."""
    payload = copy.deepcopy(PAYLOADS["block_actions_button"])
    payload.pop("team")
    payload.pop("channel")
    payload.pop("response_url")
    payload["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID}
    payload["container"] = {"type": "view", "view_id": "V0HOME001"}
    payload["view"] = {"id": "V0HOME001", "type": "home", "team_id": TEAM_ID}
    payload["actions"][0].update(action_id=SWITCH_ACTIONS[switch], block_id="home_nudges", value=switch.value)
    return driver.interaction(payload).status


def member(db: Database, user: str) -> Member:
    with db.session() as session:
        return session.scalars(select(Member).where(Member.team_id == TEAM_ID, Member.user_id == user)).one()


def test_opening_the_home_tab_publishes_the_members_dashboard(driver: SlackDriver, slack: SlackStub) -> None:
    log(driver, ANA, "reply", 4)
    log(driver, ANA, "post", 1, to="ana")
    log(driver, DAN, "post", 3, to="dan")

    assert open_home(driver) == 200

    [call] = published(slack)
    assert call["user_id"] == ANA
    view = call["view"]
    assert view["type"] == "home"
    text = texts(view)
    assert "💬 *Given* 4 · 📣 *Pushed* 1 · ⚖️ *Ratio* 4.0:1" in text
    assert "target 4:1" in text
    assert "*This week so far:* 21.0 points; at this point last week you had none yet." in text
    assert f"1. <@{ANA}> `██████████` *21.0* pts" in text and f"2. <@{DAN}>" in text
    assert [b["text"]["text"] for b in buttons(view)] == ["Pause nudges for a week", "Stop nudges"]


def test_the_messages_tab_publishes_nothing(driver: SlackDriver, slack: SlackStub) -> None:
    assert open_home(driver, tab="messages") == 200
    assert published(slack) == []


def in_private_channels(slack: SlackStub, members: dict[str, list[str]]) -> None:
    """Answer users.conversations as Slack does for the bot token: the private channels `user` shares with the bot."""

    def answer(args: dict[str, Any]) -> dict[str, Any]:
        assert args["types"] == "private_channel"
        channels = [{"id": channel, "is_private": True, "is_group": True} for channel in members.get(args["user"], [])]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    slack.respond("users.conversations", answer)


def opens(view: dict[str, Any]) -> list[str]:
    return [b["url"] for b in buttons(view) if b["text"]["text"] == "Open"]


def test_teammates_links_waiting_for_a_reply_have_open_buttons_and_private_ones_stay_private(
    driver: SlackDriver, slack: SlackStub, clock: Clock
) -> None:
    since = waiting_since(clock.now)
    share(driver, BEN, "https://blog.example.com/launch", since - timedelta(minutes=3))
    share(driver, CARLA, "https://x.com/carla/status/7", since - timedelta(minutes=2), channel="G0PRIVATE1")
    share(driver, ANA, "https://x.com/ana/status/9", since - timedelta(minutes=1))
    membership: dict[str, list[str]] = {}
    in_private_channels(slack, membership)

    open_home(driver, ANA)  # not in the private channel (never active there either)
    membership[ANA] = ["G0PRIVATE1"]  # invited: she has said nothing there yet
    open_home(driver, ANA)
    membership[ANA] = []  # left it again
    open_home(driver, ANA)

    outside, inside, left = (call["view"] for call in published(slack))
    assert opens(outside) == ["https://blog.example.com/launch"]  # not Ana's own, not the private channel's
    assert opens(inside) == ["https://blog.example.com/launch", "https://x.com/carla/status/7"]
    assert f"<@{BEN}>'s <https://blog.example.com/launch|blog.example.com/launch> in <#C0SOCIAL01>" in texts(inside)
    assert "carla" not in texts(outside) + texts(left) and opens(left) == opens(outside)
    asked = [call.args for call in slack.calls_to("users.conversations")]
    assert len(asked) == 3  # one call per Home open, whatever the number of links
    assert {k: asked[0][k] for k in ("user", "types", "exclude_archived", "limit")} == {
        "user": ANA,
        "types": "private_channel",
        "exclude_archived": "1",
        "limit": "200",
    }


@pytest.mark.parametrize("failure", ["missing_scope", "ratelimited"])
def test_when_slack_will_not_say_which_private_channels_only_public_links_show(
    driver: SlackDriver, slack: SlackStub, clock: Clock, failure: str
) -> None:
    since = waiting_since(clock.now)
    share(driver, BEN, "https://blog.example.com/launch", since)
    share(driver, CARLA, "https://x.com/carla/status/7", since, channel="G0PRIVATE1")
    if failure == "ratelimited":
        slack.fail_next("users.conversations", 429, retry_after=0, times=RATE_LIMIT_RETRIES + 1)
    else:
        slack.respond("users.conversations", lambda _args: {"ok": False, "error": failure, "needed": "groups:read"})

    assert open_home(driver, ANA) == 200

    [call] = published(slack)
    assert opens(call["view"]) == ["https://blog.example.com/launch"]


def test_deactivated_members_and_bots_are_not_named_in_the_top_list_or_the_waiting_links(
    driver: SlackDriver, slack: SlackStub, db: Database, clock: Clock
) -> None:
    log(driver, BEN, "reply", 6)
    log(driver, CARLA, "reply", 2)
    log(driver, DAN, "comment", 1)
    since = waiting_since(clock.now)
    share(driver, BEN, "https://blog.example.com/ben", since)
    share(driver, DAN, "https://blog.example.com/dan", since + timedelta(minutes=1))
    with db.session() as session:
        insert_or_update(session, Member, {"team_id": TEAM_ID, "user_id": BEN, "is_deleted": True}, KEY, ["is_deleted"])
        insert_or_update(session, Member, {"team_id": TEAM_ID, "user_id": DAN, "is_bot": True}, KEY, ["is_bot"])

    open_home(driver, ANA)

    text = texts(published(slack)[-1]["view"])
    assert f"1. <@{CARLA}>" in text
    assert BEN not in text and DAN not in text
    assert opens(published(slack)[-1]["view"]) == []


def test_pause_for_a_week_then_resume_and_the_home_tab_follows(
    driver: SlackDriver, slack: SlackStub, db: Database, clock: Clock
) -> None:
    assert press(driver, ANA, NudgeSwitch.PAUSE) == 200

    assert member(db, ANA).nudges_paused_until == clock.now + timedelta(days=7)
    view = published(slack)[-1]["view"]
    assert "Nudges are paused until <!date^" in texts(view)
    assert [b["text"]["text"] for b in buttons(view)] == ["Resume nudges"]

    assert press(driver, ANA, NudgeSwitch.RESUME) == 200
    paused = member(db, ANA)
    assert (paused.nudges_paused_until, paused.nudges_stopped) == (None, False)
    assert [b["text"]["text"] for b in buttons(published(slack)[-1]["view"])][-2:] == [
        "Pause nudges for a week",
        "Stop nudges",
    ]


def test_stop_nudges_sets_the_same_switch_the_nudge_buttons_use(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    assert press(driver, BEN, NudgeSwitch.STOP) == 200

    assert member(db, BEN).nudges_stopped is True
    assert "Nudges are off" in texts(published(slack)[-1]["view"])


def test_an_opted_out_member_sees_only_how_to_opt_back_in(driver: SlackDriver, slack: SlackStub, db: Database) -> None:
    log(driver, ANA, "reply", 1)
    with db.session() as session:
        session.execute(update(Member).where(Member.team_id == TEAM_ID, Member.user_id == ANA).values(opted_out=True))

    open_home(driver, ANA)

    text = texts(published(slack)[-1]["view"])
    assert "`/coach optin` turns tracking back on" in text
    assert "Given" not in text


def test_a_failing_views_publish_is_retried_and_the_event_still_gets_a_200(
    driver: SlackDriver, slack: SlackStub
) -> None:
    slack.fail_next("views.publish", 429, retry_after=0)

    assert open_home(driver) == 200
    assert len(published(slack)) == 2
