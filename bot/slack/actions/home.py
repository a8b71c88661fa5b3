"""The App Home's buttons: nudge switches (then the Home tab is published again) and the links' Open buttons."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.home import NudgeSwitch, switch_nudges
from bot.services.members import shared_private_channels
from bot.slack.blocks.home import OPEN_LINK_ACTION, SWITCH_ACTIONS, build_home


def register(app: App, deps: Deps) -> None:
    def switch_handler(switch: NudgeSwitch) -> Callable[[Ack, BoltContext, WebClient], None]:
        def handle_switch(ack: Ack, context: BoltContext, client: WebClient) -> None:
            """Acknowledge at once, flip the switch, and show the Home tab as it now stands."""
            ack()
            user_id = context.user_id or ""
            private_channels = shared_private_channels(client, user_id)
            view = switch_nudges(deps, context.team_id or "", user_id, switch, private_channels=private_channels)
            client.views_publish(user_id=user_id, view=build_home(view))

        return handle_switch

    def handle_open_link(ack: Ack) -> None:
        """A URL button opens the link in the browser by itself; Slack still expects the click acknowledged."""
        ack()

    for switch, action_id in SWITCH_ACTIONS.items():
        app.action(action_id)(switch_handler(switch))
    app.action(OPEN_LINK_ACTION)(handle_open_link)
