"""Messages in channels the bot is in: shared links, thread replies, edits (the unfurl too) and deletions.

One listener for every message event, whatever its subtype: Bolt answers an unmatched event with a 404,
which Slack would retry. The listener only stores the delivery in the inbox (Slack's 200 waits for that and
nothing else); the ledger writer decides what it is worth (bot.services.inbox, bot.services.ingest).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.deps import Deps
from bot.services.inbox import accept
from bot.services.ingest import EventEnvelope


def register(app: App, deps: Deps) -> None:
    def handle_message(body: dict[str, Any], context: BoltContext) -> None:
        """Store the delivery; bot messages, joins and plain chatter are not even stored."""
        envelope = EventEnvelope.from_body(body, context.bot_user_id)
        if envelope is not None:
            accept(deps, envelope)

    app.event("message")(handle_message)
