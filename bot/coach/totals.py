"""Per-member totals that simply add up, so standings for any period are a few thousand rows, not the ledger.

`bot.coach.scoring` states the rules over fine-grained tallies (per counterpart, per day, per hour). Reading
those for a year of a big team is far too slow for a slash command, so the store keeps, on every write, per
member and period, sums that are exact integers, independent of the team's settings and of arrival order:

- the raw count of every kind;
- for each *family* of kinds that a rule works on in groups (given engagement per counterpart, likes and
  follows per local day, posts and links per local hour), and for every non-empty subset S of the family,
  the sum over the groups of the family's curve applied to the group's count of S. The curve is the breadth
  curve (`scoring._breadth_total`, in units of 1/`CREDIT_UNIT` so it is an integer) or `min(n, cap)`;
- the number of distinct (teammate, item) pairs of engagement received.

Why every subset: the rules fill each group heaviest kind first, and the team's weights decide that order.
By Abel summation, what a group earns is sum over i of (w_i - w_(i+1)) * curve(count of the i heaviest kinds),
so the subset sums for the prefixes of the team's order give the exact score for any weights, and changing a
weight needs no rebuild. `score_totals` applies the rules to these sums and agrees with `score_members`
(a property test holds the two to each other).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from itertools import combinations
from types import MappingProxyType

from bot.coach.kinds import CONVERSATION_KINDS, GIVEN_KINDS, LIGHT_KINDS, PUSHED_KINDS, Kind
from bot.coach.scoring import (
    BREADTH_FLOOR,
    DEFAULT_BURST_FREE_PER_HOUR,
    DEFAULT_LIGHT_DAILY_CAP,
    UNKNOWN_COUNTERPART_FREE,
    MemberScore,
    ScoringRules,
    ratio_of,
)

# The caps the totals are summed with. ScoringRules.from_settings keeps these defaults; a team setting for
# either would need the totals rebuilt with it.
TOTALS_LIGHT_DAILY_CAP = DEFAULT_LIGHT_DAILY_CAP
TOTALS_BURST_FREE_PER_HOUR = DEFAULT_BURST_FREE_PER_HOUR

# The breadth curve earns 1, 1/2, ..., 1/K and then BREADTH_FLOOR = 1/K per action: in units of lcm(1..K)
# every step is a whole number, so sums stay exact whatever the order they are added in.
_FLOOR_STEP = round(1 / BREADTH_FLOOR)
assert _FLOOR_STEP * BREADTH_FLOOR == 1, "the breadth floor must be 1/K for exact integer credit"
CREDIT_UNIT = math.lcm(*range(1, _FLOOR_STEP + 1))
_HARMONIC_UNITS = tuple(sum(CREDIT_UNIT // k for k in range(1, n + 1)) for n in range(_FLOOR_STEP + 1))

_RANK_DECIMALS = 9  # as in scoring: float noise never overrides the tie-break on engagement given
_RATIO_TOLERANCE = 1e-9


@functools.cache
def breadth_credit(n: int, *, unknown: bool = False) -> int:
    """What n actions toward one counterpart earn per point of weight, in 1/CREDIT_UNIT (see scoring)."""
    if unknown and n > UNKNOWN_COUNTERPART_FREE:
        return (UNKNOWN_COUNTERPART_FREE - 1) * CREDIT_UNIT + breadth_credit(n - UNKNOWN_COUNTERPART_FREE + 1)
    if unknown:
        return n * CREDIT_UNIT
    if n <= _FLOOR_STEP:
        return _HARMONIC_UNITS[n]
    return _HARMONIC_UNITS[-1] + (n - _FLOOR_STEP) * (CREDIT_UNIT // _FLOOR_STEP)


@dataclass(frozen=True)
class Family:
    """Kinds a rule treats together in groups; `prefix` names the stored subset sums, one per subset."""

    prefix: str
    kinds: tuple[Kind, ...]

    @property
    def subsets(self) -> tuple[frozenset[Kind], ...]:
        """Every non-empty subset, smallest first, in a fixed order (it is the column order)."""
        return tuple(
            frozenset(chosen) for size in range(1, len(self.kinds) + 1) for chosen in combinations(self.kinds, size)
        )

    def column(self, subset: AbstractSet[Kind]) -> str:
        return "_".join([self.prefix, *(kind.value for kind in self.kinds if kind in subset)])


BREADTH = Family("breadth", tuple(sorted(GIVEN_KINDS - LIGHT_KINDS)))  # per counterpart, in credit units
LIGHT = Family("light", tuple(sorted(LIGHT_KINDS)))  # per local day, min(n, daily cap)
PUSHED = Family("pushed", tuple(sorted(PUSHED_KINDS)))  # per local hour, min(n, posts free per hour)
FAMILIES = (BREADTH, LIGHT, PUSHED)

COUNT_COLUMNS: Mapping[Kind, str] = MappingProxyType({kind: f"n_{kind.value}" for kind in Kind})
RECEIVED_COLUMN = "received"
COUNTERS: tuple[str, ...] = (
    *COUNT_COLUMNS.values(),
    *(family.column(subset) for family in FAMILIES for subset in family.subsets),
    RECEIVED_COLUMN,
)
"""The order of `MemberTotals.counters`, and the names of the columns the store keeps them in."""
_INDEX = {name: i for i, name in enumerate(COUNTERS)}


@functools.cache
def _subset_columns(family: Family) -> tuple[tuple[str, tuple[Kind, ...]], ...]:
    return tuple((family.column(subset), tuple(subset)) for subset in family.subsets)


def _light_curve(n: int) -> int:
    return min(n, TOTALS_LIGHT_DAILY_CAP)


def _pushed_curve(n: int) -> int:
    return min(n, TOTALS_BURST_FREE_PER_HOUR)


def _unknown_curve(n: int) -> int:
    return breadth_credit(n, unknown=True)


def group_sums(family: Family, counts: Mapping[Kind, int], *, unknown: bool = False) -> dict[str, int]:
    """One group's share of the family's subset sums (counterpart '' is `unknown` for breadth).

    The store adds `group_sums(new) - group_sums(old)` whenever a group's counts change.
    """
    curve: Callable[[int], int]
    if family is BREADTH:
        curve = _unknown_curve if unknown else breadth_credit
    else:
        curve = _light_curve if family is LIGHT else _pushed_curve
    return {column: curve(sum(counts.get(kind, 0) for kind in kinds)) for column, kinds in _subset_columns(family)}


@dataclass(frozen=True, slots=True)
class MemberTotals:
    """One member's sums for one period, in the order of `COUNTERS` (a row of the store's totals table)."""

    user_id: str
    counters: tuple[int, ...]

    def __getitem__(self, name: str) -> int:
        return self.counters[_INDEX[name]]

    def count(self, kind: Kind) -> int:
        return self.counters[_INDEX[COUNT_COLUMNS[kind]]]


def _heaviest_first(family: Family, weights: Mapping[Kind, float]) -> tuple[Kind, ...]:
    return tuple(sorted(family.kinds, key=lambda kind: (-weights[kind], kind.value)))


def _prefix_indexes(family: Family, order: tuple[Kind, ...]) -> tuple[int, ...]:
    """Where the sums of the 1, 2, ... heaviest kinds of `order` sit in `counters`."""
    return tuple(_INDEX[family.column(set(order[: i + 1]))] for i in range(len(order)))


@dataclass(frozen=True)
class _Plan:
    """The team's weights turned into column positions and coefficients once per scoring run."""

    breadth: tuple[tuple[int, float], ...]  # (index of a prefix sum, (w_i - w_(i+1)) / CREDIT_UNIT)
    light: tuple[tuple[Kind, int], ...]  # heaviest first: (kind, index of the prefix sum ending with it)
    pushed: tuple[tuple[Kind, int], ...]
    given: tuple[int, ...]
    pushed_counts: tuple[int, ...]
    light_counts: tuple[int, ...]
    conversation: tuple[int, ...]
    kinds: tuple[tuple[Kind, int], ...]

    @classmethod
    def of(cls, rules: ScoringRules) -> _Plan:
        weights = rules.weights
        order = _heaviest_first(BREADTH, weights)
        steps = [weights[kind] for kind in order] + [0.0]
        breadth = tuple(
            (index, (steps[i] - steps[i + 1]) / CREDIT_UNIT)
            for i, index in enumerate(_prefix_indexes(BREADTH, order))
            if steps[i] != steps[i + 1]
        )
        light_order = _heaviest_first(LIGHT, weights)
        pushed_order = _heaviest_first(PUSHED, weights)

        def counts(kinds: AbstractSet[Kind]) -> tuple[int, ...]:
            return tuple(_INDEX[COUNT_COLUMNS[kind]] for kind in sorted(kinds))

        return cls(
            breadth=breadth,
            light=tuple(zip(light_order, _prefix_indexes(LIGHT, light_order), strict=True)),
            pushed=tuple(zip(pushed_order, _prefix_indexes(PUSHED, pushed_order), strict=True)),
            given=counts(GIVEN_KINDS),
            pushed_counts=counts(PUSHED_KINDS),
            light_counts=counts(LIGHT_KINDS),
            conversation=counts(CONVERSATION_KINDS),
            kinds=tuple((kind, _INDEX[COUNT_COLUMNS[kind]]) for kind in Kind),
        )


