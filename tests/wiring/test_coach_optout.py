"""`/coach optout` asks first, the button deletes the member's data and excludes them; `/coach optin` undoes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.services.teams import ensure_team
from bot.slack.blocks.ledger import OPT_OUT_BLOCK, OPT_OUT_CANCEL_ACTION, OPT_OUT_CONFIRM_ACTION
from bot.store.database import Database
from bot.store.ledger import activity_row, insert_activities
from bot.store.models import Activity, Member
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub
from tests.waiting_time import waiting_since
from tests.wiring.test_app_home import open_home, published, share, texts
from tests.wiring.test_coach_leaderboard import board, log, ranked

ANA, BEN = "U0ANA00001", "U0BEN00001"


def seen_in_slack(user_id: str, kind: str, counterpart: str, key: str, at: datetime) -> dict[str, Any]:
    """A ledger row the bot observed in a channel (a shared link, or a reply to one)."""
    return activity_row(
        team_id=TEAM_ID,
        user_id=user_id,
        kind=kind,
        source="slack",
        occurred_at=at,
        timezone="UTC",
        source_key=key,
        platform="blog" if kind == "link" else "slack",
        created_at=at,
        counterpart=counterpart,
        url="https://ana.example.org/launch" if kind == "link" else None,
        channel_id="C0SOCIAL01",
        message_ts="1763900000.000100",
    )


def seed(db: Database, clock: Clock) -> None:
    """Ana shared a link in Slack, Ben replied to it, and Ben shared one of his own."""
    with db.session() as session:
        ensure_team(session, TEAM_ID, clock())
        insert_activities(
            session,
            [
                seen_in_slack(ANA, "link", "", "link:C0SOCIAL01:1763900000.000100:0", clock()),
                seen_in_slack(BEN, "reply", ANA, "reply:C0SOCIAL01:1763900001.000100", clock()),
                seen_in_slack(BEN, "link", "", "link:C0SOCIAL01:1763900002.000100:0", clock()),
            ],
        )


def rows(db: Database) -> list[tuple[str, str, str]]:
    with db.session() as session:
        return sorted((a.user_id, a.kind, a.source) for a in session.scalars(select(Activity)))


def member(db: Database, user_id: str = ANA) -> Member:
    with db.session() as session:
        return session.scalars(select(Member).where(Member.user_id == user_id)).one()


def click(driver: SlackDriver, action_id: str, user: str = ANA) -> Any:
    """A block_actions payload (shape from bolt-python's tests) for a button on the member's ephemeral prompt."""
    return driver.interaction(
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
            "token": "verification-token-unused",
            "container": {
                "type": "message",
                "message_ts": "1763900100.000200",
                "channel_id": "C0SOCIAL01",
                "is_ephemeral": True,
            },
            "trigger_id": "9.4744562912.803a0bc887a14d10d2c447fce8b6703c",
            "channel": {"id": "C0SOCIAL01", "name": "social"},
            "response_url": f"{driver.stub.base}/response/actions-9",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": OPT_OUT_BLOCK,
                    "text": {"type": "plain_text", "text": "Yes", "emoji": True},
                    "value": "optout",
                    "type": "button",
                    "action_ts": "1763900101.194939",
                }
            ],
        }
    )


def test_optout_only_asks_first_with_a_danger_button_and_a_cancel(
    driver: SlackDriver, db: Database, clock: Clock
) -> None:
    seed(db, clock)
    driver.command("log reply https://x.com/carla/status/1")
    response = driver.command("optout")

    body = response.json()
    assert response.status == 200 and body["response_type"] == "ephemeral"
    assert "I'll delete the 2 actions I have for you" in body["text"]
    buttons = body["blocks"][-1]["elements"]
    assert [(b["text"]["text"], b.get("style")) for b in buttons] == [
        ("Yes, delete my data", "danger"),
        ("Cancel", None),
    ]
    assert len(rows(db)) == 4  # nothing deleted yet
    assert member(db).opted_out is False


def test_confirming_deletes_everything_the_member_did_and_teammates_engagement_with_it(
    driver: SlackDriver, slack: SlackStub, db: Database, clock: Clock
) -> None:
    seed(db, clock)
    driver.command("log reply https://x.com/carla/status/1")
    driver.command("optout")
    response = click(driver, OPT_OUT_CONFIRM_ACTION)

    assert response.status == 200
    # Ana's logged reply and her shared link are gone, and Ben's reply to her link with it (a reply counts only
    # while its link does); Ben's own link stays.
    assert rows(db) == [(BEN, "link", "slack")]
    assert member(db).opted_out is True
    [answer] = driver.responses_posted()
    assert answer["replace_original"] is True
    assert answer["text"].startswith("Done. I deleted 2 actions of yours")
    assert "`/coach optin`" in answer["text"]
    assert slack.messages() == []  # nothing said in public


def test_cancel_keeps_everything(driver: SlackDriver, db: Database, clock: Clock) -> None:
    seed(db, clock)
    driver.command("optout")
    click(driver, OPT_OUT_CANCEL_ACTION)
    assert len(rows(db)) == 3
    assert member(db).opted_out is False
    [answer] = driver.responses_posted()
    assert answer["replace_original"] is True and "nothing was deleted" in answer["text"]


def test_opted_out_members_log_nothing_until_they_opt_back_in(driver: SlackDriver, db: Database) -> None:
    driver.command("optout")
    click(driver, OPT_OUT_CONFIRM_ACTION)

    refused = driver.command("log reply https://x.com/ana/status/1").json()
    assert "opted out" in refused["text"] and refused["response_type"] == "ephemeral"
    assert rows(db) == []

    again = driver.command("optout").json()
    assert again["text"].startswith("You're already opted out") and len(again["blocks"]) == 1

    welcome = driver.command("optin").json()
    assert welcome["response_type"] == "ephemeral" and welcome["text"].startswith("Welcome back!")
    assert member(db).opted_out is False
    driver.command("log reply https://x.com/ana/status/1")
    assert rows(db) == [(ANA, "reply", "log")]


def test_optin_when_already_in_changes_nothing_and_says_so(driver: SlackDriver, db: Database) -> None:
    answer = driver.command("optin").json()
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("You're already in")
    assert member(db).opted_out is False


def test_only_the_member_who_clicks_is_opted_out(driver: SlackDriver, db: Database, clock: Clock) -> None:
    seed(db, clock)
    click(driver, OPT_OUT_CONFIRM_ACTION, user=BEN)
    assert rows(db) == [(ANA, "link", "slack")]
    assert member(db, BEN).opted_out is True


def test_after_the_confirm_button_the_member_is_on_no_board_and_on_no_teammates_home_tab(
    driver: SlackDriver, slack: SlackStub, clock: Clock
) -> None:
    log(driver, ANA, "reply", 5)
    log(driver, BEN, "reply", 2)
    share(driver, ANA, "https://ana.example.org/launch", waiting_since(clock.now))
    assert ranked(board(driver.command("leaderboard", user=BEN))[1]) == [ANA, BEN]
    open_home(driver, BEN)
    assert f"1. <@{ANA}>" in texts(published(slack)[-1]["view"])
    assert "ana.example.org" in texts(published(slack)[-1]["view"])

    prompt = driver.command("optout").json()
    [confirm] = [b for b in prompt["blocks"][-1]["elements"] if b["action_id"] == OPT_OUT_CONFIRM_ACTION]
    assert click(driver, confirm["action_id"]).status == 200

    assert ranked(board(driver.command("leaderboard", user=BEN))[1]) == [BEN]
    assert ranked(board(driver.command("leaderboard public", user=BEN))[1]) == [BEN]
    open_home(driver, BEN)
    bens_home = texts(published(slack)[-1]["view"])
    assert ANA not in bens_home and "ana.example.org" not in bens_home
    assert f"1. <@{BEN}>" in bens_home
    open_home(driver, ANA)
    anas_home = texts(published(slack)[-1]["view"])
    assert "`/coach optin` turns tracking back on" in anas_home and "Given" not in anas_home
