"""`/coach settings` and `/coach summary`: the team's coaching settings and a private preview of the summary."""

from __future__ import annotations

from bot.coach.commands import ChangeSetting, PreviewSummary, ShowSettings
from bot.services.settings_service import change_setting, show_settings
from bot.services.summary import preview_summary
from bot.slack.blocks.settings import build_setting_changed, build_settings
from bot.slack.blocks.summary import build_summary
from bot.slack.commands import CommandContext, Handler, Reply


def handle_show_settings(_command: ShowSettings, ctx: CommandContext) -> Reply:
    view = show_settings(ctx.deps, ctx.client, ctx.team_id, ctx.user_id)
    return Reply.of(build_settings(view.rows, can_change=view.can_change, first_channel_id=view.first_channel_id))


def handle_change_setting(command: ChangeSetting, ctx: CommandContext) -> Reply:
    changed = change_setting(ctx.deps, ctx.client, ctx.team_id, ctx.user_id, command.name, command.value)
    return Reply.of(build_setting_changed(changed.name, changed.shown))


def handle_preview_summary(_command: PreviewSummary, ctx: CommandContext) -> Reply:
    preview = preview_summary(ctx.deps, ctx.team_id)
    return Reply.of(build_summary(preview.facts, preview=True, channel_id=preview.channel_id))


HANDLERS: dict[type, Handler] = {
    ShowSettings: handle_show_settings,
    ChangeSetting: handle_change_setting,
    PreviewSummary: handle_preview_summary,
}
