"""user_change: Slack deactivated a member (or brought them back); from then on they are never named in public.

Stored in the inbox without the profile Slack sends along; the ledger writer sets the member's flag.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.deps import Deps
from bot.services.inbox import accept
from bot.services.ingest import EventEnvelope


def register(app: App, deps: Deps) -> None:
    def handle_user_change(body: dict[str, Any], context: BoltContext) -> None:
        envelope = EventEnvelope.from_body(body, context.bot_user_id)
        if envelope is not None:
            accept(deps, envelope)

    app.event("user_change")(handle_user_change)
