"""One concrete next step for a member, from their balance: the coaching in `/coach me` and the App Home.

Pure: the caller says whether a teammate's link is waiting for a reply; the words live with the builders.
"""

from __future__ import annotations

import enum
import math

_RATIO_TOLERANCE = 1e-9  # as in scoring: a 1.1 target must balance 30 posts with 33 actions


class NextStep(enum.StrEnum):
    REPLY_TO_WAITING = "reply_to_waiting"  # a teammate's link has no reply yet: the most concrete step there is
    BEGIN = "begin"  # nothing yet this period
    BALANCE = "balance"  # below the target ratio: engage before posting again
    KEEP_LISTENING = "keep_listening"  # on target: keep answering people


def actions_to_target(given: int, pushed: int, target_ratio: float) -> int:
    """How many more social actions bring `given / pushed` up to the target (0 when already there)."""
    return max(0, math.ceil(target_ratio * pushed - given - _RATIO_TOLERANCE))


def next_step(given: int, pushed: int, target_ratio: float, *, teammate_waiting: bool) -> NextStep:
    """Pick the one step most worth suggesting now."""
    if teammate_waiting:
        return NextStep.REPLY_TO_WAITING
    if given == 0 and pushed == 0:
        return NextStep.BEGIN
    if actions_to_target(given, pushed, target_ratio):
        return NextStep.BALANCE
    return NextStep.KEEP_LISTENING
