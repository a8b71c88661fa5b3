"""One coaching tip a week, for the summary: a small, concrete way to be more social than media.

Each tip is one next step someone can take today, in the spirit of the coaching principles (pay attention
first, answer people, quality over quantity). A tip that never changes stops being read, so they rotate
by ISO week: everyone sees the same tip the same week, and every tip comes round within a season.
"""

from __future__ import annotations

from datetime import date

TIPS: tuple[str, ...] = (
    "Before you post today, spend five minutes reading your timeline and reply to one person who said "
    "something worth answering.",
    "Look through your mentions for a question that is still open and answer it. An answered question "
    "does more than a new post.",
    "Find a teammate's link from this week with no reply yet and add a sentence of your own: what you "
    "liked, or what you would ask the author.",
    "Share someone else's work this week, and add a line on why it is worth their readers' time.",
    "Leave a comment on a blog post you enjoyed. Writers remember the people who took the time to respond.",
    "Got half an hour for social today? Spend most of it answering and commenting, and post last.",
    "Have three things to post today? Pick the best one and give it your full attention; the others can wait.",
    "Next time you reach for the like button, try writing a sentence instead. One real reply does more than ten likes.",
    "When someone replies to you, reply back. Conversations are how followers turn into people you know.",
    "Thank someone in public for something they taught you this week, and tell them what you did with it.",
    "Follow someone new whose work you admire, and read a few of their posts before you say hello.",
    "Before you share a link, ask who it is for, and say in one line how it helps them.",
)


def tip_for_week(week_start: date) -> str:
    """Return the tip for the ISO week containing `week_start`; the same week always gets the same tip."""
    return TIPS[week_start.isocalendar().week % len(TIPS)]
