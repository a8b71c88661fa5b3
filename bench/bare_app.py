"""The floor for bench/ingest.py: a bare Bolt app that acknowledges what More Social receives and stores messages.

    gunicorn ... 'bench.bare_app:create()'     # from /work/main, under the Procfile's web settings

    environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL (auth.test is asked once per worker,
    as Bolt does for any single-workspace app), BARE_APP_DB (the SQLite file messages go to)

The same Bolt, signing checks and WSGI adapter as the bot, with listeners for the deliveries the bench sends:
message events, reaction_added/removed and /coach, each acknowledged before the response is sent
(`process_before_response=True`). Every message event is INSERTed (team, event_id, channel, ts, text) into one
SQLite table, in WAL mode with the pragmas the bot uses, committed before the ack: what it costs a Bolt app
to persist each delivery before answering Slack, and nothing more.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    team TEXT NOT NULL,
    event_id TEXT NOT NULL,
    channel TEXT,
    ts TEXT,
    text TEXT,
    PRIMARY KEY (team, event_id)
)
"""
INSERT = "INSERT OR IGNORE INTO deliveries (team, event_id, channel, ts, text) VALUES (?, ?, ?, ?, ?)"


class Deliveries:
    """One SQLite connection per thread (gunicorn's --threads), opened after the fork, in autocommit mode."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5)
        connection.execute("PRAGMA busy_timeout=5000")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def create_table(self) -> None:
        connection = self._connect()
        connection.execute(SCHEMA)
        connection.close()

    def store(self, team: str, event_id: str, channel: str, ts: str, text: str) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        connection.execute(INSERT, (team, event_id, channel, ts, text))


def build_app(signing_secret: str, token: str, api_url: str, deliveries: Deliveries) -> App:
    """The Bolt app: every listener acks; a message is stored first."""
    app = App(
        client=WebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        process_before_response=True,
        token_verification_enabled=False,
    )

    @app.event("message")
    def handle_message(ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
        deliveries.store(
            str(body.get("team_id") or ""),
            str(body.get("event_id") or ""),
            str(event.get("channel") or ""),
            str(event.get("ts") or ""),
            str(event.get("text") or ""),
        )
        ack()

    @app.event("reaction_added")
    def handle_reaction_added(ack: Ack) -> None:
        ack()

    @app.event("reaction_removed")
    def handle_reaction_removed(ack: Ack) -> None:
        ack()

    @app.command("/coach")
    def handle_coach(ack: Ack) -> None:
        ack()

    return app


def create() -> SlackRequestHandler:
    """The WSGI app for gunicorn, configured from the environment; the table is created before the fork."""
    deliveries = Deliveries(os.environ["BARE_APP_DB"])
    deliveries.create_table()
    app = build_app(
        os.environ["SLACK_SIGNING_SECRET"],
        os.environ["SLACK_BOT_TOKEN"],
        os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
        deliveries,
    )
    return SlackRequestHandler(app)
