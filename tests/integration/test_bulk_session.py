"""A large write on SQLite goes through a rollback journal when it has the file to itself, and WAL comes back.

These tests open SQLite files of their own, whatever database the suite runs on: the journal is SQLite's alone.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.deps import Deps
from bot.services.export_import import SAMPLE_EXPORT, SAMPLE_TEAM_ID, ExportError, import_export
from bot.store import database
from bot.store.database import LARGE_TRANSACTION_BYTES, Database, migrate
from bot.store.models import Activity, Team
from tests.integration.test_export_import import MALFORMED

LARGE = LARGE_TRANSACTION_BYTES
MOMENT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path}/alone.db"
    migrate(url)
    db = Database.from_url(url)
    yield db
    db.dispose()


def pragma(db: Database, name: str) -> object:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def teams(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Team)) or 0


def add_team(session, team_id: str) -> None:  # type: ignore[no-untyped-def]
    session.execute(insert(Team).values(id=team_id, name=team_id, created_at=MOMENT))


def add_likes(session, team_id: str, n: int) -> None:  # type: ignore[no-untyped-def]
    like = {"team_id": team_id, "user_id": "U1", "kind": "like", "source": "slack", "occurred_at": MOMENT}
    like |= {"day": MOMENT.date(), "hour": 0, "counterpart": "U2", "platform": "slack", "created_at": MOMENT}
    session.execute(insert(Activity), [like | {"source_key": f"like:{number}"} for number in range(n)])


def test_a_large_write_alone_goes_through_a_rollback_journal_and_wal_comes_back(sqlite_file: Database) -> None:
    with sqlite_file.bulk_session(expected_bytes=LARGE) as session:
        add_team(session, "T1")
        connection = session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL

    assert pragma(sqlite_file, "journal_mode") == "wal"
    assert pragma(sqlite_file, "synchronous") == 1  # NORMAL, as every connection has it
    assert teams(sqlite_file) == 1


def test_a_small_write_stays_in_wal(sqlite_file: Database) -> None:
    with sqlite_file.bulk_session(expected_bytes=LARGE - 1) as session:
        add_team(session, "T1")
        assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"

    assert teams(sqlite_file) == 1


def test_with_the_bot_connected_a_large_write_goes_through_wal_without_waiting(sqlite_file: Database) -> None:
    bot = Database.from_url(str(sqlite_file.engine.url))
    try:
        assert teams(bot) == 0  # the bot's pooled connection stays open, as a running web process's does
        with sqlite_file.bulk_session(expected_bytes=LARGE) as session:
            add_team(session, "T1")
            assert session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == database.BUSY_TIMEOUT_MS
            assert teams(bot) == 0  # WAL: the bot still reads its snapshot meanwhile

        assert teams(bot) == 1
    finally:
        bot.dispose()


def test_a_large_write_that_fails_leaves_nothing_and_wal_back(sqlite_file: Database, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="half-way"), sqlite_file.bulk_session(expected_bytes=LARGE) as session:
        add_team(session, "T1")
        raise RuntimeError("stopped half-way")

    assert teams(sqlite_file) == 0
    assert pragma(sqlite_file, "journal_mode") == "wal"
    assert not (tmp_path / "alone.db-journal").exists()


def test_a_bot_connecting_during_the_write_opens_and_then_finds_wal(
    sqlite_file: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)  # how long the newcomer waits before giving up on WAL
    late = Database.from_url(str(sqlite_file.engine.url))
    try:
        with sqlite_file.bulk_session(expected_bytes=LARGE) as session:
            add_team(session, "T1")  # the write lock is held from here to commit
            with late.engine.connect() as connection:  # would raise "database is locked" if it insisted on WAL
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

        assert teams(late) == 1
        assert pragma(late, "journal_mode") == "wal"
    finally:
        late.dispose()


def test_a_crash_half_way_is_rolled_back_by_the_next_connection(sqlite_file: Database, tmp_path: Path) -> None:
    """A killed import leaves a hot journal beside pages already written into the file: the next opener undoes them."""
    with sqlite_file.session() as session:
        add_team(session, "T0")
    sqlite_file.dispose()
    crash = textwrap.dedent(
        f"""
        import os
        from bot.store.database import Database, LARGE_TRANSACTION_BYTES
        from tests.integration.test_bulk_session import add_likes, add_team
        db = Database.from_url({str(sqlite_file.engine.url)!r})
        with db.bulk_session(expected_bytes=LARGE_TRANSACTION_BYTES) as session:
            session.connection().exec_driver_sql("PRAGMA cache_size=10")  # spill pages into the file early
            add_team(session, "T1")
            add_likes(session, "T1", 3000)
            assert os.path.exists({str(tmp_path / "alone.db-journal")!r})
            os._exit(3)
        """
    )
    root = Path(__file__).resolve().parents[2]
    ended = subprocess.run([sys.executable, "-c", crash], cwd=root, capture_output=True, text=True, timeout=120)
    assert ended.returncode == 3, ended.stderr
    assert (tmp_path / "alone.db-journal").exists()

    after = Database.from_url(str(sqlite_file.engine.url))
    try:
        with after.session() as session:
            assert session.scalars(select(Team.id)).all() == ["T0"]
            assert session.scalar(select(func.count()).select_from(Activity)) == 0
        assert pragma(after, "journal_mode") == "wal"
        assert pragma(after, "integrity_check") == "ok"
    finally:
        after.dispose()


@pytest.fixture
def switches(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every import counts as large; records whether each one left WAL."""
    monkeypatch.setattr(database, "LARGE_TRANSACTION_BYTES", 0)
    made: list[bool] = []
    leave_wal = database._rollback_journal_if_alone

    def recorded(connection):  # type: ignore[no-untyped-def]
        made.append(leave_wal(connection))
        return made[-1]

    monkeypatch.setattr(database, "_rollback_journal_if_alone", recorded)
    return made


def test_an_import_alone_counts_the_same_as_through_wal(sqlite_file: Database, deps: Deps, switches) -> None:  # type: ignore[no-untyped-def]
    alone = import_export(Deps(settings=deps.settings, db=sqlite_file, now=deps.now), SAMPLE_EXPORT, SAMPLE_TEAM_ID)
    bot = Database.from_url(str(sqlite_file.engine.url))
    try:
        assert teams(bot) == 1  # the bot has read the file: it is not the import's alone any more
        through_wal = import_export(
            Deps(settings=deps.settings, db=sqlite_file, now=deps.now), SAMPLE_EXPORT, "T0AGAIN01"
        )
    finally:
        bot.dispose()

    assert switches == [True, False]
    assert alone.new_entries > 0
    assert alone == replace(through_wal, team_id=SAMPLE_TEAM_ID)
    assert pragma(sqlite_file, "journal_mode") == "wal"


def test_a_malformed_import_alone_writes_nothing_and_leaves_wal(sqlite_file: Database, deps: Deps, switches) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ExportError):
        import_export(Deps(settings=deps.settings, db=sqlite_file, now=deps.now), MALFORMED, "T0EXPORT1")

    assert switches == [True]
    assert teams(sqlite_file) == 0
    assert pragma(sqlite_file, "journal_mode") == "wal"
