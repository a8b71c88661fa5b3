"""The rollups kept on write always equal a from-scratch recomputation over the ledger rows that remain.

Whatever mix of inserts, redeliveries and deletes reaches the ledger, reading one row per member gives
the same totals, and so the same standings, as folding every remaining activity by hand.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from bot.coach.kinds import Kind, Source
from bot.coach.periods import PeriodName
from bot.coach.scoring import DEFAULT_RULES, Tally, score_members
from bot.coach.totals import score_totals
from bot.store.database import Database
from bot.store.ledger import activity_row, delete_activities, insert_activities, rollups_per_batch
from bot.store.models import Activity, Member, Team
from bot.store.rollups import ALL_START, ROLLUP_TABLES, is_received, period_start, rebuild_rollups
from bot.store.tallies import member_totals
from bot.store.upsert import insert_or_ignore
from tests.totals_from_tallies import totals_from_tallies
from tests.unit.test_totals import assert_same_standings

TEAM = "T0ROLLUP01"
USERS = ("U0ANA00001", "U0BEN00001", "U0CARLA001")
COUNTERPARTS = ("", "x.com/ana", *USERS)
START = datetime(2026, 10, 26, 6, 0, tzinfo=UTC)  # a Monday; the data runs into November
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TZ = "Europe/Madrid"

keys = st.integers(0, 80)


def row_for(key: int) -> dict:
    """One ledger row drawn from `key`; the same key always gives the same row, as a redelivery would."""
    pick = random.Random(key)
    return activity_row(
        team_id=TEAM,
        user_id=pick.choice(USERS),
        kind=pick.choice(list(Kind)).value,
        source=pick.choice(list(Source)).value,
        # Half the rows crowd into two hours of one day, so daily caps and bursts really happen.
        occurred_at=START + timedelta(days=pick.choice((0, pick.randrange(40))), hours=pick.choice((0, 1, 13))),
        timezone=TZ,
        source_key=f"k{key}",
        platform="slack",
        created_at=NOW,
        counterpart=pick.choice(COUNTERPARTS),
        channel_id=pick.choice(("C0SOCIAL01", "G0PRIVATE1")),
        thread_ts=pick.choice(("1763900000.000100", "1763900000.000200", None)),
    )


def recomputed(db: Database, period: PeriodName, start: date) -> tuple[dict, list]:
    """Totals and standings folded by hand from every ledger row of the period."""
    with db.session() as session:
        rows = session.execute(
            select(
                Activity.user_id,
                Activity.kind,
                Activity.day,
                Activity.hour,
                Activity.counterpart,
                Activity.source,
                Activity.channel_id,
                Activity.thread_ts,
            ).where(Activity.team_id == TEAM)
        ).all()
    tallies = []
    pairs: dict[str, set] = defaultdict(set)
    for user_id, kind, day, hour, counterpart, source, channel_id, thread_ts in rows:
        if period_start(period, day) != start:
            continue
        tallies.append(Tally(user_id, Kind(kind), day, hour, counterpart, 1))
        if is_received(user_id, Kind(kind), source, counterpart, channel_id, thread_ts):
            pairs[counterpart].add((user_id, channel_id, thread_ts))
    received = {user: len(found) for user, found in pairs.items()}
    totals = {t.user_id: t.counters for t in totals_from_tallies(tallies, received)}
    return totals, score_members(tallies, received, DEFAULT_RULES)


def stored(db: Database, period: PeriodName, start: date) -> dict:
    with db.session() as session:
        return {t.user_id: t.counters for t in member_totals(session, TEAM, period, start)}


def snapshot(db: Database) -> dict:
    with db.session() as session:
        return {
            table.name: sorted(tuple(row) for row in session.execute(select(table).where(table.c.team_id == TEAM)))
            for table in ROLLUP_TABLES
        }


def buckets_in_use(db: Database) -> set[tuple[PeriodName, date]]:
    with db.session() as session:
        days = set(session.scalars(select(Activity.day).where(Activity.team_id == TEAM)))
    return {(period, period_start(period, day)) for day in days for period in PeriodName}


def assert_a_rebuild_changes_nothing(db: Database) -> None:
    """The rollups kept on write are exactly what recomputing them from the ledger gives."""
    kept = snapshot(db)
    with db.session() as session:
        rebuild_rollups(session, TEAM)
    assert snapshot(db) == kept


def fresh_team(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(Team).where(Team.id == TEAM))
        insert_or_ignore(session, Team, [{"id": TEAM, "settings": {"timezone": TZ}, "created_at": NOW}], ["id"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(keys, max_size=15), min_size=1, max_size=4),
    doomed=st.sets(keys, max_size=15),
)
def test_rollups_equal_a_recomputation_after_inserts_redeliveries_and_deletes(db: Database, batches, doomed) -> None:
    fresh_team(db)
    for batch in batches:
        with db.session() as session:
            insert_activities(session, [row_for(key) for key in batch])
    with db.session() as session:  # the same rows again: redeliveries change nothing
        insert_activities(session, [row_for(key) for batch in batches for key in batch])
    with db.session() as session:
        delete_activities(session, TEAM, Activity.source_key.in_([f"k{key}" for key in doomed]))

    for period, start in buckets_in_use(db) | {(PeriodName.WEEK, date(2026, 11, 23))}:
        totals, standings = recomputed(db, period, start)
        assert stored(db, period, start) == totals
        with db.session() as session:
            assert_same_standings(standings, score_totals(member_totals(session, TEAM, period, start), DEFAULT_RULES))

    assert_a_rebuild_changes_nothing(db)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.lists(keys, max_size=10),
    steps=st.lists(st.tuples(st.booleans(), st.lists(keys, min_size=1, max_size=5)), min_size=1, max_size=8),
)
def test_rollups_summed_over_a_batch_equal_rollups_kept_row_by_row(db: Database, before, steps) -> None:
    """The ledger writer's batch: rows added and removed in any mix, the rollups applied once at its end."""
    fresh_team(db)
    with db.session() as session:
        insert_activities(session, [row_for(key) for key in before])
    with db.session() as session, rollups_per_batch(session):
        for adding, chosen in steps:
            if adding:
                insert_activities(session, [row_for(key) for key in chosen])
            else:
                delete_activities(session, TEAM, Activity.source_key.in_([f"k{key}" for key in chosen]))

    assert_a_rebuild_changes_nothing(db)


