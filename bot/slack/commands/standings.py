"""/coach leaderboard and /coach me: each handler calls one standings service and renders its answer."""

from __future__ import annotations

from bot.coach.commands import ShowLeaderboard, ShowMe
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
    message = build_me(me(ctx.deps, ctx.team_id, ctx.user_id, command.period), ctx.deps.now())
    return Reply(message.text, message.blocks)


HANDLERS: dict[type, Handler] = {ShowLeaderboard: handle_leaderboard, ShowMe: handle_me}
