"""A link shared inside a thread is output, but never a link "waiting for a reply": nobody can thread under it."""

from __future__ import annotations

from datetime import timedelta

from bot.coach.messages import ts_to_datetime
from bot.services.inbox import accept, drain_pending
from bot.services.ingest import EventEnvelope
from bot.store.waiting import waiting_links
from tests.slack_events import ANA, BEN, BOT, message
from tests.slack_stub import TEAM_ID

PARENT_TS = "1795424400.000100"
REPLY_TS = "1795424460.000100"


def test_only_the_top_level_link_can_wait(deps, db, clock) -> None:  # type: ignore[no-untyped-def]
    parent = message(ANA, "Our new post <https://x.com/ana/status/1>", PARENT_TS)
    reply = message(BEN, "+1 and see also <https://ben.blog/related>", REPLY_TS, thread_ts=PARENT_TS)
    accept(deps, EventEnvelope(TEAM_ID, "EvPARENT01", parent, BOT))
    accept(deps, EventEnvelope(TEAM_ID, "EvREPLY001", reply, BOT))
    drain_pending(deps)

    later = ts_to_datetime(PARENT_TS) + timedelta(hours=30)  # past the 24 h threshold, no substantive reply
    with db.session() as session:
        waiting = waiting_links(session, TEAM_ID, later, 24, public_only=True, limit=5)

    assert [link.url for link in waiting] == ["https://x.com/ana/status/1"]