def test_deleting_everything_leaves_no_rollup_rows(db: Database) -> None:
    fresh_team(db)
    with db.session() as session:
        insert_activities(session, [row_for(key) for key in range(30)])
    with db.session() as session:
        assert delete_activities(session, TEAM) == 30
    assert snapshot(db) == {table.name: [] for table in ROLLUP_TABLES}


def test_received_leaves_out_givers_who_opted_out(db: Database) -> None:
    fresh_team(db)
    rows = [
        activity_row(
            team_id=TEAM,
            user_id=giver,
            kind=kind.value,
            source=Source.SLACK.value,
            occurred_at=NOW,
            timezone=TZ,
            source_key=f"{giver}{kind}",
            platform="slack",
            created_at=NOW,
            counterpart="U0ANA00001",
            channel_id="C0SOCIAL01",
            message_ts="1763900000.000900",
            thread_ts="1763900000.000100",
        )
        for giver in ("U0BEN00001", "U0CARLA001")
        for kind in (Kind.COMMENT, Kind.LIKE)
    ]
    with db.session() as session:
        insert_activities(session, rows)
        session.add(Member(team_id=TEAM, user_id="U0CARLA001", opted_out=True))

    with db.session() as session:
        everyone = member_totals(session, TEAM, PeriodName.WEEK, date(2026, 11, 23))
        welcome = member_totals(
            session, TEAM, PeriodName.WEEK, date(2026, 11, 23), opted_out={"U0CARLA001"}, user_ids={"U0ANA00001"}
        )

    assert {t.user_id: t["received"] for t in everyone}["U0ANA00001"] == 2  # one per giver and item, not per action
    assert [(t.user_id, t["received"]) for t in welcome] == [("U0ANA00001", 1)]


def engagement(giver: str, kind: Kind, day: int, key: str) -> dict:
    """A teammate's engagement on Ana's link (one item), `day` days after START."""
    return activity_row(
        team_id=TEAM,
        user_id=giver,
        kind=kind.value,
        source=Source.SLACK.value,
        occurred_at=START + timedelta(days=day, hours=10),
        timezone=TZ,
        source_key=key,
        platform="slack",
        created_at=NOW,
        counterpart="U0ANA00001",
        channel_id="C0SOCIAL01",
        message_ts=f"176390000{day}.000900",
        thread_ts="1763900000.000100",
    )


def test_two_writers_of_one_received_pair_count_it_once(db: Database) -> None:
    """The second writer of a (teammate, item) pair waits for the first, then sees its rows: one pair, not two."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    fresh_team(db)
    second_done = threading.Event()

    def second_writer() -> None:
        with db.session() as session:
            insert_activities(session, [engagement("U0BEN00001", Kind.LIKE, 1, "like")])
        second_done.set()

    with db.session() as first:
        insert_activities(first, [engagement("U0BEN00001", Kind.COMMENT, 0, "comment")])
        writer = threading.Thread(target=second_writer)
        writer.start()
        deadline = time.monotonic() + 10
        while not _someone_waits_on_a_lock(db) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not second_done.is_set()
    writer.join(timeout=10)

    assert second_done.is_set()
    with db.session() as session:
        for period, start in ((PeriodName.WEEK, START.date()), (PeriodName.ALL, ALL_START)):
            ana = member_totals(session, TEAM, period, start, user_ids=["U0ANA00001"])
            assert [member["received"] for member in ana] == [1], period
    assert_a_rebuild_changes_nothing(db)


def _someone_waits_on_a_lock(db: Database) -> bool:
    with db.engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
        return bool(waiting.scalar())
