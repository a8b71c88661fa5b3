"""`run_due(now)`: everything the clock owes every workspace at one instant, each message sent once.

The clock process, the Socket Mode process and `python -m bot run-due --at` all call this one function.
It is safe to call as often as anyone likes, from as many processes as run: every job asks the pure
rules what is due at `now` and leaves the "only once" to bot.services.deliveries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import select

from bot.deps import Deps
from bot.services.deliveries import Delivered, Result
from bot.services.history import backfill_channel
from bot.services.ingest import ReplayReport, replay_unprocessed
from bot.services.nudges import send_nudges
from bot.services.reminders import send_waiting_reminder
from bot.services.summary import send_weekly_summary
from bot.store.models import Team

log = logging.getLogger(__name__)

Job = Callable[[Deps, WebClient, str, datetime], list[Delivered]]
JOBS: tuple[Job, ...] = (send_weekly_summary, send_waiting_reminder, send_nudges)


def run_due(deps: Deps, client: WebClient, now: datetime) -> list[Delivered]:
    """Run every job for every workspace at `now`; return what each did (sent, recovered, refused, unconfirmed...).

    This is the clock's one error handler: a job that fails for one workspace is logged with its
    traceback and the others still run; its claim, if any, is settled by a later tick.
    """
    if now.utcoffset() is None:
        raise ValueError(f"{now!r} has no time zone; run_due needs an aware instant")
    with deps.db.session() as session:
        team_ids = list(session.scalars(select(Team.id).order_by(Team.id)))
    outcomes: list[Delivered] = []
    for team_id in team_ids:
        for job in JOBS:
            try:
                outcomes.extend(d for d in job(deps, client, team_id, now) if d.result is not Result.NOT_OURS)
            except Exception:
                log.exception("%s failed for %s at %s", job.__name__, team_id, now.isoformat())
    for outcome in outcomes:
        log.info("%s %s for %s (%s)", outcome.result, outcome.key, outcome.team_id, outcome.message_ts or outcome.error)
    return outcomes


def replay_stored_events(deps: Deps, client: WebClient) -> ReplayReport:
    """Apply events that were stored but never processed (a crash mid-listener), then catch up history.

    An event is stored before Slack gets its 200, so one whose processing died is still here; replaying it
    is safe because ingestion is idempotent. A replayed bot join also gets the history import it missed.
    """
    report = replay_unprocessed(deps)
    for team_id, channel_id in report.bot_joined:
        try:
            backfill_channel(deps, client, team_id, channel_id)
        except Exception:
            log.exception("history import for %s in %s failed; /coach backfill can retry it", channel_id, team_id)
    if report.replayed or report.failed:
        log.info("replayed %d stored events (%d failed), pruned %d", report.replayed, report.failed, report.pruned)
    return report
