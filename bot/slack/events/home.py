"""app_home_opened: publish the member's dashboard each time they open the Home tab.

Two Slack calls per open, whatever the team's size: which private channels the member is in (before the
database is read, so no transaction waits on Slack), then views.publish.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.home import home_view
from bot.services.members import shared_private_channels
from bot.slack.blocks.home import build_home


def register(app: App, deps: Deps) -> None:
    def handle_app_home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        """Only the Home tab has a view to publish; opening the Messages tab needs nothing from us."""
        user_id = event.get("user")
        team_id = body.get("team_id")
        if event.get("tab") != "home" or not user_id or not team_id:
            return
        private_channels = shared_private_channels(client, user_id)
        view = home_view(deps, team_id, user_id, private_channels=private_channels)
        client.views_publish(user_id=user_id, view=build_home(view))

    app.event("app_home_opened")(handle_app_home_opened)
