"""`/coach me [week|month|all]` through signed requests to the real app."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from bot.store.database import Database
from bot.store.models import Member
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID
from tests.wiring.test_coach_leaderboard import ANA, BEN, DAN, log


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


def ts(hour: int, minute: int = 0) -> str:
    return f"{int(datetime(2026, 11, 23, hour, minute, tzinfo=UTC).timestamp())}.000100"


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


def test_me_compares_this_week_with_last_week(driver: SlackDriver, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    log(driver, ANA, "reply", 1, to="earlier")
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    log(driver, ANA, "reply", 3)

    assert "*This week:* 15.0 points, up from 5.0 last week" in card(driver.command("me"))


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


def test_the_next_step_names_a_teammates_link_waiting_for_a_reply(driver: SlackDriver) -> None:
    driver.event(
        {
            "type": "message",
            "channel": "C0SOCIAL01",
            "channel_type": "channel",
            "user": BEN,
            "text": "New post: <https://blog.example.com/launch|our launch>",
            "ts": ts(8),
            "event_ts": ts(8),
        }
    )

    text = card(driver.command("me"))

    assert f"<@{BEN}>'s <https://blog.example.com/launch|blog.example.com/launch> in <#C0SOCIAL01>" in text
    assert "has waited 2 hours for a reply" in text


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
