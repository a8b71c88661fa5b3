"""Migrations apply to an empty database, match the models, and SQLite runs with WAL and foreign keys."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.store.database import Database, migrate, migration_status
from bot.store.models import Base


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
