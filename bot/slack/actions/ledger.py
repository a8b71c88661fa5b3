"""The ledger's interactivity: the log form's submission and the opt-out confirmation buttons."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.coach.commands import FieldErrors, validate_log_fields
from bot.deps import Deps
from bot.services.errors import Refusal
from bot.services.ledger import log_action, opt_out
from bot.slack.blocks import Message
from bot.slack.blocks.ledger import (
    FIELD_BLOCKS,
    LOG_MODAL_CALLBACK_ID,
    OPT_OUT_CANCEL_ACTION,
    OPT_OUT_CONFIRM_ACTION,
    build_logged,
    build_opt_out_cancelled,
    build_opted_out,
    read_log_form,
)

# Errors meaning the bot cannot post in the channel the form came from (not a member, a DM between
# people, archived since): the member then gets the answer in their DM with the bot instead.
_CHANNEL_UNREACHABLE = frozenset({"channel_not_found", "not_in_channel", "user_not_in_channel", "is_archived"})


def tell_privately(client: WebClient, channel_id: str | None, user_id: str, message: Message) -> None:
    """Show `message` to the member only: ephemeral where they typed /coach, else in their DM with the bot."""
    if channel_id:
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=message.text, blocks=message.blocks)
            return
        except SlackApiError as error:
            if error.response.get("error") not in _CHANNEL_UNREACHABLE:
                raise
    client.chat_postMessage(channel=user_id, text=message.text, blocks=message.blocks)


def register(app: App, deps: Deps) -> None:
    def handle_log_submission(ack: Ack, view: dict, context: BoltContext, client: WebClient) -> None:
        """Validate like `/coach log` does; a problem goes back under its own field and the form stays open."""
        form = read_log_form(view)
        user_id = context.user_id or ""
        try:
            action = validate_log_fields(form.kind, form.url, form.note)
        except FieldErrors as problems:
            ack(response_action="errors", errors={FIELD_BLOCKS[name]: text for name, text in problems.errors.items()})
            return
        ack()
        try:
            message = build_logged(log_action(deps, context.team_id or "", user_id, action))
        except Refusal as refusal:
            message = Message(str(refusal))
        tell_privately(client, form.channel_id, user_id, message)

    def handle_opt_out_confirm(ack: Ack, context: BoltContext, respond: Respond) -> None:
        """The member pressed "Yes, delete my data" on their own ephemeral prompt: delete, then say so there."""
        ack()
        message = build_opted_out(opt_out(deps, context.team_id or "", context.user_id or ""))
        respond(replace_original=True, text=message.text, blocks=message.blocks)

    def handle_opt_out_cancel(ack: Ack, respond: Respond) -> None:
        ack()
        message = build_opt_out_cancelled()
        respond(replace_original=True, text=message.text, blocks=message.blocks)

    app.view(LOG_MODAL_CALLBACK_ID)(handle_log_submission)
    app.action(OPT_OUT_CONFIRM_ACTION)(handle_opt_out_confirm)
    app.action(OPT_OUT_CANCEL_ACTION)(handle_opt_out_cancel)