def score_totals(
    totals: Iterable[MemberTotals], rules: ScoringRules, excluded: AbstractSet[str] = frozenset()
) -> list[MemberScore]:
    """Score and rank members from their totals exactly as `score_members` does from tallies.

    Members whose totals are all zero are left out (nothing to show), as are `excluded` ones.
    """
    if (rules.light_daily_cap, rules.burst_free_per_hour) != (TOTALS_LIGHT_DAILY_CAP, TOTALS_BURST_FREE_PER_HOUR):
        raise ValueError("totals are summed with the default daily cap and burst allowance; rebuild them first")
    plan = _Plan.of(rules)
    weights = rules.weights
    received_index = _INDEX[RECEIVED_COLUMN]
    breadth_of, coefficients = _pick(tuple(index for index, _ in plan.breadth)), [c for _, c in plan.breadth]
    given_of, pushed_of, light_of = _pick(plan.given), _pick(plan.pushed_counts), _pick(plan.light_counts)
    conversation_of, counts_of = _pick(plan.conversation), _pick(tuple(index for _, index in plan.kinds))
    kinds = tuple(kind for kind, _ in plan.kinds)
    settled = []
    for member in totals:
        c = member.counters
        if member.user_id in excluded or not any(c):
            continue
        received = c[received_index]
        terms = [rules.received_weight * received, *map(operator.mul, coefficients, breadth_of(c))]
        earned_before = 0
        for kind, index in plan.light:
            terms.append(weights[kind] * (c[index] - earned_before))
            earned_before = c[index]
        capped_light = sum(light_of(c)) - earned_before
        given = sum(given_of(c)) - capped_light
        pushed = sum(pushed_of(c))
        places = math.floor(given / rules.target_ratio + _RATIO_TOLERANCE)
        eligible_before = 0
        earned_posts = 0
        for kind, index in plan.pushed:
            earning = min(c[index] - eligible_before, places)
            terms.append(weights[kind] * earning)
            places -= earning
            earned_posts += earning
            eligible_before = c[index]
        facts = (math.fsum(terms), given, pushed, capped_light, pushed - earned_posts, received)
        settled.append((member, facts))
    settled.sort(key=lambda entry: (-round(entry[1][0], _RANK_DECIMALS), -entry[1][1], entry[0].user_id))
    return [
        MemberScore(
            user_id=member.user_id,
            rank=rank,
            score=score,
            given=given,
            pushed=pushed,
            received=received,
            counts=MappingProxyType(dict(zip(kinds, counts_of(member.counters), strict=True))),
            conversation=sum(conversation_of(member.counters)),
            ratio=ratio_of(given, pushed),
            capped_light=capped_light,
            unbalanced_posts=unbalanced,
        )
        for rank, (member, (score, given, pushed, capped_light, unbalanced, received)) in enumerate(settled, start=1)
    ]


def _pick(indexes: tuple[int, ...]) -> Callable[[tuple[int, ...]], tuple[int, ...]]:
    """A fast getter of several counters at once that always returns a tuple (itemgetter does not for one)."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)
    return lambda counters: tuple(counters[index] for index in indexes)
