"""What the weekly summary says, decided purely from scored members."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.coach.kinds import Kind
from bot.coach.scoring import MemberScore, ratio_of
from bot.coach.weekly import Improvement, Trend, most_improved, most_social, summarize_week, team_ratio


def score(
    user_id: str, *, rank: int = 1, points: float = 10.0, given: int = 4, pushed: int = 1, **counts: int
) -> MemberScore:
    kinds = {kind: 0 for kind in Kind} | {Kind(name): n for name, n in counts.items()}
    return MemberScore(
        user_id=user_id,
        rank=rank,
        score=points,
        given=given,
        pushed=pushed,
        received=0,
        counts=kinds,
        conversation=sum(kinds[k] for k in (Kind.REPLY, Kind.COMMENT, Kind.ANSWER)),
        ratio=ratio_of(given, pushed),
        capped_light=0,
        unbalanced_posts=0,
    )


def week(this: list[MemberScore], last: list[MemberScore] | None = None, **extra: object):  # type: ignore[no-untyped-def]
    options = {
        "first_day": date(2026, 11, 16),
        "last_day": date(2026, 11, 22),
        "target_ratio": 4.0,
        "most_discussed": None,
        "links_shared": 0,
        "links_unanswered": 0,
        "tip": "Reply to one person today.",
    } | extra
    return summarize_week(this, last or [], **options)  # type: ignore[arg-type]


def test_most_social_means_engagement_given_never_output() -> None:
    broadcaster = score("U_DAN", rank=1, points=8.0, given=0, pushed=12)
    ranked = [
        broadcaster,
        score("U_ANA", rank=2),
        score("U_BEN", rank=3),
        score("U_CAR", rank=4),
        score("U_EVE", rank=5),
    ]
    assert [s.user_id for s in most_social(ranked)] == ["U_ANA", "U_BEN", "U_CAR"]
    assert most_social([score("U_ZERO", points=0.0, given=1)]) == ()


def test_most_improved_is_the_biggest_rise_of_members_with_posts_in_both_weeks() -> None:
    last = [score("U_ANA", given=2, pushed=2), score("U_BEN", given=1, pushed=1), score("U_CAR", given=8, pushed=2)]
    this = [
        score("U_ANA", given=6, pushed=2),  # 1.0 -> 3.0
        score("U_BEN", given=3, pushed=1),  # 1.0 -> 3.0: same rise, same ratio: the user id decides
        score("U_CAR", given=2, pushed=2),  # down
        score("U_NEW", given=9, pushed=1),  # nothing to compare with
    ]
    assert most_improved(this, last) == Improvement("U_ANA", 1.0, 3.0)
    assert most_improved(this[2:], last) is None


def test_a_tiny_rise_is_not_an_improvement_worth_announcing() -> None:
    assert most_improved([score("U_ANA", given=41, pushed=10)], [score("U_ANA", given=4, pushed=1)]) is None


def test_totals_ratio_and_trend() -> None:
    this = [
        score("U_ANA", given=6, pushed=2, reply=2, comment=3, answer=1),
        score("U_BEN", given=2, pushed=2, comment=2),
    ]
    facts = week(this, [score("U_ANA", given=2, pushed=2)])
    assert (facts.replies, facts.comments, facts.answers, facts.conversations) == (2, 5, 1, 8)
    assert (facts.given, facts.posts, facts.ratio, facts.previous_ratio) == (8, 4, 2.0, 1.0)
    assert facts.trend is Trend.UP and not facts.quiet
    assert team_ratio(this) == 2.0


def test_trend_needs_two_ratios_and_a_real_difference() -> None:
    steady = week([score("U_ANA", given=21, pushed=10)], [score("U_ANA", given=2, pushed=1)])
    assert steady.trend is Trend.SAME
    assert week([score("U_ANA", given=1, pushed=1)], [score("U_ANA", given=3, pushed=1)]).trend is Trend.DOWN
    assert week([score("U_ANA", given=3, pushed=0)]).trend is Trend.NEW


def test_a_week_without_anything_is_quiet() -> None:
    facts = week([])
    assert facts.quiet and facts.ratio is None and facts.most_social == () and facts.most_improved is None
    assert not replace(facts, posts=1).quiet


def test_members_who_must_not_be_named_count_but_are_never_named() -> None:
    this = [score("U_GONE", rank=1, given=9, pushed=1), score("U_ANA", rank=2, given=4, pushed=1)]
    last = [score("U_GONE", given=1, pushed=1), score("U_ANA", given=2, pushed=1)]
    facts = week(this, last, unnamed=frozenset({"U_GONE"}))
    assert [s.user_id for s in facts.most_social] == ["U_ANA"]
    assert facts.most_improved == Improvement("U_ANA", 2.0, 4.0)
    assert facts.given == 13  # still part of the team's week
