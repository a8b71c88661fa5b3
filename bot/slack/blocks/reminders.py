"""Gentle reminders as Block Kit: the channel's waiting links, a private nudge, the burst note.

The channel reminder names people only as the authors of links worth answering; corrections (the nudge,
the burst note) are private and never compare anyone with a named teammate.

Each link gets a section of its own, so five links of 2,048 characters each stay within Slack's
3,000-character section text without a `<url|label>` ever being cut in half.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.slack.blocks import (
    MAX_SECTION_TEXT,
    Block,
    Message,
    actions,
    button,
    context,
    link_target,
    section,
    slack_link,
)

SNOOZE_NUDGES_ACTION = "nudge_snooze"
STOP_NUDGES_ACTION = "nudge_stop"
# Slack's permalinks run to about a hundred characters; a longer one is left out rather than crowd the link.
MAX_PERMALINK = 500


@dataclass(frozen=True)
class LinkToAnswer:
    """A teammate's link waiting for a reply; `permalink` opens the Slack message to reply in its thread."""

    user_id: str
    url: str
    channel_id: str
    shared_at: datetime
    permalink: str | None = None


def _ago(shared_at: datetime, now: datetime) -> str:
    waited = max(now - shared_at, timedelta(0))
    hours = int(waited.total_seconds() // 3600)
    if hours < 1:
        return "just now"
    if hours < 24:
        return f"{hours}h ago"
    return f"{hours // 24}d ago"


def _link_line(link: LinkToAnswer, now: datetime) -> str:
    """One waiting link, within a section's limit: the link gets the room the rest of the line leaves."""
    about = f" by <@{link.user_id}> in <#{link.channel_id}> · {_ago(link.shared_at, now)}"
    reply = ""
    if link.permalink and len(link_target(link.permalink)) <= MAX_PERMALINK:
        reply = f" · {slack_link(link.permalink, 'reply in thread')}"
    room = MAX_SECTION_TEXT - len("• ") - len(about) - len(reply)
    return f"• {slack_link(link.url, room=room)}{about}{reply}"


def build_waiting_reminder(links: list[LinkToAnswer], now: datetime) -> Message:
    """The channel reminder: links still waiting for a first reply, oldest first, one section each."""
    intro = "*🔗 Still waiting for a first reply*"
    lines = [_link_line(link, now) for link in links]
    nudge = "A sentence of your own beats a like: reply in the thread, and the link drops off this list."
    blocks: list[Block] = [section(intro), *(section(line) for line in lines), context(nudge)]
    text = "\n".join(["Still waiting for a first reply:", *lines, nudge])
    return Message(text=text, blocks=blocks)


def build_nudge(user_id: str, links: list[LinkToAnswer], now: datetime) -> Message:
    """A private nudge: warm, about teammates' work rather than the member's numbers, easy to snooze or stop."""
    greeting = f"Hi <@{user_id}> 👋 Thanks for all you've shared lately!"
    ask = (
        "These teammates' links are still waiting for a first reply. "
        "A sentence from you would help them land, and replies like that tend to come back to your own posts:"
    )
    lines = [_link_line(link, now) for link in links]
    footer = "I send these at most every few days, never on quiet days or outside working hours."
    blocks: list[Block] = [
        section(f"{greeting}\n{ask}"),
        *(section(line) for line in lines),
        actions(
            button("Snooze for a week", SNOOZE_NUDGES_ACTION, "snooze"),
            button("Stop these", STOP_NUDGES_ACTION, "stop"),
            block_id="nudge_controls",
        ),
        context(footer),
    ]
    return Message(text="\n".join([f"{greeting} {ask}", *lines]), blocks=blocks)


def _slack_date(instant: datetime) -> str:
    """A date Slack shows in the reader's own time zone, with a UTC fallback for old clients."""
    return f"<!date^{int(instant.timestamp())}^{{date_long_pretty}}|{instant.day} {instant:%B %Y}>"


def build_nudges_snoozed(until: datetime) -> Message:
    text = f"😴 Snoozed. No nudges from me until {_slack_date(until)}. `/coach me` shows your balance any time."
    return Message(text=text, blocks=[section(text)])


def build_nudges_stopped() -> Message:
    text = (
        "👍 Done: I won't send you these nudges any more. If you miss them, turn them back on in my Home tab; "
        "`/coach me` shows your balance whenever you like."
    )
    return Message(text=text, blocks=[section(text)])


def build_burst_note(links_last_hour: int) -> Message:
    """The ephemeral note after a burst of links: quality over quantity, and what would land better now."""
    text = (
        f"You've shared {links_last_hour} links in the last hour. Thanks for the energy! 🙌 "
        "One at a time tends to land better than a burst, and right now a reply to a teammate's post "
        "would do more than another link. 💬"
    )
    return Message(text=text, blocks=[section(text)])
