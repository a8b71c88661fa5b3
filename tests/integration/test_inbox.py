"""The inbox and its ledger writer, against the real database (SQLite or PostgreSQL).

Stored on ack and nothing more; applied in batches, oldest first; a copy counts once; a batch that fails is
applied one delivery at a time and a delivery that keeps failing is parked for a person; what a crash left
stored is applied when the next writer starts; follow-ups (history imports) run after the commit.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

import bot.services.ingest as ingest
from bot.coach.kinds import Kind
from bot.coach.periods import PeriodName
from bot.services import inbox
from bot.services.inbox import LedgerWriter, accept, drain_pending
from bot.services.ingest import EventEnvelope
from bot.services.report import team_report
from bot.services.teams import ensure_team
from bot.slack.after_ledger import after_ledger
from bot.slack.client import make_web_client
from bot.slack.events.channels import BACKFILLS
from bot.store.ledger_queries import ensure_member
from bot.store.models import InboundEvent, Member, Team
from bot.store.rollups import ROLLUP_TABLES, rebuild_rollups
from tests.slack_events import ANA, BEN, BOT, CARLA, SOCIAL, joined, message, reaction, tally
from tests.slack_stub import TEAM_ID

POST = "https://x.com/ana/status/1861"
T0 = "1795424400.000100"


def envelope(event: dict, event_id: str = "Ev0000001") -> EventEnvelope:
    return EventEnvelope(TEAM_ID, event_id, event, BOT)


def stored_events(db) -> dict[str, InboundEvent]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return {row.event_id: row for row in session.scalars(select(InboundEvent))}


def assert_rollups_match_ledger(db, team_id: str) -> None:  # type: ignore[no-untyped-def]
    """The rollups the writer kept, batch by batch, are what recomputing them from the ledger gives."""

    def snapshot() -> dict:
        with db.session() as session:
            return {
                table.name: sorted(
                    tuple(row) for row in session.execute(select(table).where(table.c.team_id == team_id))
                )
                for table in ROLLUP_TABLES
            }

    kept = snapshot()
    with db.session() as session:
        rebuild_rollups(session, team_id)
    assert snapshot() == kept


def _crash(*_args):  # type: ignore[no-untyped-def]
    raise RuntimeError("this delivery trips the writer")


def test_the_request_path_only_stores_the_delivery(deps, db) -> None:  # type: ignore[no-untyped-def]
    assert accept(deps, envelope(message(ANA, f"<{POST}>", T0)))

    stored = stored_events(db)["Ev0000001"]
    assert stored.processed_at is None and stored.attempts == 0 and stored.event_ts == T0
    assert stored.payload["event"]["text"] == f"<{POST}>"
    assert tally(db) == {}  # nothing counted before the writer ran

    report = drain_pending(deps)

    assert (report.claimed, report.applied, report.failed) == (1, 1, 0)
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    assert stored_events(db)["Ev0000001"].processed_at is not None


def test_an_applied_delivery_keeps_only_what_dedupe_needs(deps, db) -> None:  # type: ignore[no-untyped-def]
    """Once applied, a delivery's text is of no use: the row keeps its (team, event_id) and times, nothing else."""
    link = message(ANA, f"Members' words <{POST}>", T0)
    accept(deps, envelope(link))
    drain_pending(deps)

    applied = stored_events(db)["Ev0000001"]
    assert applied.payload == {} and applied.last_error is None and applied.processed_at is not None
    accept(deps, envelope(link))  # a late copy from Slack is still recognised by its key
    assert drain_pending(deps).claimed == 0
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}


def test_events_that_change_nothing_are_not_even_stored(deps, db) -> None:  # type: ignore[no-untyped-def]
    for n, event in enumerate([message(ANA, "hello team", T0), joined(BEN)]):
        assert not accept(deps, envelope(event, f"EvQUIET{n}"))

    assert stored_events(db) == {}


def test_a_copy_is_stored_once_and_counts_once(deps, db) -> None:  # type: ignore[no-untyped-def]
    link = message(ANA, f"<{POST}>", T0)
    accept(deps, envelope(link))
    drain_pending(deps)
    accept(deps, envelope(link))  # Slack's retry, after the first was applied
    accept(deps, envelope(link, "EvOTHERID1"))  # the same message under another id: the ledger dedupes it

    assert drain_pending(deps).claimed == 1
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    assert len(stored_events(db)) == 2


