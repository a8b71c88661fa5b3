"""/coach log, optout, optin, undo and export: each handler calls one ledger service and renders its answer."""

from __future__ import annotations

from bot.coach.commands import Export, LogAction, OpenLogModal, OptIn, OptOut, Undo
from bot.services.ledger import (
    check_can_log,
    export_csv,
    export_rows,
    log_action,
    opt_in,
    opt_out_preview,
    undo_last,
)
from bot.slack.blocks import Message
from bot.slack.blocks.ledger import (
    EXPORT_FILENAME,
    EXPORT_TITLE,
    build_export_comment,
    build_export_sent,
    build_log_modal,
    build_logged,
    build_nothing_to_export,
    build_opt_out_confirmation,
    build_opted_in,
    build_undone,
)
from bot.slack.commands import CommandContext, Handler, Reply


def _reply(message: Message) -> Reply:
    return Reply(message.text, message.blocks)


def handle_log(command: LogAction, ctx: CommandContext) -> Reply:
    return _reply(build_logged(log_action(ctx.deps, ctx.team_id, ctx.user_id, command)))


def handle_open_log_modal(_command: OpenLogModal, ctx: CommandContext) -> None:
    """Open the form while the trigger_id is fresh (it lasts 3 seconds and works once)."""
    check_can_log(ctx.deps, ctx.team_id, ctx.user_id)
    ctx.client.views_open(trigger_id=ctx.trigger_id, view=build_log_modal(ctx.channel_id))


def handle_opt_out(_command: OptOut, ctx: CommandContext) -> Reply:
    """Only ask: the data goes when the member presses the confirmation button (bot.slack.actions.ledger)."""
    return _reply(build_opt_out_confirmation(opt_out_preview(ctx.deps, ctx.team_id, ctx.user_id)))


def handle_opt_in(_command: OptIn, ctx: CommandContext) -> Reply:
    return _reply(build_opted_in(opt_in(ctx.deps, ctx.team_id, ctx.user_id)))


def handle_undo(_command: Undo, ctx: CommandContext) -> Reply:
    return _reply(build_undone(undo_last(ctx.deps, ctx.team_id, ctx.user_id)))


def handle_export(_command: Export, ctx: CommandContext) -> Reply:
    """Send the member's own rows as a CSV file in a DM; the read is done before Slack is called."""
    rows = export_rows(ctx.deps, ctx.team_id, ctx.user_id)
    if not rows:
        return _reply(build_nothing_to_export())
    dm = ctx.client.conversations_open(users=ctx.user_id)["channel"]["id"]
    ctx.client.files_upload_v2(
        channel=dm,
        content=export_csv(rows),
        filename=EXPORT_FILENAME,
        title=EXPORT_TITLE,
        initial_comment=build_export_comment(len(rows)).text,
    )
    return _reply(build_export_sent(len(rows)))


HANDLERS: dict[type, Handler] = {
    LogAction: handle_log,
    OpenLogModal: handle_open_log_modal,
    OptOut: handle_opt_out,
    OptIn: handle_opt_in,
    Undo: handle_undo,
    Export: handle_export,
}
