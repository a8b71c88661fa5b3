"""The clock: a `schedule.Scheduler` of our own that calls `run_due(now)` at the top of every minute.

`python -m bot clock` runs it in the foreground (the Procfile's clock process); Socket Mode runs it in a
background thread beside the Slack connection. Both may run at once, and several clock processes too:
run_due sends each message once whoever calls it. The first tick runs at start-up, so a restart
catches up at once instead of waiting for the next minute.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

import schedule
from slack_sdk import WebClient

from bot.config import WHERE_TO_GET, ConfigError, Settings
from bot.deps import Deps
from bot.services.clock import prune_inbox, run_due
from bot.services.deliveries import Delivered
from bot.slack.client import make_web_client

log = logging.getLogger(__name__)

LONGEST_WAIT_SECONDS = 60.0
PRUNE_EVERY_MINUTES = 5  # the inbox, tidied after the ledger writers


class Ticker:
    """Call `tick` now and at second :00 of every minute until `stop()`; a failing tick is logged, not fatal."""

    def __init__(self, tick: Callable[[], object]) -> None:
        self._tick = tick
        self._stopped = threading.Event()
        self.scheduler = schedule.Scheduler()
        self.scheduler.every().minute.at(":00").do(self._run_tick)

    def _run_tick(self) -> None:
        self._run_safely(self._tick, "clock tick")

    @staticmethod
    def _run_safely(job: Callable[[], object], what: str) -> None:
        try:
            job()
        except Exception:
            log.exception("%s failed; the next one will catch up", what)

    def every_minutes(self, minutes: int, job: Callable[[], object]) -> None:
        """Also run `job` every `minutes` (housekeeping that is not tied to an instant)."""
        self.scheduler.every(minutes).minutes.do(self._run_safely, job, "clock housekeeping")

    def run(self) -> None:
        """Tick until stopped; blocks the calling thread."""
        self._run_tick()
        while not self._stopped.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            self._stopped.wait(min(max(idle if idle is not None else 1.0, 0.0), LONGEST_WAIT_SECONDS))

    def start(self) -> threading.Thread:
        """Run in a daemon thread (beside Socket Mode) and return it."""
        thread = threading.Thread(target=self.run, name="more-social-clock", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stopped.set()


def clock_ticker(deps: Deps, client: WebClient) -> Ticker:
    ticker = Ticker(lambda: run_due(deps, client, deps.now()))
    ticker.every_minutes(PRUNE_EVERY_MINUTES, lambda: prune_inbox(deps, client))
    return ticker


def require_bot_token(settings: Settings) -> None:
    """The clock only posts, so it needs the bot token and nothing else (no signing secret)."""
    if not settings.slack_bot_token:
        raise ConfigError(
            "The clock can't post to Slack: SLACK_BOT_TOKEN is not set.\n"
            f"  SLACK_BOT_TOKEN: {WHERE_TO_GET['SLACK_BOT_TOKEN']}"
        )


def _clock_deps(settings: Settings) -> tuple[Deps, WebClient]:
    from bot.runtime import open_database

    require_bot_token(settings)
    return Deps(settings=settings, db=open_database(settings)), make_web_client(settings)


def run_clock(settings: Settings) -> int:
    """`python -m bot clock`: tick in the foreground until SIGTERM or Ctrl-C."""
    deps, client = _clock_deps(settings)
    ticker = clock_ticker(deps, client)
    signal.signal(signal.SIGTERM, lambda *_: ticker.stop())
    log.info("More Social's clock is running: reminders, nudges and the weekly summary")
    try:
        ticker.run()
    finally:
        deps.db.dispose()
    return 0


def run_due_at(settings: Settings, at: datetime) -> list[Delivered]:
    """`python -m bot run-due --at ...`: do what was due at `at`, once, and return what happened."""
    deps, client = _clock_deps(settings)
    try:
        return run_due(deps, client, at)
    finally:
        deps.db.dispose()


def describe(outcome: Delivered) -> str:
    """One line per outcome, for operators."""
    where = f" in {outcome.channel_id}" if outcome.channel_id else ""
    detail = f" (ts {outcome.message_ts})" if outcome.message_ts else f" ({outcome.error})" if outcome.error else ""
    return f"{outcome.result}: {outcome.key} for {outcome.team_id}{where}{detail}"
