"""Totals that add up give exactly the scores and ranks of the fine-grained scoring rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coach.kinds import Kind
from bot.coach.scoring import BREADTH_FLOOR, DEFAULT_RULES, ScoringRules, Tally, score_members
from bot.coach.totals import (
    BREADTH,
    COUNTERS,
    CREDIT_UNIT,
    LIGHT,
    MemberTotals,
    breadth_credit,
    group_sums,
    score_totals,
)
from tests.totals_from_tallies import totals_from_tallies
from tests.unit.test_scoring import MONDAY, ledgers, receipts, team_rules

DEFAULT_CAPS = st.just(DEFAULT_RULES) | team_rules.map(
    lambda rules: ScoringRules(
        weights=rules.weights, target_ratio=rules.target_ratio, received_weight=rules.received_weight
    )
)


def assert_same_standings(expected, actual) -> None:
    assert [s.user_id for s in actual] == [s.user_id for s in expected]
    for want, got in zip(expected, actual, strict=True):
        assert got.score == pytest.approx(want.score, rel=1e-12, abs=1e-12)
        assert (got.rank, got.given, got.pushed, got.received, dict(got.counts), got.conversation) == (
            want.rank,
            want.given,
            want.pushed,
            want.received,
            dict(want.counts),
            want.conversation,
        )
        assert (got.ratio, got.capped_light, got.unbalanced_posts) == (
            want.ratio,
            want.capped_light,
            want.unbalanced_posts,
        )


@given(ledger=ledgers, received=receipts, rules=DEFAULT_CAPS, excluded=st.frozensets(st.sampled_from(("U1", "U4"))))
def test_totals_score_exactly_like_the_fine_grained_rules(ledger, received, rules, excluded):
    seen = {tally.user_id for tally in ledger} | {user for user, n in received.items() if n}
    received = {user: n for user, n in received.items() if user in seen}

    expected = score_members(ledger, received, rules, excluded)
    actual = score_totals(totals_from_tallies(ledger, received), rules, excluded)

    assert_same_standings(expected, actual)


def test_breadth_credit_matches_the_curve_in_whole_units():
    assert int(CREDIT_UNIT * BREADTH_FLOOR) == CREDIT_UNIT * BREADTH_FLOOR
    assert [breadth_credit(n) for n in range(7)] == [0, 12, 18, 22, 25, 28, 31]
    assert [breadth_credit(n, unknown=True) for n in (5, 6, 7)] == [60, 66, 70]


def test_a_group_counts_once_in_every_subset_it_touches():
    sums = group_sums(BREADTH, {Kind.REPLY: 2, Kind.ANSWER: 1})

    assert sums["breadth_reply"] == 18
    assert sums["breadth_answer"] == 12
    assert sums["breadth_answer_reply"] == 22
    assert sums["breadth_share"] == 0
    assert group_sums(LIGHT, {Kind.LIKE: 14})["light_like"] == 10


def test_members_with_nothing_left_are_not_ranked():
    empty = MemberTotals("U9", (0,) * len(COUNTERS))
    one = totals_from_tallies([Tally("U1", Kind.REPLY, MONDAY, 9, "U2", 1)], {})

    assert [s.user_id for s in score_totals([empty, *one], DEFAULT_RULES)] == ["U1"]
