"""The weekly tip: stable within a week, and every tip gets its turn."""

from __future__ import annotations

from datetime import date, timedelta

from bot.coach.tips import TIPS, tip_for_week


def test_every_tip_comes_round_in_as_many_weeks_as_there_are_tips() -> None:
    first_monday = date(2026, 1, 5)
    seen = {tip_for_week(first_monday + timedelta(weeks=n)) for n in range(len(TIPS))}
    assert seen == set(TIPS)


def test_the_same_week_always_gets_the_same_tip() -> None:
    monday = date(2026, 11, 23)
    assert {tip_for_week(monday + timedelta(days=n)) for n in range(7)} == {tip_for_week(monday)}
    assert tip_for_week(monday) != tip_for_week(monday + timedelta(weeks=1))


def test_tips_are_short_distinct_sentences() -> None:
    assert len(TIPS) >= 12
    assert len(set(TIPS)) == len(TIPS)
    for tip in TIPS:
        assert tip[0].isupper() and tip.endswith((".", "?"))
        assert len(tip) <= 160
