"""Engine, sessions and migrations: the one place that knows how to reach the database."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.config import normalize_database_url

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


BUSY_TIMEOUT_MS = 5000
# A transaction that writes this much is faster through a rollback journal than through WAL (SQLite's own advice
# says past about 100 MB): WAL writes every page twice, to the log and then, at commit, into the database.
LARGE_TRANSACTION_BYTES = 100_000_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers (the web process) run beside the clock's writes; SQLite leaves FKs off by default.

    While an import holds the database in a rollback journal (`Database.bulk_session`) WAL cannot be set: the
    connection opens anyway, waits for the import like any reader, and finds the database in WAL after it.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        log.warning("the SQLite database is locked (an import?): opened without setting WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for SQLite or PostgreSQL (psycopg 3) with the settings each needs.

    Its errors name the statement but not its parameters: those are members' notes and message text, and an
    error's text ends up in a logged traceback.
    """
    url = normalize_database_url(url)
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file readable by its owner only, before SQLite creates it with the umask's mode.

    It holds members' notes and the raw deliveries of the inbox. SQLite gives its -wal, -shm and journal files
    the database file's mode, so they are private too. A file someone else created is left as it is, unless
    anyone on the machine can read it: then it is tightened, with a warning.
    """
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        return
    except FileExistsError:
        pass
    except OSError:  # no such folder, or one we may not write in: SQLite says so when it opens the file
        return
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode) or not mode & stat.S_IROTH:  # a folder by mistake is SQLite's to refuse
        return
    try:
        for name in (path, *(path + suffix for suffix in SQLITE_COMPANION_SUFFIXES)):
            if os.path.exists(name):
                os.chmod(name, stat.S_IMODE(os.stat(name).st_mode) & stat.S_IRWXU)
    except PermissionError:  # another user's file
        log.warning("the SQLite database %s is readable by anyone on this machine; make it its owner's only", path)
        return
    log.warning("the SQLite database %s was readable by anyone on this machine; it is now its owner's only", path)


class Database:
    """An engine and its session factory; services open one session per event or job."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back when it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core transaction for one small write on the request path, where an ORM session costs more than it gives."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def bulk_session(self, *, expected_bytes: int = 0) -> Iterator[Session]:
        """A unit of work for one large write, such as an import: `session`, without the statement cache.

        When it should write about LARGE_TRANSACTION_BYTES or more and no other connection is using the SQLite
        file (one that has read it holds its log open), it goes through a rollback journal rather than WAL, with
        `synchronous=FULL` (which keeps a rollback journal safe from corruption at a power cut). The database is
        back in WAL when the block ends, however it ends; a crash half-way leaves a journal that the next
        connection rolls back. Whether the file is free is asked without waiting: a running bot keeps it in WAL,
        and the write goes through WAL as before.
        """
        journal = self.dialect == "sqlite" and expected_bytes >= LARGE_TRANSACTION_BYTES
        switched = False
        try:
            with self._sessions() as session, session.begin():
                # Bulk statements cost more to cache than to compile, and a cache full of them grows memory
                # with the write: this transaction compiles without the cache.
                connection = session.connection(execution_options={"compiled_cache": None})
                if journal:
                    switched = _rollback_journal_if_alone(connection)
                yield session
        finally:
            if switched:
                self._back_to_wal()

    def _back_to_wal(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
                connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
        except OperationalError:  # another process holds it now: its own connect sets WAL again
            log.warning("could not set the SQLite database back to WAL after an import", exc_info=True)

    def ping(self) -> bool:
        """Answer whether the database answers a trivial query (for /healthz)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            log.warning("database ping failed", exc_info=True)
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _rollback_journal_if_alone(connection: Connection) -> bool:
    """Leave WAL for a rollback journal if no other connection is using the database; return whether it did.

    SQLite refuses to leave WAL while another connection holds the log open, as any that has read the file does
    ("database is locked"): tried once, not waited for. Must run before the transaction's first statement.
    """
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        mode = connection.exec_driver_sql("PRAGMA journal_mode=DELETE").scalar()
    except OperationalError:
        mode = "wal"
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if mode != "delete":
        return False
    connection.exec_driver_sql("PRAGMA synchronous=FULL")
    return True


# Alembic is imported where it is used: it brings Mako and Pygments along (a third of a second), and the
# processes that read an export import this module without ever migrating.


def alembic_config(url: str) -> Config:
    """An Alembic config that works from an installed package as well as from the repository."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_database_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` (the newest by default)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def migration_status(engine: Engine) -> tuple[str | None, str | None]:
    """Return (current revision of the database, newest revision we ship)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, script.get_current_head()
