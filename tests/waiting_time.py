"""When to share a link in a test so that it is waiting for a reply, as the team's rule says."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.coach.schedule_rules import is_waiting

MARGIN = timedelta(hours=4)


def waiting_since(now: datetime, waiting_hours: int = 24) -> datetime:
    """A moment such that links shared up to four hours either side of it are all waiting at `now`.

    Tests about what is shown (privacy, who is named) ask the rule rather than restate when a link starts
    and stops waiting, which `bot.coach.schedule_rules.is_waiting` alone decides.
    """
    for hours in range(1, 24 * 8):
        shared = now - timedelta(hours=hours)
        if all(is_waiting(shared + d, None, now, waiting_hours) for d in (-MARGIN, MARGIN)):
            return shared
    raise AssertionError(f"no moment before {now} has links waiting for a reply")
