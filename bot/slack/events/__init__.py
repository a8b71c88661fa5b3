"""Events API listeners, one module per kind of event; every subscribed event has a listener here."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.slack.events import channels, home, lifecycle, members, messages, reactions

MODULES = (messages, reactions, channels, home, members, lifecycle)  # the busiest first (bot.slack.register_surfaces)


def register(app: App, deps: Deps) -> None:
    for module in MODULES:
        module.register(app, deps)
