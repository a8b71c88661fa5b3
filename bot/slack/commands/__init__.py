"""The /coach slash command: parse the text once, hand the typed command to its handler, answer.

Each feature module (ledger, standings, coaching, history) exports `HANDLERS`, a mapping from a command
type of `bot.coach.commands` to a function `handler(command, ctx) -> Reply | None`. Handlers stay thin:
call one service, render with a `build_*` function, return the reply. The answer goes back in the
HTTP response itself (ack with a body), which keeps it well inside Slack's 3 seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.coach.commands import COMMAND, CommandError, ShowHelp, help_text, parse_command
from bot.deps import Deps
from bot.services.errors import Refusal
from bot.slack.blocks import Block, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandContext:
    """Who asked, where, and the means to answer beyond the immediate reply."""

    team_id: str
    user_id: str
    channel_id: str
    trigger_id: str
    deps: Deps
    client: WebClient
    respond: Respond


@dataclass(frozen=True)
class Reply:
    """The immediate answer: ephemeral unless `public`; `text` is the fallback for `blocks`."""

    text: str
    blocks: list[Block] = field(default_factory=list)
    public: bool = False

    @classmethod
    def of(cls, message: Message, *, public: bool = False) -> Reply:
        """The reply that shows a built message (blocks plus its plain-text fallback)."""
        return cls(message.text, message.blocks, public)


Handler = Callable[[Any, CommandContext], Reply | None]


def handle_help(_command: ShowHelp, _ctx: CommandContext) -> Reply:
    return Reply(help_text())


def collect_handlers() -> Mapping[type, Handler]:
    """Every feature's handlers, keyed by command type (a test holds this to the grammar's command types)."""
    handlers: dict[type, Handler] = {ShowHelp: handle_help}
    for module in _feature_modules():
        handlers.update(module.HANDLERS)
    return handlers


def _feature_modules() -> tuple[Any, ...]:
    """The modules that own /coach subcommands; imported late so importing this package stays cheap."""
    from bot.slack.commands import coaching, history, ledger, standings

    return (ledger, history, coaching, standings)


def register(app: App, deps: Deps) -> None:
    handlers = collect_handlers()

    def handle_coach(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        """Parse, dispatch, answer; a mistake in the text gets a kind ephemeral explanation."""
        ctx = CommandContext(
            team_id=command.get("team_id", ""),
            user_id=command.get("user_id", ""),
            channel_id=command.get("channel_id", ""),
            trigger_id=command.get("trigger_id", ""),
            deps=deps,
            client=client,
            respond=respond,
        )
        try:
            parsed = parse_command(command.get("text") or "")
            reply = handlers[type(parsed)](parsed, ctx)
        except (CommandError, Refusal) as refusal:
            ack(response_type="ephemeral", text=str(refusal))
            return
        if reply is None:
            ack()
        else:
            ack(
                response_type="in_channel" if reply.public else "ephemeral",
                text=reply.text,
                blocks=reply.blocks or None,
            )

    app.command(COMMAND)(handle_coach)
