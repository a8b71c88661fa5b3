"""Interactivity listeners: buttons (block_actions) and modal submissions (view_submission)."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.slack.actions import home, ledger, nudges

MODULES: tuple = (ledger, nudges, home)


def register(app: App, deps: Deps) -> None:
    for module in MODULES:
        module.register(app, deps)
