"""`/coach me [week|month|all]` through signed requests to the real app."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from bot.store.database import Database
from bot.store.models import Member
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub
from tests.waiting_time import waiting_since
from tests.wiring.test_app_home import in_private_channels, share
from tests.wiring.test_coach_leaderboard import ANA, BEN, CARLA, DAN, log


def card(response: Any) -> str:
    """Everything the member reads on the ephemeral card."""
    assert response.status == 200, response.text
    body = response.json()
    assert body["response_type"] == "ephemeral"
    parts = []
    for block in body["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [element["text"] for element in block.get("elements", [])]
    return "\n".join(parts)


def test_me_shows_given_by_kind_against_pushed_with_rank_and_ratio(driver: SlackDriver) -> None:
    log(driver, ANA, "reply", 3)
    log(driver, ANA, "answer", 1, to="customer")
    log(driver, ANA, "post", 1, to="ana")
    log(driver, BEN, "reply", 8)

    text = card(driver.command("me"))

    assert "*Given:* 4 (1 answer, 3 replies)" in text
    assert "*Pushed:* 1 (1 post)" in text
    assert "*Ratio:* 4.0:1 · target 4:1" in text
    assert "*Rank:* 2 of 2 · 22.0 points" in text
    assert "*Next step:*" in text


def test_on_monday_morning_the_week_is_compared_with_last_monday_morning(driver: SlackDriver, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # last Monday, an hour earlier in the day
    log(driver, ANA, "reply", 1, to="monday")
    clock.now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # last Wednesday: a busy day, later in the week
    log(driver, ANA, "comment", 8, to="wednesday")
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday morning
    log(driver, ANA, "reply", 3)

    text = card(driver.command("me"))

    assert "*This week so far:* 15.0 points, up from 5.0 at this point last week" in text
    assert "down from" not in text


def test_month_and_all_count_more_than_the_week(driver: SlackDriver, clock: Clock) -> None:
    clock.now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    log(driver, ANA, "comment", 2, to="october")
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    log(driver, ANA, "comment", 1)

    assert "Your week so far" in card(driver.command("me week"))
    assert "*Given:* 1 (1 comment)" in card(driver.command("me"))
    assert "*Given:* 1 (1 comment)" in card(driver.command("me month"))
    assert "*Given:* 3 (3 comments)" in card(driver.command("me all"))


def test_below_target_the_next_step_says_how_many_replies_are_needed(driver: SlackDriver) -> None:
    log(driver, DAN, "post", 3, to="dan")
    log(driver, DAN, "reply", 2)

    text = card(driver.command("me", user=DAN))

    assert "*Ratio:* 0.7:1" in text
    assert "10 more replies or comments bring you to 4:1" in text


def test_the_next_step_names_a_teammates_link_waiting_for_a_reply(driver: SlackDriver, clock: Clock) -> None:
    share(driver, BEN, "https://blog.example.com/launch", waiting_since(clock.now))

    text = card(driver.command("me"))

    assert f"<@{BEN}>'s <https://blog.example.com/launch|blog.example.com/launch> in <#C0SOCIAL01>" in text
    assert "hours for a reply" in text


def test_a_private_channels_link_is_suggested_only_to_a_member_of_that_channel(
    driver: SlackDriver, slack: SlackStub, clock: Clock
) -> None:
    share(driver, BEN, "https://x.com/ben/status/7", waiting_since(clock.now), channel="G0PRIVATE1")
    in_private_channels(slack, {CARLA: ["G0PRIVATE1"]})

    outside = card(driver.command("me", user=ANA))
    inside = card(driver.command("me", user=CARLA))

    assert "x.com/ben" not in outside and "G0PRIVATE1" not in outside
    assert "Start with one reply today" in outside
    assert f"<@{BEN}>'s <https://x.com/ben/status/7|x.com/ben/status/7> in <#G0PRIVATE1>" in inside
    assert [call.args["user"] for call in slack.calls_to("users.conversations")] == [ANA, CARLA]


def test_someone_new_gets_a_first_step(driver: SlackDriver) -> None:
    text = card(driver.command("me"))

    assert "Nothing logged or seen this week yet." in text
    assert "Start with one reply today" in text


def test_an_opted_out_member_is_told_kindly_and_nothing_is_shown(driver: SlackDriver, db: Database) -> None:
    log(driver, ANA, "reply", 1)
    with db.session() as session:
        session.execute(update(Member).where(Member.team_id == TEAM_ID, Member.user_id == ANA).values(opted_out=True))

    response = driver.command("me")

    assert response.json()["response_type"] == "ephemeral"
    assert "You've opted out" in response.json()["text"]
    assert "blocks" not in response.json() or not response.json()["blocks"]


def test_a_period_it_does_not_know_is_explained(driver: SlackDriver) -> None:
    response = driver.command("me today")

    assert response.status == 200
    assert "I don't know the period “today”" in response.json()["text"]
