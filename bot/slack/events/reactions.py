"""Emoji on shared links: reaction_added is a like given and received, reaction_removed takes it back."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.deps import Deps
from bot.services.ingest import EventEnvelope, receive_event


def register(app: App, deps: Deps) -> None:
    def handle_reaction(body: dict[str, Any], context: BoltContext) -> None:
        """Store the event, then count it (one like per member per message, however many emoji)."""
        envelope = EventEnvelope.from_body(body, context.bot_user_id)
        if envelope is not None:
            receive_event(deps, envelope)

    app.event("reaction_added")(handle_reaction)
    app.event("reaction_removed")(handle_reaction)