def test_a_batch_is_applied_oldest_first_with_its_rollups_summed_once(deps, db) -> None:  # type: ignore[no-untyped-def]
    """Stored newest first, applied oldest first: the reply finds its parent in the same batch."""
    link = message(ANA, f"<{POST}>", T0)
    events = [
        message(CARLA, "Thoughtful piece, thanks for sharing", "1795424999.000100", thread_ts=T0),
        reaction(BEN, link),
        link,
        message(BEN, f"Mine <{POST}/2>", "1795424500.000100"),
    ]
    for n, event in enumerate(events):
        accept(deps, envelope(event, f"EvBATCH{n}"))

    assert drain_pending(deps).claimed == 4
    assert tally(db) == {
        (Kind.LINK, ANA, ""): 1,
        (Kind.LINK, BEN, ""): 1,
        (Kind.COMMENT, CARLA, ANA): 1,
        (Kind.LIKE, BEN, ANA): 1,
    }
    assert_rollups_match_ledger(db, TEAM_ID)


def test_concurrent_copies_and_writers_count_each_thing_once(deps, db) -> None:  # type: ignore[no-untyped-def]
    """Three listeners storing the same deliveries at once, two writers draining beside them."""
    events = [envelope(message(ANA, f"<{POST}/{n}>", f"17954244{n:02d}.000100"), f"EvBURST{n:03d}") for n in range(8)]
    comment = message(BEN, "Thoughtful piece, thanks for sharing", "1795424999.000100", thread_ts="1795424400.000100")
    events.append(envelope(comment, "EvBURSTREPLY"))
    start = threading.Barrier(5)
    errors: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            for item in events:
                accept(deps, item)
        except BaseException as error:  # surfaced below, not swallowed
            errors.append(error)

    def write() -> None:
        start.wait()
        try:
            for _ in range(20):
                drain_pending(deps, limit=3)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(3)] + [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    drain_pending(deps)

    assert errors == []
    assert tally(db) == {(Kind.LINK, ANA, ""): 8, (Kind.COMMENT, BEN, ANA): 1}
    assert all(row.processed_at is not None for row in stored_events(db).values())
    assert_rollups_match_ledger(db, TEAM_ID)


def test_a_failing_delivery_is_parked_and_the_rest_of_its_batch_applied(deps, db, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    link = message(ANA, f"<{POST}>", T0)
    accept(deps, envelope(link, "EvGOOD0001"))
    accept(deps, envelope(reaction(BEN, link), "EvPOISON01"))
    accept(deps, envelope(message(BEN, f"Mine <{POST}/2>", "1795425100.000100"), "EvGOOD0002"))
    monkeypatch.setitem(ingest.LiveBatch._APPLY, "reaction_added", _crash)

    first = drain_pending(deps)

    assert (first.applied, first.failed, first.parked) == (2, 1, 0)
    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.LINK, BEN, ""): 1}
    assert drain_pending(deps).claimed == 0  # not again right away: a passing trouble gets time to pass
    for _ in range(inbox.MAX_ATTEMPTS):
        clock.advance(seconds=30)
        drain_pending(deps)
    poisoned = stored_events(db)["EvPOISON01"]
    assert poisoned.attempts == inbox.MAX_ATTEMPTS and poisoned.processed_at is None
    assert "this delivery trips the writer" in (poisoned.last_error or "")
    assert inbox.status(deps).parked == 1
    assert [stored.event_id for stored in inbox.parked_deliveries(deps)] == ["EvPOISON01"]
    assert drain_pending(deps).claimed == 0  # parked: left for a person

    monkeypatch.undo()  # the person fixed what it tripped on
    assert inbox.retry_parked(deps) == 1
    assert drain_pending(deps).applied == 1
    assert tally(db)[(Kind.LIKE, BEN, ANA)] == 1
    assert inbox.status(deps).parked == 0


