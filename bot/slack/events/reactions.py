"""Emoji on shared links: reaction_added is a like given and received, reaction_removed takes it back.

Stored in the inbox, applied by the ledger writer (one like per member per message, however many emoji).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.deps import Deps
from bot.services.inbox import accept
from bot.services.ingest import EventEnvelope


def register(app: App, deps: Deps) -> None:
    def handle_reaction(body: dict[str, Any], context: BoltContext) -> None:
        envelope = EventEnvelope.from_body(body, context.bot_user_id)
        if envelope is not None:
            accept(deps, envelope)

    app.event("reaction_added")(handle_reaction)
    app.event("reaction_removed")(handle_reaction)
