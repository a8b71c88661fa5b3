"""Writing in bulk and rebuilding the rollups once gives exactly what inserting row by row keeps on write.

The export import writes through `BulkLedger` (rows straight to the driver, rollups rebuilt set-based at the
end); everything else through `insert_activities`. Both must leave the same ledger, byte for byte as the
database stores it, and the same rollup tables, whatever the rows, redeliveries and later deletes.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from bot.store.database import Database
from bot.store.ledger import (
    ACTIVITY_COLUMNS,
    BulkLedger,
    BulkRows,
    bulk_is_cheaper,
    delete_activities,
    driver_name,
    insert_activities,
    row_encoder,
)
from bot.store.models import Activity, Team
from bot.store.rollups import rebuild_rollups
from bot.store.upsert import insert_or_ignore
from tests.integration.test_tallies import NOW, TEAM, TZ, fresh_team, keys, row_for, snapshot


def stored_ledger(db: Database) -> list[tuple]:
    """The team's ledger as the database holds it (raw values, not read back through SQLAlchemy types)."""
    columns = ", ".join(name for name in ACTIVITY_COLUMNS if name != "created_at")
    with db.session() as session:
        rows = session.connection().exec_driver_sql(f"SELECT {columns} FROM activities ORDER BY source_key")
        return [tuple(row) for row in rows]


def write_row_by_row(db: Database, batches: list[list[int]], doomed: set[int]) -> None:
    for batch in batches:
        with db.session() as session:
            insert_activities(session, [row_for(key) for key in batch])
    with db.session() as session:
        delete_activities(session, TEAM, Activity.source_key.in_([f"k{key}" for key in doomed]))


def encoded(session: Session, chosen: list[int]) -> list[tuple]:
    """Rows as the export reader hands them to BulkLedger: ACTIVITY_COLUMNS values, encoded for the driver."""
    encode = row_encoder(driver_name(session))
    return [encode([row_for(key)[name] for name in ACTIVITY_COLUMNS]) for key in chosen]


def write_in_bulk(db: Database, batches: list[list[int]], doomed: set[int]) -> int:
    with db.session() as session:
        ledger = BulkLedger(session, TEAM)
        for chosen in [*batches, [key for batch in batches for key in batch]]:  # then every row again
            ledger.insert(encoded(session, chosen))
        ledger.finish()
    with db.session() as session:  # rollups kept on write from here on, on top of the rebuilt ones
        delete_activities(session, TEAM, Activity.source_key.in_([f"k{key}" for key in doomed]))
    return ledger.new_rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(st.lists(keys, max_size=25), min_size=1, max_size=4),
    doomed=st.sets(keys, max_size=10),
)
def test_bulk_rows_and_one_rebuild_equal_rollups_kept_on_write(db: Database, batches, doomed) -> None:
    fresh_team(db)
    write_row_by_row(db, batches, doomed)
    ledger, rollups = stored_ledger(db), snapshot(db)

    fresh_team(db)
    new_rows = write_in_bulk(db, batches, doomed)

    assert new_rows == len({key for batch in batches for key in batch})
    assert stored_ledger(db) == ledger
    assert snapshot(db) == rollups


def test_a_rebuild_adds_to_what_the_team_already_had(db: Database) -> None:
    fresh_team(db)
    with db.session() as session:
        insert_activities(session, [row_for(key) for key in range(40)])
    with db.session() as session:
        ledger = BulkLedger(session, TEAM)
        ledger.insert(encoded(session, list(range(30, 80))))
        ledger.finish()
    kept = snapshot(db)

    with db.session() as session:
        assert rebuild_rollups(session, TEAM) == 80
    assert snapshot(db) == kept
    fresh_team(db)
    with db.session() as session:
        insert_activities(session, [row_for(key) for key in range(80)])
    assert snapshot(db) == kept


