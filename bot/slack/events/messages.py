"""Messages in channels the bot is in: shared links, thread replies, edits (the unfurl too) and deletions.

One listener for every message event, whatever its subtype: Bolt answers an unmatched event with a 404,
which Slack would retry. The service decides what a message is worth; bot messages, joins and the
other subtypes change nothing.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.ingest import EventEnvelope, receive_event
from bot.services.nudges import burst_note_if_due


def register(app: App, deps: Deps) -> None:
    def handle_message(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """Store the event, then count it; Slack gets its 200 only after both (process_before_response).

        New links may earn their author a private note about bursts, sent after the ledger committed.
        """
        envelope = EventEnvelope.from_body(body, context.bot_user_id)
        if envelope is None:
            return
        outcome = receive_event(deps, envelope)
        if outcome.links_added and outcome.user_id and outcome.channel_id:
            burst_note_if_due(deps, client, envelope.team_id, outcome.user_id, outcome.channel_id, deps.now())

    app.event("message")(handle_message)
