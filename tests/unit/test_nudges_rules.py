"""The nudge rule at its edges: a member exactly at a decimal target is balanced, not nudged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.coach.schedule_rules import NudgeCandidate, nudge_decision
from bot.coach.settings import TARGET_PRESETS, TeamSettings

TUESDAY_11 = datetime(2026, 11, 24, 11, tzinfo=UTC)


@pytest.mark.parametrize(("target", "posts", "given"), [(1.1, 50, 55), (1.1, 100, 110), (2.3, 10, 23), (0.7, 10, 7)])
def test_exactly_at_a_decimal_target_is_balanced(target: float, posts: int, given: int) -> None:
    settings = TeamSettings(target_ratio=target)
    assert nudge_decision(NudgeCandidate("U1", given, posts), settings, TUESDAY_11).reason == "balanced"
    assert nudge_decision(NudgeCandidate("U1", given - 1, posts), settings, TUESDAY_11).send


@pytest.mark.parametrize("preset", sorted(TARGET_PRESETS))
def test_every_preset_balances_at_its_own_ratio(preset: str) -> None:
    target = TARGET_PRESETS[preset]
    settings = TeamSettings(target_ratio=target)
    posts = 10
    given = round(target * posts)
    assert nudge_decision(NudgeCandidate("U1", given, posts), settings, TUESDAY_11).reason == "balanced"
