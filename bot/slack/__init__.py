"""The Slack surfaces: commands, events, actions (buttons and modals) and the App Home.

Each surface is a package whose modules each have `register(app, deps)`; this is the one place that
wires them all, and the manifest test holds the resulting listeners to manifest.yml.
"""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps


def register_surfaces(app: App, deps: Deps) -> None:
    from bot.slack import actions, commands, events

    # Bolt tries listeners in the order they were registered: the busiest (messages, reactions) go first.
    for surface in (events, commands, actions):
        surface.register(app, deps)
