"""The SQLite file holds members' notes and raw deliveries: only its owner may read it, whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store.database import Database, migrate


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """The common default, under which SQLite alone creates its files readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "coach.db"
    migrate(f"sqlite:///{path}")
    db = Database.from_url(f"sqlite:///{path}")
    try:
        with db.engine.connect() as connection:  # WAL: the -wal and -shm files exist while a connection is open
            connection.execute(text("CREATE TABLE scratch (note TEXT)"))
            connection.execute(text("INSERT INTO scratch VALUES ('a note')"))
            connection.commit()
            files = [path, tmp_path / "coach.db-wal", tmp_path / "coach.db-shm"]
            assert all(file.exists() for file in files)
            assert {file.name: _mode(file) for file in files} == {file.name: 0o600 for file in files}
    finally:
        db.dispose()


def test_a_relative_path_is_private_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Database.from_url("sqlite:///coach.db").dispose()
    assert _mode(tmp_path / "coach.db") == 0o600


def test_a_world_readable_database_is_tightened_with_a_warning(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "coach.db"
    path.touch(mode=0o644)
    (tmp_path / "coach.db-wal").touch(mode=0o644)
    os.chmod(path, 0o644)
    os.chmod(tmp_path / "coach.db-wal", 0o644)
    with caplog.at_level(logging.WARNING):
        Database.from_url(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600 and _mode(tmp_path / "coach.db-wal") == 0o600
    assert "readable by anyone" in caplog.text


def test_an_existing_file_that_is_not_world_readable_keeps_its_mode(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    """The operator chose it (a group that backs it up, say): changing it silently would surprise them."""
    path = tmp_path / "coach.db"
    path.touch()
    os.chmod(path, 0o640)
    with caplog.at_level(logging.WARNING):
        Database.from_url(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o640
    assert "readable by anyone" not in caplog.text


def test_memory_databases_and_missing_folders_are_left_to_sqlite(tmp_path: Path) -> None:
    Database.from_url("sqlite://").dispose()
    Database.from_url("sqlite:///:memory:").dispose()
    missing = tmp_path / "no-such-folder" / "coach.db"
    Database.from_url(f"sqlite:///{missing}").dispose()  # the engine is lazy: SQLite complains at connect
    assert not missing.parent.exists()


def test_a_folder_named_as_the_database_keeps_its_mode(tmp_path: Path) -> None:
    """A DATABASE_URL that names a folder by mistake is SQLite's to refuse; the folder is not made private."""
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o755)
    Database.from_url(f"sqlite:///{folder}").dispose()
    assert _mode(folder) == 0o755


def test_the_cli_creates_the_default_database_private(tmp_path: Path) -> None:
    """`python -m bot migrate` with nothing configured: the default sqlite:///coach.db, under a umask of 022."""
    import subprocess
    import sys

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    result = subprocess.run(
        ["bash", "-c", f"umask 022 && exec {sys.executable} -m bot migrate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert _mode(tmp_path / "coach.db") == 0o600
