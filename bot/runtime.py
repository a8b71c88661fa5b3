"""Assemble the running bot from settings: database (migrated on SQLite), Bolt app, WSGI app."""

from __future__ import annotations

import gc
import logging

from slack_bolt import App

from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps
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


def build_bolt_app(settings: Settings) -> tuple[App, Deps]:
    settings.require_slack()
    deps = Deps(settings=settings, db=open_database(settings))
    return create_app(deps), deps


def build_wsgi_app(settings: Settings) -> SlackWSGIApp:
    bolt_app, deps = build_bolt_app(settings)
    app = SlackWSGIApp(bolt_app, deps.db)
    settle_startup_objects()
    return app


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
