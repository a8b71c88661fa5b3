"""`/coach leaderboard [week|month|all] [public]` through signed requests to the real app."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from bot.store.database import Database
from bot.store.models import Member
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub

ANA, BEN, CARLA, DAN = "U0ANA00001", "U0BEN00001", "U0CARLA001", "U0DAN00001"


def log(driver: SlackDriver, user: str, kind: str, n: int, *, to: str = "person") -> None:
    """`n` logged actions, each toward someone different (by their profile URL)."""
    for i in range(n):
        response = driver.command(f"log {kind} https://x.com/{to}{i}/status/{i}", user=user)
        assert response.status == 200 and "Logged" in response.json()["text"], response.text


def board(response: Any) -> tuple[str, list[str], str]:
    """(title, rows, explanation) of a leaderboard answer, as a person reads it."""
    assert response.status == 200, response.text
    blocks = response.json()["blocks"]
    title = blocks[0]["text"]["text"]
    rows = blocks[1]["text"]["text"].split("\n")
    explanation = blocks[2]["elements"][0]["text"]
    return title, rows, explanation


def ranked(rows: list[str]) -> list[str]:
    return [row.split("<@", 1)[1].split(">", 1)[0] for row in rows if "<@" in row]


def test_the_social_member_wins_not_the_loudest(driver: SlackDriver) -> None:
    log(driver, ANA, "reply", 4)
    log(driver, ANA, "post", 1, to="ana")
    log(driver, DAN, "post", 12, to="dan")
    log(driver, CARLA, "comment", 2)

    response = driver.command("leaderboard", user=BEN)
    title, rows, explanation = board(response)

    assert response.json()["response_type"] == "ephemeral"
    assert title == "🏆 Most social this week"
    assert ranked(rows) == [ANA, CARLA, DAN]
    assert rows[0] == f"1. <@{ANA}> `██████████` *21.0* pts · 💬 4 · 📣 1 · ⚖️ 4.0:1"
    assert rows[2].endswith("*0.0* pts · 💬 0 · 📣 12 · ⚖️ 0.0:1")
    assert "Replies, comments and answers earn the most" in explanation


def test_public_posts_the_board_in_the_channel_with_only_members_who_earned_points(driver: SlackDriver) -> None:
    log(driver, ANA, "reply", 2)
    log(driver, DAN, "post", 5, to="dan")

    response = driver.command("leaderboard public", user=DAN)

    assert response.json()["response_type"] == "in_channel"
    _title, rows, _ = board(response)
    assert ranked(rows) == [ANA]


def test_the_public_board_praises_engagement_and_grades_nobody(driver: SlackDriver) -> None:
    log(driver, ANA, "reply", 4)
    log(driver, CARLA, "reply", 1)
    log(driver, CARLA, "post", 3, to="carla")  # below the target: 1 social action for 3 posts

    response = driver.command("leaderboard public", user=ANA)

    body = response.json()
    _title, rows, _ = board(response)
    assert rows == [f"1. <@{ANA}> `██████████` *20.0* pts · 💬 4", f"2. <@{CARLA}> `██░░░░░░░░` *5.0* pts · 💬 1"]
    everything = body["text"] + json.dumps(body["blocks"], ensure_ascii=False)
    assert "⚖️" not in everything and "📣" not in everything and "0.3:1" not in everything
    private = board(driver.command("leaderboard", user=ANA))[1]
    assert private[1].endswith("· 📣 3 · ⚖️ 0.3:1")  # the board only the caller sees keeps every number


def test_the_callers_row_is_added_when_they_are_outside_the_top_ten(driver: SlackDriver) -> None:
    for i in range(11):
        log(driver, f"U0M{i:07d}", "reply", 2)
    log(driver, BEN, "like", 1)

    _title, rows, _ = board(driver.command("leaderboard", user=BEN))

    assert rows[-2] == "…"
    assert rows[-1].startswith(f"12. <@{BEN}>") and rows[-1].endswith("← you")


def test_periods_are_calendar_weeks_and_months_and_all_is_everything(driver: SlackDriver, clock: Clock) -> None:
    clock.now = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)  # October
    log(driver, CARLA, "answer", 3)
    clock.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # last week, this month
    log(driver, BEN, "comment", 2)
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday of this week
    log(driver, ANA, "reply", 1)

    assert ranked(board(driver.command("leaderboard"))[1]) == [ANA]
    assert ranked(board(driver.command("leaderboard month"))[1]) == [BEN, ANA]
    title, rows, _ = board(driver.command("leaderboard all"))
    assert title == "🏆 Most social of all time"
    assert ranked(rows) == [CARLA, BEN, ANA]


def test_opted_out_members_never_appear(driver: SlackDriver, db: Database) -> None:
    log(driver, ANA, "reply", 3)
    log(driver, BEN, "reply", 1)
    with db.session() as session:
        session.execute(update(Member).where(Member.team_id == TEAM_ID, Member.user_id == ANA).values(opted_out=True))

    _title, rows, _ = board(driver.command("leaderboard", user=BEN))

    assert ranked(rows) == [BEN]


def test_replies_in_slack_threads_count_and_engagement_received_earns_a_little(
    driver: SlackDriver, clock: Clock, slack: SlackStub
) -> None:
    shared = f"{int(datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp())}.000100"
    reply = f"{int(datetime(2026, 11, 23, 9, 30, tzinfo=UTC).timestamp())}.000200"
    link = {"type": "message", "channel": "C0SOCIAL01", "channel_type": "channel", "user": BEN}
    driver.event(
        {**link, "text": "Our launch post <https://blog.example.com/launch>", "ts": shared, "event_ts": shared}
    )
    driver.event(
        {
            **link,
            "user": ANA,
            "text": "Loved the part about answering every question first",
            "ts": reply,
            "thread_ts": shared,
            "parent_user_id": BEN,
            "event_ts": reply,
        }
    )

    _title, rows, _ = board(driver.command("leaderboard"))

    assert rows[0].startswith(f"1. <@{ANA}> `██████████` *5.0* pts · 💬 1")
    assert rows[1].startswith(f"2. <@{BEN}>") and "*0.5* pts" in rows[1] and "📣 1" in rows[1]


def test_a_period_it_does_not_know_gets_a_kind_explanation_and_changes_nothing(driver: SlackDriver) -> None:
    response = driver.command("leaderboard yesterday")

    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "“yesterday”" in body["text"]
