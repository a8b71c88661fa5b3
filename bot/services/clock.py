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
from bot.services.inbox import PruneReport, prune
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


def prune_inbox(deps: Deps, _client: WebClient) -> PruneReport:
    """Forget what the inbox no longer needs: applied deliveries past Slack's retry window, old message versions.

    The ledger writers apply deliveries as they come (bot.services.inbox); the clock only tidies up after them.
    """
    report = prune(deps)
    if report.deliveries or report.message_states or report.reactions:
        log.info(
            "pruned %d applied deliveries, %d message versions, %d emoji on plain messages",
            report.deliveries,
            report.message_states,
            report.reactions,
        )
    return report
