"""/coach leaderboard and /coach me: each handler calls one standings service and renders its answer."""

from __future__ import annotations

from bot.coach.commands import ShowLeaderboard, ShowMe
from bot.services.members import shared_private_channels
from bot.services.standings import leaderboard, me
from bot.slack.blocks.leaderboard import build_leaderboard
from bot.slack.blocks.me import build_me
from bot.slack.commands import CommandContext, Handler, Reply


def handle_leaderboard(command: ShowLeaderboard, ctx: CommandContext) -> Reply:
    """Ephemeral unless `public`: then it goes to the channel as the command's own answer."""
    standings = leaderboard(ctx.deps, ctx.team_id, command.period)
    message = build_leaderboard(standings, ctx.user_id, public=command.public)
    return Reply(message.text, message.blocks, public=command.public)


def handle_me(command: ShowMe, ctx: CommandContext) -> Reply:
    """Ephemeral, but shown in a channel: a suggested link comes from a public channel or one the member is in."""
    private_channels = shared_private_channels(ctx.client, ctx.user_id)
    standing = me(ctx.deps, ctx.team_id, ctx.user_id, command.period, private_channels=private_channels)
    message = build_me(standing, ctx.deps.now())
    return Reply(message.text, message.blocks)


HANDLERS: dict[type, Handler] = {ShowLeaderboard: handle_leaderboard, ShowMe: handle_me}
