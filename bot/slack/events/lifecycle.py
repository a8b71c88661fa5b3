"""App lifecycle events: when a workspace uninstalls the app or revokes its bot token, forget it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.deps import Deps
from bot.services.teams import forget_workspace

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    def handle_uninstalled(body: dict[str, Any]) -> None:
        """Delete the workspace's data: we keep nothing after an uninstall."""
        if team_id := body.get("team_id"):
            forget_workspace(deps, team_id)
            log.info("forgot workspace %s after app_uninstalled", team_id)

    def handle_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        """A revoked bot token means the bot can no longer act there: forget the workspace too.

        Revoked user tokens alone change nothing: we never hold any.
        """
        team_id = body.get("team_id")
        if team_id and event.get("tokens", {}).get("bot"):
            forget_workspace(deps, team_id)
            log.info("forgot workspace %s after tokens_revoked", team_id)

    app.event("app_uninstalled")(handle_uninstalled)
    app.event("tokens_revoked")(handle_tokens_revoked)
