"""The scoring rules: properties that must hold for any ledger and any valid team settings, then worked examples."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coach.kinds import CONVERSATION_KINDS, PUSHED_KINDS, Kind
from bot.coach.scoring import (
    BREADTH_FLOOR,
    BURST_FREE_PER_HOUR_BOUNDS,
    DEFAULT_RULES,
    DEFAULT_WEIGHTS,
    LIGHT_DAILY_CAP_BOUNDS,
    TARGET_RATIO_BOUNDS,
    UNKNOWN_COUNTERPART_FREE,
    WEIGHT_BOUNDS,
    InvalidScoringRules,
    MemberScore,
    ScoringRules,
    Tally,
    ratio_of,
    score_members,
)

MONDAY = date(2024, 5, 6)
USERS = ("U1", "U2", "U3")
COUNTERPARTS = ("", "x.com/ana", "x.com/bo", "blog.example.com")
SOCIAL = (Kind.REPLY, Kind.COMMENT)


def tally(
    kind: Kind, count: int = 1, *, user: str = "U1", day: date = MONDAY, hour: int = 9, to: str = "x.com/ana"
) -> Tally:
    return Tally(user_id=user, kind=kind, day=day, hour=hour, counterpart=to, count=count)


def to_people(kind: Kind, people: int, *, user: str = "U1") -> list[Tally]:
    """One action of `kind` toward each of `people` different counterparts."""
    return [tally(kind, user=user, to=f"x.com/person{i}") for i in range(people)]


def in_hours(kind: Kind, count: int, *, user: str = "U1") -> list[Tally]:
    """`count` actions of `kind`, each in its own hour, so the burst rule stays out of the way."""
    return [tally(kind, user=user, day=MONDAY + timedelta(days=i // 24), hour=i % 24) for i in range(count)]


def by_user(scores: Iterable[MemberScore]) -> dict[str, MemberScore]:
    return {score.user_id: score for score in scores}


def score_of(tallies: Iterable[Tally], rules: ScoringRules = DEFAULT_RULES, *, user: str = "U1") -> MemberScore:
    return by_user(score_members(tallies, {user: 0}, rules))[user]


# A few days, hours, people and members, so that caps, bursts and repeat counterparts actually happen.
days = st.dates(MONDAY, MONDAY + timedelta(days=2))
hours = st.integers(8, 10)
counterparts = st.sampled_from(COUNTERPARTS)
tallies = st.builds(
    Tally,
    user_id=st.sampled_from(USERS),
    kind=st.sampled_from(Kind),
    day=days,
    hour=hours,
    counterpart=counterparts,
    count=st.integers(1, 8),
)
ledgers = st.lists(tallies, max_size=30)
receipts = st.dictionaries(st.sampled_from((*USERS, "U4")), st.integers(0, 5), max_size=4)


@st.composite
def valid_rules(draw: st.DrawFn) -> ScoringRules:
    """Any settings a team could save: every bound respected, posts below a quarter of a reply."""
    weights = {kind: draw(st.floats(1.0, WEIGHT_BOUNDS[1])) for kind in Kind if kind in CONVERSATION_KINDS}
    limit = BREADTH_FLOOR * min(weights.values())
    weights |= {kind: draw(st.floats(0.0, 0.99 * limit)) for kind in Kind if kind in PUSHED_KINDS}
    weights |= {kind: draw(st.floats(*WEIGHT_BOUNDS)) for kind in (Kind.SHARE, Kind.LIKE, Kind.FOLLOW)}
    return ScoringRules(
        weights=weights,
        target_ratio=draw(st.floats(*TARGET_RATIO_BOUNDS)),
        light_daily_cap=draw(st.integers(*LIGHT_DAILY_CAP_BOUNDS)),
        burst_free_per_hour=draw(st.integers(*BURST_FREE_PER_HOUR_BOUNDS)),
        received_weight=draw(st.floats(*WEIGHT_BOUNDS)),
    )


team_rules = st.one_of(st.just(DEFAULT_RULES), valid_rules())


# --- Properties (the acceptance criteria) ---


@given(
    ledger=ledgers,
    rules=team_rules,
    social=st.sampled_from(SOCIAL),
    post=st.sampled_from(sorted(PUSHED_KINDS)),
    reply_at=st.tuples(days, hours, counterparts),
    post_at=st.tuples(days, hours, counterparts),
)
def test_one_more_reply_or_comment_raises_a_score_more_than_one_more_post(
    ledger, rules, social, post, reply_at, post_at
):
    before = score_of(ledger, rules).score
    with_reply = score_of([*ledger, Tally("U1", social, *reply_at, 1)], rules).score
    with_post = score_of([*ledger, Tally("U1", post, *post_at, 1)], rules).score

    assert with_reply - before > with_post - before


@given(rules=team_rules, others=ledgers, received=st.integers(0, 5), data=st.data())
def test_a_member_who_only_posts_never_outranks_one_who_only_replies_or_comments(rules, others, received, data):
    actions = data.draw(st.integers(1, 12))
    where = st.lists(st.tuples(days, hours, counterparts), min_size=actions, max_size=actions)
    poster = [Tally("UP", data.draw(st.sampled_from(sorted(PUSHED_KINDS))), *at, 1) for at in data.draw(where)]
    talker = [Tally("UT", data.draw(st.sampled_from(SOCIAL)), *at, 1) for at in data.draw(where)]

    ranks = {
        s.user_id: s.rank for s in score_members([*others, *poster, *talker], {"UP": received, "UT": received}, rules)
    }

    assert ranks["UT"] < ranks["UP"]


@st.composite
def reordered_and_split(draw: st.DrawFn, ledger: list[Tally]) -> list[Tally]:
    """The same counts, delivered in another order and cut into more rows."""
    rows = []
    for row in ledger:
        cuts = sorted(draw(st.sets(st.integers(1, row.count - 1), max_size=row.count - 1))) if row.count > 1 else []
        bounds = [0, *cuts, row.count]
        rows += [dataclasses.replace(row, count=high - low) for low, high in pairwise(bounds)]
    return draw(st.permutations(rows))


@given(ledger=ledgers, received=receipts, rules=team_rules, data=st.data())
def test_scores_do_not_depend_on_row_order_or_on_how_counts_are_split_into_rows(ledger, received, rules, data):
    delivered = data.draw(reordered_and_split(ledger))

    assert score_members(delivered, received, rules) == score_members(ledger, received, rules)


@given(ledger=ledgers, received=receipts, rules=team_rules, excluded=st.frozensets(st.sampled_from((*USERS, "U4"))))
def test_excluded_members_never_appear_and_do_not_change_anyone_else(ledger, received, rules, excluded):
    everyone = by_user(score_members(ledger, received, rules))
    scores = score_members(ledger, received, rules, excluded)

    assert {s.user_id for s in scores} == everyone.keys() - excluded
    assert all(s.score == everyone[s.user_id].score for s in scores)


@given(ledger=ledgers, received=receipts, rules=team_rules, posts=st.lists(tallies.filter(lambda t: t.kind.is_pushed)))
def test_scores_are_never_negative_and_posts_never_lower_them(ledger, received, rules, posts):
    before = by_user(score_members(ledger, received, rules))
    after = by_user(score_members([*ledger, *posts], received, rules))

    assert all(s.score >= 0 for s in after.values())
    assert all(after[user].score >= score.score for user, score in before.items())


@given(ledger=ledgers, received=receipts, rules=team_rules)
def test_ranks_run_from_one_best_first_with_facts_that_add_up(ledger, received, rules):
    scores = score_members(ledger, received, rules)

    assert [s.rank for s in scores] == list(range(1, len(scores) + 1))
    assert all(better.score >= worse.score - 1e-9 for better, worse in pairwise(scores))
    for s in scores:
        assert s.given == sum(s.counts[kind] for kind in Kind if kind.is_given) - s.capped_light
        assert s.pushed == s.counts[Kind.POST] + s.counts[Kind.LINK]
        assert 0 <= s.unbalanced_posts <= s.pushed
        assert s.ratio == ratio_of(s.given, s.pushed)


# --- Light actions: capped per member per day ---


def test_likes_beyond_the_daily_cap_earn_nothing_and_say_so():
    score = score_of([tally(Kind.LIKE, 15)])

    assert (score.score, score.capped_light, score.given, score.counts[Kind.LIKE]) == (5.0, 5, 10, 15)


def test_the_cap_is_per_day():
    score = score_of([tally(Kind.LIKE, 8), tally(Kind.LIKE, 7, day=MONDAY + timedelta(days=1))])

    assert (score.score, score.capped_light) == (7.5, 0)


def test_likes_and_follows_share_one_cap_and_the_heavier_kind_fills_it_first():
    rules = ScoringRules(weights={Kind.LIKE: 1.0, Kind.FOLLOW: 0.5})

    for rows in ([tally(Kind.FOLLOW, 8), tally(Kind.LIKE, 8)], [tally(Kind.LIKE, 8), tally(Kind.FOLLOW, 8)]):
        score = score_of(rows, rules)
        assert (score.score, score.capped_light) == (8 * 1.0 + 2 * 0.5, 6)


def test_capped_likes_do_not_count_toward_the_ratio():
    score = score_of([tally(Kind.LIKE, 40), *in_hours(Kind.POST, 4)])

    assert (score.given, score.ratio) == (10, 2.5)
    assert (score.score, score.unbalanced_posts) == (10 * 0.5 + 2 * 1.0, 2)


# --- Output: earns only while balanced, and not in bursts ---


def test_posts_earn_only_while_engagement_is_at_least_the_target_ratio_times_posts():
    score = score_of([*to_people(Kind.REPLY, 8), *in_hours(Kind.POST, 3)])

    assert (score.score, score.unbalanced_posts, score.ratio) == (8 * 5.0 + 2 * 1.0, 1, 8 / 3)


def test_a_member_who_only_posts_scores_nothing_and_never_below_zero():
    score = score_of(in_hours(Kind.POST, 3))

    assert (score.score, score.given, score.ratio, score.unbalanced_posts) == (0.0, 0, 0.0, 3)


def test_a_decimal_target_ratio_balances_exactly_despite_binary_floats():
    assert 33 / 1.1 < 30
    score = score_of([*to_people(Kind.REPLY, 33), *in_hours(Kind.POST, 30)], ScoringRules(target_ratio=1.1))

    assert score.unbalanced_posts == 0


def test_posts_in_a_burst_earn_nothing_beyond_the_first_few_of_the_hour():
    engaged = to_people(Kind.REPLY, 20)

    burst = score_of([*engaged, tally(Kind.POST, 2, hour=9), tally(Kind.LINK, 3, hour=9)])
    spread = score_of([*engaged, *in_hours(Kind.POST, 5)])

    assert (burst.score, burst.unbalanced_posts) == (20 * 5.0 + 3 * 1.0, 2)
    assert (spread.score, spread.unbalanced_posts) == (20 * 5.0 + 5 * 1.0, 0)


def test_ratio_is_none_without_posts():
    assert ratio_of(5, 0) is None
    assert ratio_of(6, 4) == 1.5
    assert score_of(to_people(Kind.REPLY, 2)).ratio is None


# --- Breadth: many people beat one person ---


def test_replies_to_five_people_outscore_five_replies_to_one_person():
    spread = score_of(to_people(Kind.REPLY, 5))
    hammered = score_of([tally(Kind.REPLY, 5, to="x.com/ana")])

    assert spread.score == 25.0
    assert hammered.score == pytest.approx(5.0 * (1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 4))
    assert spread.score > hammered.score


def test_a_long_thread_with_one_person_keeps_earning_more_than_a_post_per_reply():
    thread = [score_of([tally(Kind.REPLY, n)]).score for n in range(1, 30)]

    assert all(later - earlier > DEFAULT_WEIGHTS[Kind.POST] for earlier, later in pairwise(thread))


def test_actions_toward_one_person_count_across_kinds_heaviest_first():
    for rows in ([tally(Kind.ANSWER), tally(Kind.REPLY)], [tally(Kind.REPLY), tally(Kind.ANSWER)]):
        assert score_of(rows).score == 6.0 + 5.0 / 2


def test_unknown_counterparts_earn_full_credit_up_to_a_modest_amount_then_count_as_one_person():
    free = UNKNOWN_COUNTERPART_FREE
    unknown = [score_of([tally(Kind.REPLY, n, to="")]).score for n in (free, free + 1, free + 4)]
    named = [score_of(to_people(Kind.REPLY, n)).score for n in (free, free + 1, free + 4)]
    one_person = [score_of([tally(Kind.REPLY, n)]).score for n in (free, free + 1, free + 4)]

    assert unknown[0] == named[0] == free * 5.0
    assert unknown[1] == free * 5.0 + 5.0 / 2
    assert all(hammer <= guess <= spread for hammer, guess, spread in zip(one_person, unknown, named, strict=True))


# --- Received, membership and ties ---


def test_members_seen_only_in_received_are_scored_from_it():
    [score] = score_members([], {"U9": 4})

    assert (score.user_id, score.rank, score.score, score.given, score.received, score.ratio) == (
        "U9",
        1,
        2.0,
        0,
        4,
        None,
    )


def test_counts_report_every_kind_and_cannot_be_changed():
    score = score_of([tally(Kind.REPLY, 2), tally(Kind.ANSWER), tally(Kind.COMMENT, to="x.com/bo"), tally(Kind.SHARE)])

    assert dict(score.counts) == dict.fromkeys(Kind, 0) | {
        Kind.REPLY: 2,
        Kind.ANSWER: 1,
        Kind.COMMENT: 1,
        Kind.SHARE: 1,
    }
    assert score.conversation == 4
    with pytest.raises(TypeError):
        score.counts[Kind.POST] = 1  # type: ignore[index]


def test_equal_scores_rank_more_engagement_given_first_then_user_id():
    rows = [tally(Kind.REPLY, user="UA"), tally(Kind.REPLY, user="U0"), tally(Kind.LIKE, 10, user="UB")]

    scores = score_members(rows, {})

    assert {s.score for s in scores} == {5.0}
    assert [(s.user_id, s.rank) for s in scores] == [("UB", 1), ("U0", 2), ("UA", 3)]


# --- Team settings ---


def test_default_weights_follow_the_coaching_table():
    assert DEFAULT_RULES.weights == DEFAULT_WEIGHTS
    assert dict(DEFAULT_WEIGHTS) == {
        Kind.ANSWER: 6,
        Kind.REPLY: 5,
        Kind.COMMENT: 5,
        Kind.SHARE: 2,
        Kind.LIKE: 0.5,
        Kind.FOLLOW: 0.5,
        Kind.POST: 1,
        Kind.LINK: 1,
    }
    assert (DEFAULT_RULES.target_ratio, DEFAULT_RULES.light_daily_cap, DEFAULT_RULES.received_weight) == (4.0, 10, 0.5)


def test_from_settings_overrides_only_what_the_team_changed():
    rules = ScoringRules.from_settings({"share": 3, "like": 0}, 5.0)

    assert rules.weights == DEFAULT_WEIGHTS | {Kind.SHARE: 3.0, Kind.LIKE: 0.0}
    assert rules.target_ratio == 5.0
    assert ScoringRules.from_settings(None, None) == DEFAULT_RULES


def test_rules_cannot_be_changed_after_they_are_made():
    weights = {Kind.SHARE: 3.0}
    rules = ScoringRules(weights=weights)
    weights[Kind.SHARE] = 20.0

    assert rules.weights[Kind.SHARE] == 3.0
    with pytest.raises(TypeError):
        rules.weights[Kind.SHARE] = 1.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.target_ratio = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings", "bound"),
    [
        ({"weights": {Kind.LIKE: -0.5}}, "between 0 and 20"),
        ({"weights": {Kind.ANSWER: 20.5}}, "between 0 and 20"),
        ({"weights": {Kind.SHARE: math.nan}}, "between 0 and 20"),
        ({"target_ratio": 0.4}, "between 0.5 and 20"),
        ({"target_ratio": 25.0}, "between 0.5 and 20"),
        ({"light_daily_cap": -1}, "between 0 and 100"),
        ({"burst_free_per_hour": 0}, "between 1 and 20"),
        ({"received_weight": 21.0}, "between 0 and 20"),
        ({"weights": {Kind.POST: 1.25}}, "below 1.25"),
        ({"weights": {Kind.COMMENT: 3.0}}, "below 0.75"),
    ],
)
def test_settings_outside_their_bounds_are_refused_with_the_bound_named(settings, bound):
    with pytest.raises(InvalidScoringRules, match=bound):
        ScoringRules(**settings)


def test_the_bounds_themselves_are_allowed():
    ScoringRules(
        weights={Kind.ANSWER: WEIGHT_BOUNDS[1], Kind.LIKE: WEIGHT_BOUNDS[0]}, target_ratio=TARGET_RATIO_BOUNDS[0]
    )
    ScoringRules(target_ratio=TARGET_RATIO_BOUNDS[1], light_daily_cap=LIGHT_DAILY_CAP_BOUNDS[1])


def test_an_unknown_action_name_in_settings_is_refused_kindly():
    with pytest.raises(InvalidScoringRules, match=r"no action called 'retweet'.*answer, comment"):
        ScoringRules.from_settings({"retweet": 2}, None)
    assert issubclass(InvalidScoringRules, ValueError)
