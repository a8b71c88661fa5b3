"""Shared fixtures: a real migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL), the Slack
Web API stub, a fixed clock, and the bot's real WSGI app driven by signed requests.

Each test run gets a database of its own (a temporary SQLite file, or a fresh PostgreSQL database
created from TEST_DATABASE_URL and dropped afterwards), and every test starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, make_url, text

from bot.app import create_app
from bot.config import Settings, normalize_database_url
from bot.deps import Deps
from bot.services.inbox import drain_pending
from bot.slack.after_ledger import after_ledger
from bot.store.database import Database, make_engine, migrate
from bot.store.models import Base
from bot.web import SlackWSGIApp
from tests.slack_requests import SIGNING_SECRET, SlackDriver
from tests.slack_stub import SlackStub

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
blocked_connections: list[tuple[str, int]] = []


@pytest.fixture(autouse=True)
def only_loopback_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to this machine: the stub is the only Slack the bot may reach."""
    real_create_connection = socket.create_connection

    def guarded(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        host, port = address[0], address[1]
        if host not in LOOPBACK:
            blocked_connections.append((host, port))
            raise ConnectionRefusedError(f"tests may not connect to {host}:{port}")
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/coach.db"
        migrate(url)
        yield url
        return
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    name = f"more_social_test_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_database_url(base)).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def session_db(database_url: str) -> Iterator[Database]:
    db = Database.from_url(database_url)
    yield db
    db.dispose()


@pytest.fixture
def db(session_db: Database) -> Iterator[Database]:
    """The migrated test database, emptied after each test."""
    yield session_db
    with session_db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


@dataclass
class Clock:
    """A clock tests can move: `clock.now = ...` or `clock.advance(hours=2)`."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # a Monday morning


@pytest.fixture
def slack() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def settings(database_url: str, slack: SlackStub) -> Settings:
    return Settings(
        database_url=database_url,
        slack_api_url=slack.url,
        slack_bot_token="xoxb-0000000000-test-token",
        slack_signing_secret=SIGNING_SECRET,
    )


@pytest.fixture
def deps(settings: Settings, db: Database, clock: Clock) -> Deps:
    return Deps(settings=settings, db=db, now=clock)


@pytest.fixture
def bolt_app(deps: Deps):  # type: ignore[no-untyped-def]
    return create_app(deps)


@pytest.fixture
def driver(bolt_app, deps: Deps, slack: SlackStub) -> SlackDriver:  # type: ignore[no-untyped-def]
    """Signed requests to the real WSGI app, backed by the Web API stub."""
    return SlackDriver(
        SlackWSGIApp(bolt_app, deps.db, signing_secret=SIGNING_SECRET),
        slack,
        writer=lambda: drain_pending(deps, after_ledger(deps, bolt_app.client)),
    )
