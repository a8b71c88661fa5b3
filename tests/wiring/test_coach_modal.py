"""`/coach log` on its own opens the log form; its submission is validated like the typed command."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.services.teams import ensure_team
from bot.slack.blocks.ledger import KIND_BLOCK, LOG_MODAL_CALLBACK_ID, NOTE_BLOCK, URL_BLOCK
from bot.store.database import Database
from bot.store.models import Activity, Member
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub

ANA = "U0ANA00001"


def activities(db: Database) -> list[Activity]:
    with db.session() as session:
        return list(session.scalars(select(Activity).order_by(Activity.id)))


def open_form(driver: SlackDriver, slack: SlackStub, channel: str = "C0SOCIAL01") -> dict[str, Any]:
    """Type `/coach log` and return the view the bot opened."""
    response = driver.command("log", channel=channel)
    assert response.status == 200 and response.text == ""  # the form is the answer
    [call] = slack.calls_to("views.open")
    return call.args["view"]


def submission(view: dict[str, Any], kind: str | None, url: str | None = None, note: str | None = None) -> dict:
    """A view_submission payload as Slack sends it (shape from bolt-python's own tests) for the opened view."""
    selected = None if kind is None else {"text": {"type": "plain_text", "text": kind.title()}, "value": kind}
    values = {
        KIND_BLOCK: {"kind": {"type": "static_select", "selected_option": selected}},
        URL_BLOCK: {"url": {"type": "plain_text_input", "value": url}},
        NOTE_BLOCK: {"note": {"type": "plain_text_input", "value": note}},
    }
    return {
        "type": "view_submission",
        "user": {"id": ANA, "username": "ana", "name": "ana", "team_id": TEAM_ID},
        "token": "verification-token-unused",
        "trigger_id": "2.4744562912.803a0bc887a14d10d2c447fce8b6703c",
        "view": {
            "id": "V0MODAL01",
            "team_id": TEAM_ID,
            "type": "modal",
            "blocks": view["blocks"],
            "private_metadata": view["private_metadata"],
            "callback_id": view["callback_id"],
            "state": {"values": values},
            "hash": "1763900000.3wRYuk3R",
            "title": view["title"],
            "close": view["close"],
            "submit": view["submit"],
            "previous_view_id": None,
            "root_view_id": "V0MODAL01",
            "app_id": "A0MORESOC1",
            "external_id": "",
            "app_installed_team_id": TEAM_ID,
            "bot_id": "B0BOT0001",
        },
        "response_urls": [],
    }


def test_coach_log_alone_opens_the_form_with_the_trigger_id(driver: SlackDriver, slack: SlackStub) -> None:
    view = open_form(driver, slack)
    [call] = slack.calls_to("views.open")
    assert call.args["trigger_id"].startswith("1.")  # the trigger_id of that very command
    assert view["callback_id"] == LOG_MODAL_CALLBACK_ID
    assert json.loads(view["private_metadata"]) == {"channel_id": "C0SOCIAL01"}
    kind_block, url_block, note_block = view["blocks"]
    assert [o["value"] for o in kind_block["element"]["options"]] == [
        "post",
        "reply",
        "comment",
        "answer",
        "share",
        "like",
        "follow",
    ]
    assert url_block["optional"] and note_block["optional"] and not kind_block.get("optional")
    # Slack stops the member typing past these in the form itself; the submission is still checked.
    assert (url_block["element"]["max_length"], note_block["element"]["max_length"]) == (2048, 500)


def test_a_valid_submission_closes_the_form_stores_once_and_confirms_where_coach_was_typed(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    view = open_form(driver, slack, channel="C0LAUNCH01")
    response = driver.interaction(submission(view, "comment", "https://www.linkedin.com/in/ana/", "Nice <b>launch</b>"))

    assert response.status == 200 and response.text == ""  # closes the form
    [row] = activities(db)
    assert (row.kind, row.source, row.platform, row.note) == ("comment", "log", "linkedin", "Nice <b>launch</b>")
    [call] = slack.calls_to("chat.postEphemeral")
    assert (call.args["channel"], call.args["user"]) == ("C0LAUNCH01", ANA)
    assert call.args["text"].startswith(
        "Logged your *comment* on LinkedIn (linkedin.com/in/ana): “Nice &lt;b&gt;launch"
    )
    assert "*1 given*" in call.args["text"]


def test_submitting_the_same_kind_and_link_again_says_it_is_already_logged(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    view = open_form(driver, slack)
    driver.interaction(submission(view, "reply", "https://x.com/ana/status/1"))
    driver.interaction(submission(view, "reply", "https://x.com/ana/status/1#top"))
    assert len(activities(db)) == 1
    assert "already logged" in slack.calls_to("chat.postEphemeral")[-1].args["text"]


def test_invalid_fields_come_back_inline_on_each_field_and_nothing_is_stored(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    view = open_form(driver, slack)
    response = driver.interaction(submission(view, "reply", "ftp://x.com/a", "n" * 501))

    assert response.status == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {URL_BLOCK, NOTE_BLOCK}
    assert body["errors"][URL_BLOCK] == "Links need to start with http:// or https://."
    assert "501 characters" in body["errors"][NOTE_BLOCK]
    assert activities(db) == []
    assert slack.calls_to("chat.postEphemeral") == []


def test_a_missing_kind_and_a_malformed_link_are_named_on_their_fields(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    view = open_form(driver, slack)
    body = driver.interaction(submission(view, None, "https://")).json()
    assert body["response_action"] == "errors"
    assert body["errors"][KIND_BLOCK].startswith("Pick what you did")
    assert "web address" in body["errors"][URL_BLOCK]
    assert activities(db) == []


def test_a_submission_missing_its_state_is_an_inline_error_not_a_failure(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    payload = submission(open_form(driver, slack), "reply")
    del payload["view"]["state"]
    response = driver.interaction(payload)
    assert response.status == 200
    assert set(response.json()["errors"]) == {KIND_BLOCK}
    assert activities(db) == []


def test_when_the_bot_cannot_post_in_that_channel_the_confirmation_comes_as_a_dm(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    slack.respond("chat.postEphemeral", lambda _args: {"ok": False, "error": "channel_not_found"})
    view = open_form(driver, slack, channel="D0ANABEN01")
    response = driver.interaction(submission(view, "like"))
    assert response.status == 200
    assert len(activities(db)) == 1
    [dm] = slack.messages()
    assert dm["channel"] == ANA and dm["text"].startswith("Logged your *like*.")


def test_an_opted_out_member_gets_no_form_but_how_to_opt_back_in(
    driver: SlackDriver, slack: SlackStub, db: Database, clock: Clock
) -> None:
    with db.session() as session:
        ensure_team(session, TEAM_ID, clock())
        session.add(Member(team_id=TEAM_ID, user_id=ANA, opted_out=True))
    response = driver.command("log")
    assert response.status == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "`/coach optin`" in response.json()["text"]
    assert slack.calls_to("views.open") == []
