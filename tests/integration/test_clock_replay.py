"""The clock's housekeeping: stored events a crash left unprocessed are applied, bot joins get their history."""

from __future__ import annotations

import pytest

import bot.services.ingest as ingest
from bot.coach.kinds import Kind
from bot.services.clock import replay_stored_events
from bot.services.ingest import EventEnvelope, receive_event
from bot.slack.client import make_web_client
from tests.slack_events import ANA, BOT, SOCIAL, joined, message, tally
from tests.slack_stub import TEAM_ID


def _crash(*_args):  # type: ignore[no-untyped-def]
    raise RuntimeError("the process died half-way")


def test_a_crashed_bot_join_is_replayed_and_its_history_imported(deps, db, clock, slack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    post = "https://x.com/ana/status/1861"
    slack.respond(
        "conversations.history",
        lambda _args: {"ok": True, "messages": [message(ANA, f"<{post}>", "1795424400.000100")], "has_more": False},
    )
    monkeypatch.setitem(ingest._APPLY, "bot_joined", _crash)
    with pytest.raises(RuntimeError):
        receive_event(deps, EventEnvelope(TEAM_ID, "EvJOIN0001", joined(BOT), BOT))
    monkeypatch.undo()
    assert slack.calls_to("conversations.history") == []

    clock.advance(minutes=5)
    report = replay_stored_events(deps, make_web_client(deps.settings))

    assert report.replayed == 1 and report.bot_joined == ((TEAM_ID, SOCIAL),)
    assert [call.args["channel"] for call in slack.calls_to("conversations.history")] == [SOCIAL]
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}


def test_a_crashed_message_is_counted_by_the_next_housekeeping_run(deps, db, clock, slack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(ingest._APPLY, "message", _crash)
    with pytest.raises(RuntimeError):
        receive_event(
            deps, EventEnvelope(TEAM_ID, "EvMSG00001", message(ANA, "<https://x.com/a/1>", "1795424400.000100"), BOT)
        )
    monkeypatch.undo()

    clock.advance(minutes=5)
    replay_stored_events(deps, make_web_client(deps.settings))
    replay_stored_events(deps, make_web_client(deps.settings))

    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
