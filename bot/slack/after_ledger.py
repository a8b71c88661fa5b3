"""What the ledger writer's applied deliveries call for in Slack, once their transaction committed.

A member who just shared a burst of links may get a private note; a channel the bot was added to gets its
recent history imported. Both run on the writer's follow-up thread (bot.services.inbox.LedgerWriter), with
slack-sdk's retry handlers, and open their own short sessions: no transaction waits on Slack.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.inbox import Applied, FollowUp
from bot.services.nudges import burst_note_if_due
from bot.slack.events.channels import start_backfill


def after_ledger(deps: Deps, client: WebClient) -> FollowUp:
    def follow_up(applied: Sequence[Applied]) -> None:
        noted: set[tuple[str, str, str]] = set()
        for item in applied:
            outcome = item.outcome
            if outcome.links_added and outcome.user_id and outcome.channel_id:
                who = (item.team_id, outcome.user_id, outcome.channel_id)
                if who not in noted:  # one look per member and channel per batch: the note is once a day anyway
                    noted.add(who)
                    burst_note_if_due(deps, client, item.team_id, outcome.user_id, outcome.channel_id, deps.now())
            if outcome.bot_joined_channel:
                start_backfill(deps, client, item.team_id, outcome.bot_joined_channel)

    return follow_up
