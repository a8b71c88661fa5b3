"""What the ledger says in Slack: log confirmations, undo, opt-out and opt-in, export, and the log form.

Pure builders over the ledger service's facts. A member's note is plain text, so it is escaped before it
goes into mrkdwn; the ids below are shared with the listeners that register them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.coach.commands import MAX_NOTE_LENGTH
from bot.coach.kinds import LOGGABLE_KINDS, Kind, Platform
from bot.coach.urls import MAX_URL_LENGTH
from bot.services.ledger import LoggedAction, LogResult, OptOutPreview, UndoResult, WeekBalance
from bot.slack.blocks import Block, Message, actions, button, context, escape, plain, plural, section

LOG_MODAL_CALLBACK_ID = "ledger_log_modal"
KIND_BLOCK, KIND_ACTION = "ledger_log_kind", "kind"
URL_BLOCK, URL_ACTION = "ledger_log_url", "url"
NOTE_BLOCK, NOTE_ACTION = "ledger_log_note", "note"
# validate_log_fields names the fields it rejects; the modal shows each error under its own block.
FIELD_BLOCKS: Mapping[str, str] = {"kind": KIND_BLOCK, "url": URL_BLOCK, "note": NOTE_BLOCK}

OPT_OUT_BLOCK = "ledger_optout"
OPT_OUT_CONFIRM_ACTION = "ledger_optout_confirm"
OPT_OUT_CANCEL_ACTION = "ledger_optout_cancel"

EXPORT_FILENAME = "more-social-export.csv"
EXPORT_TITLE = "More Social export"

MAX_NOTE_SHOWN = 80

KIND_DESCRIPTIONS: Mapping[Kind, str] = {
    Kind.POST: "Your own post, tweet, article, video or check-in",
    Kind.REPLY: "Replied to someone",
    Kind.COMMENT: "Commented on someone else's post or blog",
    Kind.ANSWER: "Answered a follower's or customer's question",
    Kind.SHARE: "Shared or reposted someone else's work",
    Kind.LIKE: "Liked someone's post",
    Kind.FOLLOW: "Followed someone",
}
PLATFORM_NAMES: Mapping[Platform, str] = {
    Platform.X: "X",
    Platform.LINKEDIN: "LinkedIn",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.YOUTUBE: "YouTube",
    Platform.TIKTOK: "TikTok",
    Platform.MASTODON: "Mastodon",
    Platform.SLACK: "Slack",
}


def _quoted_note(note: str) -> str:
    """The member's note on one line, shortened and escaped (it is plain text; this is mrkdwn)."""
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_SHOWN:
        note = note[: MAX_NOTE_SHOWN - 1] + "…"
    return f"“{escape(note)}”"


def describe_action(action: LoggedAction) -> str:
    """What was recorded, in the member's terms: `your *reply* on X (x.com/ana): “thanked her”`."""
    text = f"your *{action.kind}*"
    if action.url:
        name = PLATFORM_NAMES.get(action.platform)
        if name is None:  # a blog or any other site: its host says it best
            text += f" on {escape(action.counterpart)}"
        else:
            text += f" on {name}"
            if "/" in action.counterpart:  # a handle, not just the host
                text += f" ({escape(action.counterpart)})"
    if action.note:
        text += f": {_quoted_note(action.note)}"
    return text


def describe_balance(balance: WeekBalance) -> str:
    """This week's given vs. pushed as `/coach me` counts them, with one kind next step when posts are ahead."""
    if balance.given == 0 and balance.pushed == 0:
        return "Nothing counted for you this week yet."
    counts = f"This week: *{balance.given} given*, {plural(balance.pushed, 'post')}"
    if balance.capped_light:
        left_out = plural(balance.capped_light, "like or follow", "likes and follows")
        counts += f" (the daily cap leaves out {left_out})"
    if balance.on_target:
        return (
            f"{counts} — giving first, which is exactly the idea."
            if balance.pushed == 0
            else f"{counts} — a lovely balance."
        )
    more = plural(balance.actions_to_target, "more reply or comment", "more replies or comments")
    return f"{counts} — {more} on someone else's posts would balance it nicely."


def build_logged(result: LogResult) -> Message:
    """The one-line answer to a log: what was recorded (or that it already was) and the week so far."""
    if result.is_new:
        line = f"Logged {describe_action(result.action)}. {describe_balance(result.balance)}"
    else:
        line = (
            f"You'd already logged {describe_action(result.action)}, so it counts once. "
            f"{describe_balance(result.balance)}"
        )
    return Message(line, [section(line), context("Not right? `/coach undo` takes back your last log.")])


def build_undone(result: UndoResult) -> Message:
    line = f"Took back {describe_action(result.removed)}. {describe_balance(result.balance)}"
    return Message(line, [section(line)])


