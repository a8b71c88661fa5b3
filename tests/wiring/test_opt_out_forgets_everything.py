"""A confirmed `/coach optout` forgets the member in every table the bot has, and keeps nothing of what they do next.

The test walks `Base.metadata.sorted_tables`: a table added later that can hold a member's id or words
makes it fail until `bot.store.member_data` says what opt-out does there.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bot.services.ingest as ingest
from bot.coach.kinds import Kind
from bot.deps import Deps
from bot.services.inbox import MAX_ATTEMPTS, accept, drain_pending
from bot.services.ingest import EventEnvelope
from bot.services.ledger import opt_out
from bot.services.teams import ensure_team
from bot.slack.blocks.ledger import OPT_OUT_CONFIRM_ACTION
from bot.slack.events.channels import BACKFILLS
from bot.store.database import Database
from bot.store.ledger import insert_activities
from bot.store.member_data import (
    FORGOTTEN_BY,
    HOLDS_NO_MEMBER_DATA,
    forget_who_opted_out_since,
    hold_opt_outs_steady,
)
from bot.store.models import Activity, Base, Delivery, InboundEvent, Member, Team
from tests.conftest import Clock
from tests.integration.test_inbox import assert_rollups_match_ledger
from tests.slack_events import ANA, BEN, BOT, CARLA, joined, message, reaction, tally
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub
from tests.wiring.test_backfill import script_history
from tests.wiring.test_coach_optout import click, seen_in_slack

ANAS_WORDS = ("Ana's secret launch notes", "thanked Carla privately", "Ana Lovelace", "ana.example.org")
ANAS_LATER_WORDS = "Ana after opting out"
ANAS_LINK = "https://ana.example.org/launch"
BENS_LINK = "https://ben.example.org/essay"
T0 = "1795424400.000100"
SECURITY_DOC = Path(__file__).parents[2] / "docs" / "security.md"


def _names(value: Any, needles: tuple[str, ...]) -> bool:
    """Whether a stored value (a column of any row, JSON included) holds any of `needles`."""
    if isinstance(value, str):
        return any(needle in value for needle in needles)
    if isinstance(value, Mapping):
        return any(_names(key, needles) or _names(item, needles) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_names(item, needles) for item in value)
    return False


def _rows_naming(db: Database, needles: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table with a column that holds one of `needles`, by table."""
    found: dict[str, list[dict[str, Any]]] = {}
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = [dict(row) for row in session.execute(select(table)).mappings()]
            hits = [row for row in rows if any(_names(value, needles) for value in row.values())]
            if hits:
                found[table.name] = hits
    return found


def _reply(user: str, text: str, ts: str, parent: dict[str, Any]) -> dict[str, Any]:
    event = message(user, text, ts, thread_ts=parent["ts"])
    event["parent_user_id"] = parent["user"]
    return event


def _a_week_of_ana(driver: SlackDriver, db: Database, clock: Clock) -> None:
    """Ana in every table that can hold her: links, replies, emoji, a note, a nudge, deliveries waiting and parked."""
    anas = message(ANA, f"{ANAS_WORDS[0]} <{ANAS_LINK}>", T0)
    bens = message(BEN, f"My essay <{BENS_LINK}>", "1795424500.000100")
    for event in (anas, bens):
        driver.event(event)
    driver.event(_reply(BEN, "Great launch, congratulations to the team", "1795424600.000100", anas))
    driver.event(_reply(ANA, f"{ANAS_WORDS[0]}: a thoughtful answer to Ben", "1795424700.000100", bens))
    driver.event(reaction(BEN, anas))
    driver.event(reaction(ANA, bens, "fire"))
    driver.event(message(CARLA, f"<@{ANA}> look <https://carla.example.org/a>", "1795424800.000100"))
    driver.command(f"log reply https://x.com/carla/status/9 {ANAS_WORDS[1]}")
    # Waiting for the writer: one of Ana's own, one of Ben's that mentions her.
    driver.event(message(ANA, f"{ANAS_WORDS[0]} again <{ANAS_LINK}/2>", "1795424900.000100"), settle=False)
    driver.event(message(BEN, f"cc <@{ANA}> <{BENS_LINK}/2>", "1795425000.000100"), settle=False)
    with db.session() as session:
        team = session.get(Team, TEAM_ID)
        assert team is not None
        team.settings = {**team.settings, "coach_admins": [BEN, ANA]}
        session.get(Member, (TEAM_ID, ANA)).name = ANAS_WORDS[2]  # type: ignore[union-attr]
        session.get(Member, (TEAM_ID, ANA)).tz = "Europe/London"  # type: ignore[union-attr]
        session.add(
            Delivery(
                team_id=TEAM_ID,
                key=f"nudge:{ANA}:2026-11-30",
                channel_id="D0ANA00001",
                status="sent",
                claimed_at=clock(),
                message_ts="1795425100.000100",
            )
        )
        session.add(
            InboundEvent(
                team_id=TEAM_ID,
                event_id="EvPARKED01",
                event_type="message",
                payload={"event": _reply(CARLA, f"<@{ANA}> {ANAS_WORDS[0]}", "1795425200.000100", anas)},
                received_at=clock() - timedelta(hours=1),
                attempts=MAX_ATTEMPTS,
                event_ts="1795425200.000100",
                last_error="IntegrityError: ... Ana's secret launch notes ...",
            )
        )


