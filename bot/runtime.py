"""Assemble the running bot from settings: database (migrated on SQLite), Bolt app, WSGI app."""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing
import os
import threading

from slack_bolt import App
from slack_sdk import WebClient

from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps
from bot.services.inbox import LedgerWriter
from bot.slack.after_ledger import after_ledger
from bot.store.database import Database, migrate
from bot.web import SlackWSGIApp

log = logging.getLogger(__name__)


def open_database(settings: Settings) -> Database:
    """Open the database; on SQLite (the zero-setup default) bring the schema up to date first.

    On PostgreSQL several web processes share one database, so migrations run once, in the
    Procfile's release phase (`python -m bot migrate`), never racing at start-up.
    """
    if settings.is_sqlite:
        migrate(settings.database_url)
    return Database.from_url(settings.database_url)


def build_bolt_app(settings: Settings, *, serving_http: bool | None = None) -> tuple[App, Deps]:
    settings.require_slack(serving_http=serving_http)
    deps = Deps(settings=settings, db=open_database(settings))
    return create_app(deps), deps


def build_wsgi_app(settings: Settings) -> SlackWSGIApp:
    bolt_app, deps = build_bolt_app(settings, serving_http=True)
    writer = WriterPerProcess(deps, bolt_app.client)
    # gunicorn --preload builds the app once, then forks its workers: threads do not survive a fork, so each
    # worker starts its own ledger writer as it is forked (and, without --preload, at its first request).
    os.register_at_fork(after_in_child=writer.after_fork)
    app = SlackWSGIApp(
        bolt_app,
        deps.db,
        signing_secret=settings.slack_signing_secret or "",  # required above
        in_each_process=writer.ensure_started,
        on_close=writer.stop,
    )
    settle_startup_objects()
    return app


class WriterPerProcess:
    """One ledger writer per serving process, started once per pid and stopped when the process exits."""

    def __init__(self, deps: Deps, client: WebClient) -> None:
        self._deps = deps
        self._client = client
        self._builder_pid = os.getpid()
        self._started_pid: int | None = None
        self._writer: LedgerWriter | None = None
        self._lock = threading.Lock()

    def after_fork(self) -> None:
        self._lock = threading.Lock()  # a lock some thread held at the fork would stay held in the child
        # A worker gunicorn forked, not a process one of them forked, nor a multiprocessing child.
        if os.getppid() == self._builder_pid and multiprocessing.parent_process() is None:
            self._deps.db.engine.dispose(close=False)  # connections opened before the fork belong to the parent
            self.ensure_started()

    def ensure_started(self) -> None:
        if self._started_pid == os.getpid():
            return
        with self._lock:
            if self._started_pid == os.getpid():
                return
            self._started_pid = os.getpid()
            self._writer = start_ledger_writer(self._deps, self._client)
            atexit.register(self._writer.stop)

    def stop(self) -> None:
        if self._writer is not None and self._started_pid == os.getpid():
            self._writer.stop()
            self._writer = None


def start_ledger_writer(deps: Deps, client: WebClient) -> LedgerWriter:
    """Start this process's ledger writer, with Slack follow-ups (burst notes, history imports) on `client`."""
    return LedgerWriter(deps, after_ledger(deps, client)).start()


def settle_startup_objects() -> None:
    """Keep what start-up built (modules, Bolt, SQLAlchemy's metadata) out of every later full collection.

    Those 100,000-odd objects live as long as the process, yet Python's cyclic collector walks them all in
    each full collection (50-70 ms on a 2-core machine), and ranking a team of thousands allocates enough to
    set one off every other request: `/coach me` took 60 ms or 120 ms by turns (docs/performance.md). Once
    frozen the collector no longer writes to them either, so the workers gunicorn forks (--preload) keep
    sharing their pages.
    """
    gc.collect()
    gc.freeze()
