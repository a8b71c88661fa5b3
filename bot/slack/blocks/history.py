"""What `/coach backfill` says: started, already running, done, or why Slack would not let us read.

Pure builders; the answers are ephemeral, for the admin who asked. A channel appears only as a Slack
mention (`<#C123>`), which Slack shows to each reader as they are allowed to see it.
"""

from __future__ import annotations

from bot.services.history import BackfillReport
from bot.slack.blocks import Message, context, plural, section

# What Slack's error codes mean for the admin, with the next step to take.
_FAILURES = {
    "not_in_channel": (
        "I'm not in {channel} yet. Invite me with `/invite @More Social`, then run `/coach backfill` again."
    ),
    "channel_not_found": (
        "I can't see {channel}: it may be private and I'm not in it. Invite me with `/invite @More Social` first."
    ),
    "ratelimited": (
        "Slack asked me to slow down while I was reading {channel}. What I read so far is counted; run "
        "`/coach backfill` again in a few minutes to finish (nothing gets counted twice)."
    ),
}
_FAILED = (
    "I couldn't finish reading {channel} (Slack said `{error}`). What I read so far is counted; "
    "try `/coach backfill` again in a few minutes (nothing gets counted twice)."
)


def _days(days: int) -> str:
    return "day" if days == 1 else f"{days} days"


def build_backfill_started(channel_id: str, days: int) -> Message:
    text = (
        f"On it: I'm reading the last {_days(days)} of <#{channel_id}> in the background. "
        "I'll tell you here when it's done."
    )
    return Message(text, [section(text), context("Reading the same history again never counts anything twice.")])


def build_backfill_busy(channel_id: str) -> Message:
    text = f"I'm already reading <#{channel_id}>; I'll tell you here when it's done."
    return Message(text, [section(text)])


def build_backfill_done(report: BackfillReport) -> Message:
    counted = (
        f"{plural(report.links, 'shared link')}, {plural(report.comments, 'comment')} and "
        f"{plural(report.likes, 'like')}"
    )
    news = (
        f"{plural(report.new_entries, 'entry', 'entries')} new to the tally."
        if report.new_entries
        else "All of it was already counted."
    )
    text = (
        f"Done with <#{report.channel_id}>: I read {plural(report.messages, 'message')} from the last "
        f"{_days(report.days)} and found {counted}. {news}"
    )
    return Message(text, [section(text), context("It shows up in `/coach me` and the leaderboard now.")])


def build_backfill_failed(channel_id: str, error: str | None) -> Message:
    channel = f"<#{channel_id}>"
    text = _FAILURES.get(error or "", _FAILED).format(channel=channel, error=error or "unknown")
    return Message(text, [section(text)])