def test_every_table_is_either_forgotten_by_opt_out_or_holds_no_member_data() -> None:
    tables = {table.name for table in Base.metadata.sorted_tables}
    assert tables == set(FORGOTTEN_BY) | HOLDS_NO_MEMBER_DATA
    assert not set(FORGOTTEN_BY) & HOLDS_NO_MEMBER_DATA


def test_docs_security_says_what_every_table_keeps() -> None:
    """docs/security.md is what members and operators read about what is kept: a new table belongs in it."""
    page = SECURITY_DOC.read_text(encoding="utf-8")
    documented = {name for name in (table.name for table in Base.metadata.sorted_tables) if f"`{name}`" in page}
    rollups = {table.name for table in Base.metadata.sorted_tables if table.name.startswith("rollup_")}
    assert documented | rollups == {table.name for table in Base.metadata.sorted_tables}
    assert "`rollup_*`" in page


def test_after_a_confirmed_optout_no_table_holds_the_member_or_their_words(
    driver: SlackDriver, db: Database, clock: Clock
) -> None:
    _a_week_of_ana(driver, db, clock)
    before = _rows_naming(db, (ANA, *ANAS_WORDS))
    # The fixture reaches every table that can hold her: so the walk below proves something in each.
    assert set(before) == set(FORGOTTEN_BY), set(FORGOTTEN_BY) - set(before)

    driver.command("optout")
    assert click(driver, OPT_OUT_CONFIRM_ACTION).status == 200
    driver.settle()
    # What she does next is acknowledged and kept only as the ids dedupe needs.
    later = message(ANA, f"{ANAS_LATER_WORDS} <{ANAS_LINK}/3>", "1795426000.000100")
    assert driver.event(later, event_id="EvANALATER").status == 200
    assert driver.event(reaction(ANA, later), event_id="EvANALIKE1").status == 200
    assert driver.event(later, event_id="EvANALATER").status == 200  # a retry is still recognised

    after = _rows_naming(db, (ANA, *ANAS_WORDS, ANAS_LATER_WORDS))
    [member] = after.pop("members")
    assert after == {}
    kept = {name: value for name, value in member.items() if value not in (None, False)}
    assert kept == {"team_id": TEAM_ID, "user_id": ANA, "opted_out": True, "updated_at": member["updated_at"]}
    with db.session() as session:
        deliveries = {row.event_id: row.payload for row in session.scalars(select(InboundEvent))}
    assert deliveries["EvANALATER"] == {} and deliveries["EvANALIKE1"] == {} and deliveries["EvPARKED01"] == {}


def test_teammates_keep_their_own_actions_and_lose_only_their_engagement_with_her_links(
    driver: SlackDriver, db: Database, clock: Clock
) -> None:
    _a_week_of_ana(driver, db, clock)
    driver.settle()
    driver.command("optout")
    click(driver, OPT_OUT_CONFIRM_ACTION)

    with db.session() as session:
        kept = sorted((row.user_id, row.kind, row.url or "") for row in session.scalars(select(Activity)))
        coach_admins = session.get(Team, TEAM_ID).settings["coach_admins"]  # type: ignore[union-attr]
    assert coach_admins == [BEN]  # Ben stays a coach admin; Ana is named nowhere, settings included
    assert_rollups_match_ledger(db, TEAM_ID)  # what opt-out took out of the rollups is exactly what it deleted
    assert kept == [
        (BEN, "link", BENS_LINK),
        (BEN, "link", f"{BENS_LINK}/2"),
        (CARLA, "link", "https://carla.example.org/a"),
    ]


