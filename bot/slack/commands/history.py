"""/coach backfill [#channel] [days] (admins): count a channel's recent history, read in the background."""

from __future__ import annotations

from bot.coach.commands import Backfill
from bot.services.history import check_backfill_channel, check_can_backfill
from bot.slack.blocks import Message
from bot.slack.blocks.history import build_backfill_busy, build_backfill_started
from bot.slack.commands import CommandContext, Handler, Reply
from bot.slack.events.channels import start_backfill


def handle_backfill(command: Backfill, ctx: CommandContext) -> Reply:
    """Check, start the import, answer; the result arrives later through response_url."""
    channel_id = command.channel_id or ctx.channel_id
    check_backfill_channel(channel_id)
    check_can_backfill(ctx.deps, ctx.client, ctx.team_id, ctx.user_id)

    def tell(message: Message) -> None:
        ctx.respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)

    started = start_backfill(ctx.deps, ctx.client, ctx.team_id, channel_id, command.days, tell=tell)
    return Reply.of(build_backfill_started(channel_id, command.days) if started else build_backfill_busy(channel_id))


HANDLERS: dict[type, Handler] = {Backfill: handle_backfill}
