"""Migrations apply to an empty database, match the models, and SQLite runs with WAL and foreign keys.

A downgrade and an upgrade lose none of a deployed team's standings: those tests run on a database of their
own (SQLite, or a fresh PostgreSQL database beside TEST_DATABASE_URL), because they move the schema back and forth.
On SQLite the rollups are WITHOUT ROWID tables, which `alembic check` does not compare: the tests here do.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections import defaultdict
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect, make_url, text

from bot.coach.kinds import Kind
from bot.coach.periods import PeriodName
from bot.config import normalize_database_url
from bot.store.database import Database, alembic_config, make_engine, migrate, migration_status
from bot.store.ledger import insert_activities
from bot.store.models import Base, RollupDay, RollupReceivedPair, RollupTotals
from bot.store.rollups import ROLLUP_TABLES, is_received, period_start
from tests.integration.test_tallies import TEAM, fresh_team, row_for


def test_migrations_apply_to_an_empty_sqlite(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    migrate(url)
    db = Database.from_url(url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        current, head = migration_status(db.engine)
        assert current == head is not None
        with db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        db.dispose()


def test_sqlite_stores_each_table_with_or_without_rowid_as_its_model_says(tmp_path) -> None:
    """`alembic check` does not compare WITHOUT ROWID: this holds the models and the migrations to each other."""
    url = f"sqlite:///{tmp_path}/fresh.db"
    migrate(url)
    db = Database.from_url(url)
    try:
        inspector = inspect(db.engine)
        stored = {
            name: inspector.get_table_options(name).get("sqlite_with_rowid", True) for name in Base.metadata.tables
        }
        assert stored == {
            name: table.dialect_options["sqlite"]["with_rowid"] for name, table in Base.metadata.tables.items()
        }
        assert {name for name, with_rowid in stored.items() if not with_rowid} == {
            table.name for table in ROLLUP_TABLES
        }
    finally:
        db.dispose()


def test_the_test_database_is_at_head(session_db: Database) -> None:
    """On PostgreSQL (TEST_DATABASE_URL) this is the migration run against a brand-new database."""
    current, head = migration_status(session_db.engine)
    assert current == head
    assert set(Base.metadata.tables) <= set(inspect(session_db.engine).get_table_names())


def test_migrate_twice_is_harmless(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)


@pytest.fixture
def fresh_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    name = f"more_social_migrations_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_database_url(base)).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rows_of(db: Database, table) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return sorted(tuple(row) for row in session.execute(table.select()))


def test_received_pairs_survive_a_downgrade_and_an_upgrade(fresh_url: str) -> None:
    migrate(fresh_url)
    db = Database.from_url(fresh_url)
    try:
        fresh_team(db)
        rows = [row_for(key) for key in range(80)]
        with db.session() as session:
            insert_activities(session, rows)
        pairs, totals = rows_of(db, RollupReceivedPair.__table__), rows_of(db, RollupTotals.__table__)
        assert pairs

        command.downgrade(alembic_config(fresh_url), "0001")
        expected: dict[tuple, int] = defaultdict(int)  # the per-period rows the old schema kept
        for row in rows:
            received = (row["user_id"], Kind(row["kind"]), row["source"], row["counterpart"])
            if is_received(*received, row["channel_id"], row["thread_ts"]):
                for period in PeriodName:
                    start = period_start(period, row["day"]).isoformat()
                    pair = (row["counterpart"], row["user_id"], row["channel_id"], row["thread_ts"])
                    expected[(row["team_id"], period.value, start, *pair)] += 1
        with db.session() as session:
            old = session.execute(
                text(
                    "SELECT team_id, period, CAST(start AS VARCHAR(10)), user_id, giver, channel_id, thread_ts, count"
                    " FROM rollup_received"
                )
            ).all()
        assert {tuple(row[:-1]): row[-1] for row in old} == expected

        migrate(fresh_url)
        assert rows_of(db, RollupReceivedPair.__table__) == pairs
        assert rows_of(db, RollupTotals.__table__) == totals
    finally:
        db.dispose()


def shapes_of(db: Database) -> dict[str, tuple]:
    """Each rollup table's columns (type, nullability, default), primary key, foreign keys and indexes."""
    inspector = inspect(db.engine)
    return {
        table.name: (
            [
                (column["name"], str(column["type"]), column["nullable"], column["default"])
                for column in inspector.get_columns(table.name)
            ],
            inspector.get_pk_constraint(table.name),
            inspector.get_foreign_keys(table.name),
            inspector.get_indexes(table.name),
        )
        for table in ROLLUP_TABLES
    }