def test_slack_telling_us_about_her_again_does_not_bring_her_name_back(
    driver: SlackDriver, db: Database, slack: SlackStub
) -> None:
    slack.add_user(ANA, name=ANAS_WORDS[2], tz="Europe/London", is_admin=True)
    driver.command("optout")
    click(driver, OPT_OUT_CONFIRM_ACTION)

    driver.command("settings")  # an admin check asks users.info about her
    assert slack.calls_to("users.info")

    with db.session() as session:
        member = session.get(Member, (TEAM_ID, ANA))
        assert member is not None and member.opted_out
        assert (member.name, member.tz) == (None, None)


def test_an_opt_out_while_the_writer_is_mid_batch_still_forgets_what_that_batch_writes(
    deps: Deps, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer read who opted out, then Ana opted out, then the batch wrote her link: it must not stay.

    On SQLite her opt-out commits at once and the batch, once it holds the write lock, forgets her again; on
    PostgreSQL her opt-out waits for the batch and then deletes what it wrote.
    """
    with db.session() as session:  # a workspace the writer knows: it reads before it writes anything
        ensure_team(session, TEAM_ID, deps.now()).bot_user_id = BOT
    accept(deps, EventEnvelope(TEAM_ID, "EvANARACE1", message(ANA, f"{ANAS_WORDS[0]} <{ANAS_LINK}>", T0), BOT))
    read_opt_outs = ingest.q.opted_out_user_ids
    opting_out: list[threading.Thread] = []

    def read_then_opt_out(session, team_id):  # type: ignore[no-untyped-def]
        opted_out = read_opt_outs(session, team_id)
        if not opting_out:
            opting_out.append(threading.Thread(target=opt_out, args=(deps, TEAM_ID, ANA)))
            opting_out[0].start()
            opting_out[0].join(timeout=0.5)  # SQLite: done; PostgreSQL: waiting for this batch
        return opted_out

    monkeypatch.setattr(ingest.q, "opted_out_user_ids", read_then_opt_out)
    assert drain_pending(deps).applied == 1
    opting_out[0].join(timeout=10)

    assert not opting_out[0].is_alive()
    assert _rows_naming(db, (ANA, *ANAS_WORDS)).keys() == {"members"}


def test_an_opt_out_during_a_history_import_is_not_undone_by_it(
    driver: SlackDriver, slack: SlackStub, db: Database, deps: Deps
) -> None:
    """The import wrote Ana's link, then she opted out, then it read the replies to her thread."""
    script_history(slack)
    replies = slack.responders["conversations.replies"]

    def opt_out_first(args: dict[str, Any]) -> Any:
        opt_out(deps, TEAM_ID, ANA)
        return replies(args)

    slack.respond("conversations.replies", opt_out_first)
    assert driver.event(joined(BOT)).status == 200
    BACKFILLS.join(timeout=30)

    assert tally(db) == {(Kind.LINK, CARLA, ""): 1}
    assert _rows_naming(db, (ANA,)).keys() == {"members"}


def test_an_opt_out_waits_for_a_writer_that_already_checked_and_then_deletes_what_it_wrote(
    deps: Deps, db: Database
) -> None:
    """The writer checked who opted out (under the lock) and is about to commit Ana's row: her opt-out waits."""
    with db.session() as session:
        ensure_team(session, TEAM_ID, deps.now())
    opting_out = threading.Thread(target=opt_out, args=(deps, TEAM_ID, ANA))
    with db.session() as session:  # what every writer's transaction does: the lock first, the check last
        hold_opt_outs_steady(session)
        insert_activities(session, [seen_in_slack(ANA, "link", "", "link:C0SOCIAL01:1763900000.000100:0", deps.now())])
        assert forget_who_opted_out_since(session, TEAM_ID, frozenset(), deps.now()) == frozenset()
        opting_out.start()
        opting_out.join(timeout=0.5)
        assert opting_out.is_alive()  # waiting for the writer's commit
    opting_out.join(timeout=10)
    assert not opting_out.is_alive()
    assert _rows_naming(db, (ANA,)).keys() == {"members"}