def build_opt_out_confirmation(preview: OptOutPreview) -> Message:
    """Ask before deleting anything; someone already out with nothing kept just hears so."""
    if preview.opted_out and preview.activity_count == 0:
        text = (
            "You're already opted out, and I keep nothing about your activity. "
            "`/coach optin` brings you back whenever you like."
        )
        return Message(text, [section(text)])
    if preview.activity_count:
        what = f"I'll delete the {plural(preview.activity_count, 'action')} I have for you (logged and seen in Slack)"
    else:
        what = "I don't have any actions for you yet; I'll keep it that way"
    text = (
        f"*Opt out of More Social?* {what} and leave you out of tallies, leaderboards, summaries and nudges "
        "from now on. Deleted data can't be brought back, but `/coach optin` lets you start fresh any time."
    )
    buttons = actions(
        button("Yes, delete my data", OPT_OUT_CONFIRM_ACTION, "optout", style="danger"),
        button("Cancel", OPT_OUT_CANCEL_ACTION, "cancel"),
        block_id=OPT_OUT_BLOCK,
    )
    return Message(text, [section(text), buttons])


def build_opted_out(deleted: int) -> Message:
    gone = f"I deleted {plural(deleted, 'action')} of yours and" if deleted else "You're opted out:"
    text = (
        f"Done. {gone} I won't count you or nudge you from now on. Changed your mind? `/coach optin` brings you back."
    )
    return Message(text, [section(text)])


def build_opt_out_cancelled() -> Message:
    text = "Okay, you're still in and nothing was deleted."
    return Message(text, [section(text)])


def build_opted_in(was_opted_out: bool) -> Message:
    if was_opted_out:
        text = (
            "Welcome back! I'll count what you log and share from now on, starting fresh. "
            "`/coach log` adds something you did elsewhere."
        )
    else:
        text = "You're already in: I'm counting what you log and share, so there's nothing to change."
    return Message(text, [section(text)])


def build_export_comment(count: int) -> Message:
    """The DM that carries the CSV file."""
    text = (
        f"Here's your More Social data: the {plural(count, 'action')} I have for you, logged and seen in Slack, "
        "one per line."
    )
    return Message(text, [section(text)])


def build_export_sent(count: int) -> Message:
    text = f"I sent you a DM with your data: {plural(count, 'action')} as a CSV file."
    return Message(text, [section(text)])


def build_nothing_to_export() -> Message:
    text = "I don't have any actions for you yet, so there's nothing to export. `/coach log` adds one."
    return Message(text, [section(text)])


# --- the log form --------------------------------------------------------------------------------


def _kind_option(kind: Kind) -> Block:
    return {"text": plain(kind.value.capitalize()), "value": kind.value, "description": plain(KIND_DESCRIPTIONS[kind])}


def build_log_modal(channel_id: str) -> Block:
    """The `/coach log` form; the channel it was opened from rides along so the answer goes back there."""
    return {
        "type": "modal",
        "callback_id": LOG_MODAL_CALLBACK_ID,
        "private_metadata": json.dumps({"channel_id": channel_id}),
        "title": plain("Log an action"),
        "submit": plain("Log it"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": KIND_BLOCK,
                "label": plain("What did you do?"),
                "element": {
                    "type": "static_select",
                    "action_id": KIND_ACTION,
                    "placeholder": plain("Pick one"),
                    "options": [_kind_option(kind) for kind in LOGGABLE_KINDS],
                },
            },
            {
                "type": "input",
                "block_id": URL_BLOCK,
                "optional": True,
                "label": plain("Link"),
                "hint": plain("Where it happened, if it has a link."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": URL_ACTION,
                    "max_length": MAX_URL_LENGTH,
                    "placeholder": plain("https://x.com/ana/status/1"),
                },
            },
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "optional": True,
                "label": plain("Note"),
                "hint": plain(f"Anything you want to remember, up to {MAX_NOTE_LENGTH} characters."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_ACTION,
                    "multiline": True,
                    "max_length": MAX_NOTE_LENGTH,
                    "placeholder": plain("Thanked Ana for the tip"),
                },
            },
        ],
    }


@dataclass(frozen=True)
class LogForm:
    """The submitted form as plain text, before validation; missing pieces are empty or None."""

    kind: str
    url: str | None
    note: str | None
    channel_id: str | None


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_log_form(view: Mapping[str, Any]) -> LogForm:
    """Read the form's values out of a view_submission's `view`, tolerating any missing piece."""
    values = _dig(view, "state", "values")
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    return LogForm(
        kind=_text(_dig(values, KIND_BLOCK, KIND_ACTION, "selected_option", "value")) or "",
        url=_text(_dig(values, URL_BLOCK, URL_ACTION, "value")),
        note=_text(_dig(values, NOTE_BLOCK, NOTE_ACTION, "value")),
        channel_id=_text(_dig(metadata, "channel_id")) or None,
    )
