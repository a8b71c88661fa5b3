"""Fixtures the end-to-end tests share: the Procfile's web process on the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store.database import Database
from tests.e2e.web_process import WebProcess, free_port, run_procfile, subprocess_env
from tests.slack_requests import SIGNING_SECRET
from tests.slack_stub import SlackStub


@pytest.fixture
def web(db: Database, database_url: str, slack: SlackStub, tmp_path: Path) -> Iterator[WebProcess]:
    """The Procfile's web process on the test database (released first, as the platform does), not yet started.

    It depends on `db` so that every process in its group is gone before `db` empties the tables for the
    next test.
    """
    env = subprocess_env(
        PORT=str(free_port()),
        DATABASE_URL=database_url,
        SLACK_API_URL=slack.url,
        SLACK_BOT_TOKEN="xoxb-0000000000-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
    )
    run_procfile("release", env)
    process = WebProcess(env, tmp_path)
    try:
        yield process
    finally:
        process.stop()