def sqlite_storage(db: Database) -> dict[str, str]:
    """How SQLite stores each rollup table: WITHOUT ROWID, or as a rowid table with its key in an autoindex."""
    with db.engine.connect() as connection:
        schema = connection.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master")).all()
    key_indexed = {table for kind, name, table, _ in schema if kind == "index" and name.startswith("sqlite_autoindex_")}
    rollups = {table.name for table in ROLLUP_TABLES}
    storage = {}
    for kind, name, _, sql in schema:
        if kind == "table" and name in rollups:
            declared = "WITHOUT ROWID" if sql.rstrip().endswith("WITHOUT ROWID") else "rowid"
            storage[name] = declared + (" + key index" if name in key_indexed else "")
    return storage


def rollup_rows(db: Database) -> dict[str, list[tuple]]:
    return {table.name: rows_of(db, table) for table in ROLLUP_TABLES}


def at_0002_with_ledger(url: str, rows: int) -> Database:
    """A database at revision 0002 holding `rows` ledger rows of the test team, with their rollups."""
    migrate(url, "0002")
    db = Database.from_url(url)
    fresh_team(db)
    with db.session() as session:
        insert_activities(session, [row_for(key) for key in range(rows)])
    return db


def test_rollups_become_without_rowid_on_sqlite_and_keep_every_row_both_ways(fresh_url: str) -> None:
    """On PostgreSQL 0003 changes nothing; on SQLite the rows and the tables' shape are the same either way."""
    db = at_0002_with_ledger(fresh_url, 80)
    try:
        rows = rollup_rows(db)
        assert all(rows.values())
        shapes = shapes_of(db)

        migrate(fresh_url)
        assert rollup_rows(db) == rows
        assert shapes_of(db) == shapes
        if db.dialect == "sqlite":
            assert sqlite_storage(db) == dict.fromkeys(rows, "WITHOUT ROWID")

        command.downgrade(alembic_config(fresh_url), "0002")
        assert rollup_rows(db) == rows
        assert shapes_of(db) == shapes
        if db.dialect == "sqlite":
            assert sqlite_storage(db) == dict.fromkeys(rows, "rowid + key index")
    finally:
        db.dispose()


def test_sqlite_upgrade_keeps_rollups_of_a_team_that_is_gone_and_still_cascades(tmp_path) -> None:
    """The sqlite3 shell writes with foreign keys off: its orphans must not fail the copy, which runs with them on."""
    path = tmp_path / "orphans.db"
    url = f"sqlite:///{path}"
    db = at_0002_with_ledger(url, 20)
    try:
        shell = sqlite3.connect(path)
        shell.execute("DELETE FROM teams WHERE id = ?", (TEAM,))  # no cascade: the shell's foreign keys are off
        shell.execute("INSERT INTO teams (id, created_at) VALUES ('T0STAYING1', '2026-11-23 10:00:00')")
        shell.execute(
            "INSERT INTO rollup_days (team_id, user_id, day) VALUES ('T0STAYING1', 'U0STAYING1', '2026-11-23')"
        )
        shell.commit()
        shell.close()
        rows = rollup_rows(db)

        migrate(url)
        assert rollup_rows(db) == rows
        assert sqlite_storage(db) == dict.fromkeys(rows, "WITHOUT ROWID")
        with db.engine.connect() as connection:
            assert not connection.execute(text("SELECT name FROM sqlite_master WHERE name LIKE '_alembic_tmp%'")).all()
        with db.session() as session:
            session.execute(text("DELETE FROM teams WHERE id = 'T0STAYING1'"))
        assert rows_of(db, RollupDay.__table__) == [row for row in rows["rollup_days"] if row[0] == TEAM]
    finally:
        db.dispose()
