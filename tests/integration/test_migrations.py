"""Migrations apply to an empty database, match the models, and SQLite runs with WAL and foreign keys.

A downgrade and an upgrade lose none of a deployed team's standings: those tests run on a database of their
own (SQLite, or a fresh PostgreSQL database beside TEST_DATABASE_URL), because they move the schema back and forth.
"""

from __future__ import annotations

import os
import secrets
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
from bot.store.models import Base, RollupReceivedPair, RollupTotals
from bot.store.rollups import is_received, period_start
from tests.integration.test_tallies import fresh_team, row_for


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
