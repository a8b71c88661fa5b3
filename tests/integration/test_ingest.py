"""Store before ack, dedupe and replay of live events, against the real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

import bot.services.ingest as ingest
from bot.coach.kinds import Kind
from bot.services.ingest import EventEnvelope, ReplayReport, receive_event, replay_unprocessed
from bot.services.teams import ensure_team
from bot.store.ledger_queries import ensure_member
from bot.store.models import InboundEvent, Member, Team
from tests.slack_events import ANA, BEN, BOT, SOCIAL, joined, message, reaction, tally
from tests.slack_stub import TEAM_ID

POST = "https://x.com/ana/status/1861"
T0 = "1795424400.000100"


def envelope(event: dict, event_id: str = "Ev0000001") -> EventEnvelope:
    return EventEnvelope(TEAM_ID, event_id, event, BOT)


def stored_events(db) -> dict[str, InboundEvent]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return {row.event_id: row for row in session.scalars(select(InboundEvent))}


def test_an_event_is_stored_and_marked_processed(deps, db, clock) -> None:  # type: ignore[no-untyped-def]
    outcome = receive_event(deps, envelope(message(ANA, f"<{POST}>", T0)))

    assert (outcome.links_added, outcome.user_id, outcome.channel_id) == (1, ANA, SOCIAL)
    stored = stored_events(db)["Ev0000001"]
    assert stored.processed_at == clock.now and stored.attempts == 1
    assert stored.payload["event"]["text"] == f"<{POST}>"


def test_a_copy_after_processing_is_skipped_without_touching_the_ledger(deps, db) -> None:  # type: ignore[no-untyped-def]
    event = envelope(message(ANA, f"<{POST}>", T0))
    receive_event(deps, event)

    again = receive_event(deps, event)

    assert again.duplicate and again.links_added == 0
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    assert stored_events(db)["Ev0000001"].attempts == 2


def test_a_copy_arriving_during_processing_is_harmless(deps, db) -> None:  # type: ignore[no-untyped-def]
    """Many copies at once (the first still processing when the next arrives): each thing counts once."""
    events = [envelope(message(ANA, f"<{POST}/{n}>", f"17954244{n:02d}.000100"), f"EvBURST{n:03d}") for n in range(8)]
    comment = message(BEN, "Thoughtful piece, thanks for sharing", "1795424999.000100", thread_ts=T0)
    events.append(envelope(comment, "EvBURSTREPLY"))
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            for item in events:
                receive_event(deps, item)
        except BaseException as error:  # surfaced below, not swallowed
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert tally(db) == {(Kind.LINK, ANA, ""): 8, (Kind.COMMENT, BEN, ANA): 1}
    assert all(row.processed_at is not None for row in stored_events(db).values())


def test_an_event_stored_but_never_processed_is_replayed(deps, db, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def crash(*_args):  # type: ignore[no-untyped-def]
        raise RuntimeError("the process died half-way")

    monkeypatch.setitem(ingest._APPLY, "message", crash)
    with pytest.raises(RuntimeError):
        receive_event(deps, envelope(message(ANA, f"<{POST}>", T0)))
    monkeypatch.undo()
    assert tally(db) == {}
    assert stored_events(db)["Ev0000001"].processed_at is None  # stored before it was acknowledged

    assert replay_unprocessed(deps) == ReplayReport(replayed=0, failed=0, pruned=0)  # too fresh: maybe in flight
    clock.advance(minutes=5)
    report = replay_unprocessed(deps)

    assert report == ReplayReport(replayed=1, failed=0, pruned=0)
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    assert stored_events(db)["Ev0000001"].processed_at == clock.now


def test_replay_gives_up_on_a_poisoned_event_and_prunes_old_ones(deps, db, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    receive_event(deps, envelope(message(ANA, f"<{POST}>", T0), "EvDONE0001"))

    def crash(*_args):  # type: ignore[no-untyped-def]
        raise RuntimeError("always fails")

    monkeypatch.setitem(ingest._APPLY, "reaction_added", crash)
    with pytest.raises(RuntimeError):
        receive_event(deps, envelope(reaction(BEN, message(ANA, f"<{POST}>", T0)), "EvPOISON01"))
    for _ in range(ingest.MAX_ATTEMPTS + 2):
        clock.advance(minutes=5)
        replay_unprocessed(deps)
    assert stored_events(db)["EvPOISON01"].attempts == ingest.MAX_ATTEMPTS

    clock.advance(days=2)
    assert replay_unprocessed(deps).pruned == 1  # the processed one, kept past Slack's retry window
    clock.advance(days=7)
    assert replay_unprocessed(deps).pruned == 1  # the abandoned one, after a longer grace
    assert stored_events(db) == {}


def test_a_replayed_bot_join_reports_the_channel_to_import(deps, db, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(ingest._APPLY, "bot_joined", lambda *_args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        receive_event(deps, envelope(joined(BOT)))
    monkeypatch.undo()
    clock.advance(minutes=5)

    assert replay_unprocessed(deps).bot_joined == ((TEAM_ID, SOCIAL),)
    with db.session() as session:
        assert session.get(Team, TEAM_ID).first_channel_id == SOCIAL


def test_events_that_change_nothing_are_not_even_stored(deps, db) -> None:  # type: ignore[no-untyped-def]
    for n, event in enumerate([message(ANA, "hello team", T0), joined(BEN)]):
        assert receive_event(deps, envelope(event, f"EvQUIET{n}")) == ingest.NOTHING

    assert stored_events(db) == {}


def test_members_who_opted_out_are_not_tracked(deps, db, clock) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        ensure_team(session, TEAM_ID, clock.now)
        ensure_member(session, TEAM_ID, BEN).opted_out = True
    link = message(ANA, f"<{POST}>", T0)
    receive_event(deps, envelope(link, "Ev1"))
    receive_event(deps, envelope(message(BEN, "Such a good read, thank you", "1795425000.000100", thread_ts=T0), "Ev2"))
    receive_event(deps, envelope(reaction(BEN, link), "Ev3"))
    receive_event(deps, envelope(message(BEN, f"Mine <{POST}/2>", "1795425100.000100"), "Ev4"))

    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    with db.session() as session:
        assert session.get(Member, (TEAM_ID, BEN)).opted_out


def test_processing_an_event_twice_directly_is_idempotent(deps, db, clock) -> None:  # type: ignore[no-untyped-def]
    """Correctness never rests on the event dedupe alone: a new event_id for the same message adds nothing."""
    link = message(ANA, f"<{POST}>", T0)
    for n in range(3):
        receive_event(deps, envelope(link, f"EvSAME{n}"))
        receive_event(deps, envelope(reaction(BEN, link, "fire"), f"EvREACT{n}"))
    clock.advance(minutes=1)

    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.LIKE, BEN, ANA): 1}
    assert len(stored_events(db)) == 6


def test_replay_of_an_unknown_payload_marks_it_done(deps, db, clock) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        session.add(
            InboundEvent(
                team_id=TEAM_ID,
                event_id="EvODD00001",
                event_type="message",
                payload={"event": {"type": "message", "subtype": "channel_topic"}},
                received_at=clock.now - timedelta(hours=1),
                attempts=1,
            )
        )

    assert replay_unprocessed(deps).replayed == 1
    assert stored_events(db)["EvODD00001"].processed_at == clock.now
