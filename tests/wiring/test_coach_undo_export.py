"""`/coach undo` takes back the last log; `/coach export` sends the member's own data as a CSV file in a DM."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from bot.services.teams import ensure_team
from bot.store.database import Database
from bot.store.ledger import activity_row, insert_activities
from bot.store.models import Activity
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub

ANA, BEN = "U0ANA00001", "U0BEN00001"
COLUMNS = ["occurred_at", "kind", "source", "platform", "url", "note", "channel_id", "counterpart"]


def kinds(db: Database, user_id: str = ANA) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(Activity.kind).where(Activity.user_id == user_id).order_by(Activity.id)))


def link_shared_in_private_channel(db: Database, clock: Clock) -> None:
    """Ana shared a link in a private channel an hour ago: observed, not logged."""
    at = clock() - timedelta(hours=1)
    with db.session() as session:
        ensure_team(session, TEAM_ID, clock())
        insert_activities(
            session,
            [
                activity_row(
                    team_id=TEAM_ID,
                    user_id=ANA,
                    kind="link",
                    source="slack",
                    occurred_at=at,
                    timezone="UTC",
                    source_key="link:G0PRIVATE1:1763896400.000100:0",
                    platform="blog",
                    created_at=at,
                    url="https://ana.example.org/launch",
                    url_key="https://ana.example.org/launch",
                    channel_id="G0PRIVATE1",
                    message_ts="1763896400.000100",
                    is_private=True,
                )
            ],
        )


def test_undo_removes_the_most_recent_log_and_shows_what_went(driver: SlackDriver, db: Database) -> None:
    driver.command("log post https://x.com/ana/status/9")
    driver.command("log reply https://x.com/ben/status/1 thanks Ben")

    answer = driver.command("undo").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Took back your *reply* on X (x.com/ben): “thanks Ben”.")
    assert "This week: *0 given*, 1 post" in answer["text"]
    assert kinds(db) == ["post"]

    assert driver.command("undo").json()["text"].startswith("Took back your *post* on X (x.com/ana).")
    assert kinds(db) == []


def test_undo_with_nothing_logged_says_so_and_leaves_observed_activity_alone(
    driver: SlackDriver, db: Database, clock: Clock
) -> None:
    link_shared_in_private_channel(db, clock)
    driver.command("log like", user=BEN)

    answer = driver.command("undo").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("There's nothing to undo")
    assert kinds(db) == ["link"]
    assert kinds(db, BEN) == ["like"]


def test_undo_takes_back_only_your_own_log(driver: SlackDriver, db: Database) -> None:
    driver.command("log answer")
    driver.command("log comment https://blog.example.com/a", user=BEN)
    driver.command("undo")
    assert kinds(db) == []
    assert kinds(db, BEN) == ["comment"]


def test_export_sends_every_action_of_the_member_as_csv_in_a_dm(
    driver: SlackDriver, slack: SlackStub, db: Database, clock: Clock
) -> None:
    link_shared_in_private_channel(db, clock)
    driver.command("log reply <https://x.com/ben/status/1|x.com/ben/status/1> said “well done”, &amp; more")
    driver.command("log like https://x.com/carla/status/2", user=BEN)

    answer = driver.command("export").json()

    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "I sent you a DM with your data: 2 actions as a CSV file."
    [opened] = slack.calls_to("conversations.open")
    assert opened.args["users"] == ANA
    [asked] = slack.calls_to("files.getUploadURLExternal")
    assert asked.args["filename"] == "more-social-export.csv"
    [completed] = slack.calls_to("files.completeUploadExternal")
    assert completed.args["channel_id"] == "D0ANA00001"
    assert "2 actions" in completed.args["initial_comment"]

    uploaded = slack.uploads[completed.args["files"][0]["id"]]
    assert int(asked.args["length"]) == len(uploaded)
    table = list(csv.reader(io.StringIO(uploaded.decode("utf-8"))))
    assert table[0] == COLUMNS
    assert table[1:] == [
        [
            "2026-11-23T09:00:00+00:00",
            "link",
            "slack",
            "blog",
            "https://ana.example.org/launch",
            "",
            "G0PRIVATE1",
            "",
        ],
        [
            "2026-11-23T10:00:00+00:00",
            "reply",
            "log",
            "x",
            "https://x.com/ben/status/1",
            "said “well done”, & more",
            "",
            "x.com/ben",
        ],
    ]


def test_export_with_no_data_says_so_and_sends_no_file(driver: SlackDriver, slack: SlackStub) -> None:
    driver.command("log like", user=BEN)
    answer = driver.command("export").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("I don't have any actions for you yet")
    assert slack.calls_to("conversations.open") == []
    assert slack.uploads == {}