def test_writing_again_what_is_stored_changes_nothing(db: Database) -> None:
    fresh_team(db)
    with db.session() as session:
        insert_activities(session, [row_for(key) for key in range(20)])
    before = snapshot(db), stored_ledger(db)
    with db.session() as session:
        ledger = BulkLedger(session, TEAM)
        assert ledger.insert(encoded(session, list(range(20)))) == 0
        ledger.finish()

    assert (snapshot(db), stored_ledger(db)) == before


def test_bulk_pays_off_for_rows_many_next_to_the_ledger() -> None:
    assert bulk_is_cheaper(ledger_rows=0, new_rows=100)
    assert bulk_is_cheaper(ledger_rows=1_000_000, new_rows=1_000_000)
    assert not bulk_is_cheaper(ledger_rows=1_000_000, new_rows=1_000)
    assert not bulk_is_cheaper(ledger_rows=0, new_rows=0)


def test_rows_whose_shared_values_the_statement_writes_in_store_what_insert_activities_stores(db: Database) -> None:
    """On SQLite `BulkRows` leaves the team, source, note and creation time out of each row and the INSERT
    writes them in as literals: stored, they must be what binding them gives, a quote in the team id included."""
    team = "T0'QUOTE1"
    zone = ZoneInfo(TZ)
    given = [row_for(key) | {"team_id": team, "source": "slack", "note": None} for key in range(30)]
    with db.session() as session:
        session.execute(delete(Team).where(Team.id == team))
        insert_or_ignore(session, Team, [{"id": team, "settings": {"timezone": TZ}, "created_at": NOW}], ["id"])
        insert_activities(session, given)
        expected = stored_rows(session, team)
        session.execute(delete(Activity).where(Activity.team_id == team))

        builder = BulkRows(driver_name(session), team, "slack", zone, NOW)
        ledger = BulkLedger(session, team, rows_from=builder)
        rows = [builder.row(*(row[name] for name in BULK_ROW_ARGUMENTS)) for row in given]
        assert ledger.insert(rows) == len(given)
        assert ledger.insert(rows) == 0  # the same rows again are ignored
        ledger.finish()
        assert stored_rows(session, team) == expected
        session.execute(delete(Team).where(Team.id == team))


# What `BulkRows.row` takes, in order.
BULK_ROW_ARGUMENTS = (
    "user_id", "kind", "occurred_at", "source_key", "platform", "counterpart",
    "url", "url_key", "channel_id", "message_ts", "thread_ts", "is_private",
)  # fmt: skip


def stored_rows(session: Session, team: str) -> list[tuple]:
    columns = ", ".join(ACTIVITY_COLUMNS)
    rows = session.connection().exec_driver_sql(
        f"SELECT {columns} FROM activities WHERE team_id = '{team.replace(chr(39), chr(39) * 2)}' ORDER BY source_key"
    )
    return [tuple(row) for row in rows]


def test_each_batch_is_copied_for_the_rebuild_by_its_range_of_ids(db: Database) -> None:
    """On SQLite a bulk write copies each batch into the rebuild's table as it goes: by id range, not by walking
    the team's ledger on an index (that made the copies grow with the ledger, quadratic over an import)."""
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL copies the ledger once, when the rebuild starts")
    fresh_team(db)
    copies: list[tuple[str, tuple]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO rollup_facts"):
            copies.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        with db.session() as session:
            ledger = BulkLedger(session, TEAM)
            ledger.insert(encoded(session, list(range(40))))
            ledger.insert(encoded(session, list(range(40, 80))))
            (batch, parameters) = copies[-1]
            plan = " ".join(
                row[-1] for row in session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {batch}", parameters)
            )
            ledger.finish()
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)

    assert "INTEGER PRIMARY KEY" in plan, plan
    assert snapshot(db) == rollups_kept_on_write(db, range(80))


def rollups_kept_on_write(db: Database, chosen: range) -> dict:
    fresh_team(db)
    with db.session() as session:
        insert_activities(session, [row_for(key) for key in chosen])
    return snapshot(db)