def test_what_a_crash_left_stored_is_applied_when_the_next_writer_starts(deps, db, slack) -> None:  # type: ignore[no-untyped-def]
    """Acknowledged, then the process died before its writer got to it: a new process's writer applies it,
    and a bot join gets the history import it missed (after the commit, on the follow-up thread)."""
    post = "https://x.com/ana/status/1862"
    slack.respond(
        "conversations.history",
        lambda _args: {"ok": True, "messages": [message(ANA, f"<{post}>", "1795424300.000100")], "has_more": False},
    )
    accept(deps, envelope(message(ANA, f"<{POST}>", T0), "EvMSG00001"))
    accept(deps, envelope(joined(BOT), "EvJOIN0001"))

    client = make_web_client(deps.settings)
    writer = LedgerWriter(deps, after_ledger(deps, client)).start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(slack.calls_to("conversations.history")) == 0:
            time.sleep(0.05)
    finally:
        writer.stop()
    BACKFILLS.join(timeout=20)

    assert [call.args["channel"] for call in slack.calls_to("conversations.history")] == [SOCIAL]
    assert tally(db) == {(Kind.LINK, ANA, ""): 2}
    with db.session() as session:
        assert session.get(Team, TEAM_ID).first_channel_id == SOCIAL


def test_the_writer_wakes_for_what_this_process_stores(deps, db) -> None:  # type: ignore[no-untyped-def]
    writer = LedgerWriter(deps).start()
    try:
        accept(deps, envelope(message(ANA, f"<{POST}>", T0)))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not tally(db):
            time.sleep(0.02)
    finally:
        writer.stop()

    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    assert team_report(deps, TEAM_ID, PeriodName.ALL)["members"][0]["user_id"] == ANA


def test_members_who_opted_out_are_not_tracked(deps, db, clock) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        ensure_team(session, TEAM_ID, clock.now)
        ensure_member(session, TEAM_ID, BEN).opted_out = True
    link = message(ANA, f"<{POST}>", T0)
    accept(deps, envelope(link, "Ev1"))
    accept(deps, envelope(message(BEN, "Such a good read, thank you", "1795425000.000100", thread_ts=T0), "Ev2"))
    accept(deps, envelope(reaction(BEN, link), "Ev3"))
    accept(deps, envelope(message(BEN, f"Mine <{POST}/2>", "1795425100.000100"), "Ev4"))
    drain_pending(deps)

    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    with db.session() as session:
        assert session.get(Member, (TEAM_ID, BEN)).opted_out


def test_an_unreadable_stored_payload_is_marked_done(deps, db, clock) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        session.add(
            InboundEvent(
                team_id=TEAM_ID,
                event_id="EvODD00001",
                event_type="message",
                payload={"event": {"type": "message", "subtype": "channel_topic"}},
                received_at=clock.now - timedelta(hours=1),
                attempts=1,
                event_ts="",
            )
        )

    assert drain_pending(deps).applied == 1
    assert stored_events(db)["EvODD00001"].processed_at is not None


def test_pruning_forgets_applied_deliveries_and_old_message_versions_but_not_parked_ones(  # type: ignore[no-untyped-def]
    deps, db, clock, monkeypatch
) -> None:
    link = message(ANA, f"<{POST}>", T0)
    accept(deps, envelope(link, "EvDONE0001"))
    accept(deps, envelope(reaction(BEN, link), "EvPOISON01"))
    monkeypatch.setitem(ingest.LiveBatch._APPLY, "reaction_added", _crash)
    for _ in range(inbox.MAX_ATTEMPTS):
        clock.advance(seconds=30)
        drain_pending(deps)
    monkeypatch.undo()

    clock.advance(hours=2)
    assert inbox.prune(deps).deliveries == 0  # within Slack's retry window: a late copy is still recognised
    clock.advance(days=4)
    report = inbox.prune(deps)

    assert (report.deliveries, report.message_states) == (1, 1)
    assert list(stored_events(db)) == ["EvPOISON01"]  # parked: kept for a person
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}  # the ledger itself is never pruned


@pytest.mark.parametrize("copies", [1, 3])
def test_a_slack_retry_while_the_first_copy_waits_counts_once(deps, db, copies: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(copies):
        accept(deps, envelope(message(ANA, f"<{POST}>", T0)))

    assert drain_pending(deps).claimed == 1
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
