"""The nudge DM's buttons: "Snooze for a week" and "Stop these". Each one says what it did in place of the nudge."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.nudges import snooze_nudges, stop_nudges
from bot.slack.blocks import Message
from bot.slack.blocks.reminders import (
    SNOOZE_NUDGES_ACTION,
    STOP_NUDGES_ACTION,
    build_nudges_snoozed,
    build_nudges_stopped,
)


def _who(body: dict[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return team_id, user.get("id", "")


def _replace_nudge(client: WebClient, body: dict[str, Any], message: Message) -> None:
    """Swap the nudge (and its buttons) for the confirmation, so the choice cannot be clicked twice."""
    container = body.get("container") or {}
    client.chat_update(
        channel=container.get("channel_id"), ts=container.get("message_ts"), text=message.text, blocks=message.blocks
    )


def register(app: App, deps: Deps) -> None:
    def handle_snooze(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = _who(body)
        until = snooze_nudges(deps, team_id, user_id)
        _replace_nudge(client, body, build_nudges_snoozed(until))

    def handle_stop(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        team_id, user_id = _who(body)
        stop_nudges(deps, team_id, user_id)
        _replace_nudge(client, body, build_nudges_stopped())

    app.action(SNOOZE_NUDGES_ACTION)(handle_snooze)
    app.action(STOP_NUDGES_ACTION)(handle_stop)
