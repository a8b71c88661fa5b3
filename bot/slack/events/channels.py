"""The bot joining a channel: remember it and import its last two weeks, without holding up Slack's answer.

Someone else joining changes nothing (but still gets its 200). The bot's own arrival is stored in the inbox;
once the ledger writer applied it, `bot.slack.after_ledger` starts the import on `BACKFILLS`, a pool of one
worker shared with `/coach backfill`, so a flood of invitations never floods Slack's rate limits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.services.history import HISTORY_DAYS, BackgroundJobs, backfill_channel, backfill_key
from bot.services.inbox import accept
from bot.services.ingest import EventEnvelope
from bot.slack.blocks import Message
from bot.slack.blocks.history import build_backfill_done, build_backfill_failed

log = logging.getLogger(__name__)

BACKFILLS = BackgroundJobs(max_workers=1, name="backfill")


def start_backfill(
    deps: Deps,
    client: WebClient,
    team_id: str,
    channel_id: str,
    days: int = HISTORY_DAYS,
    *,
    tell: Callable[[Message], None] | None = None,
) -> bool:
    """Import the channel's recent history in the background; False if an import of it is already going.

    `tell` hears how it went (the admin who ran `/coach backfill`); without it, the log does.
    """

    def job() -> None:
        try:
            report = backfill_channel(deps, client, team_id, channel_id, days)
        except SlackApiError as error:
            code = error.response.get("error")
            log.warning("could not import the history of %s: %s", channel_id, code)
            if tell is not None:
                tell(build_backfill_failed(channel_id, code))
            return
        log.info("imported %d messages of %s (%d new entries)", report.messages, channel_id, report.new_entries)
        if tell is not None:
            tell(build_backfill_done(report))

    return BACKFILLS.submit(backfill_key(team_id, channel_id), job)


def register(app: App, deps: Deps) -> None:
    def handle_member_joined(body: dict[str, Any], context: BoltContext) -> None:
        """Only the bot's own arrival is stored: it sets the summary's default channel and starts the import."""
        envelope = EventEnvelope.from_body(body, context.bot_user_id)
        if envelope is not None:
            accept(deps, envelope)

    app.event("member_joined_channel")(handle_member_joined)
