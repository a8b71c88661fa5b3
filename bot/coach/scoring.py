"""Points for social actions: conversation outscores broadcasting, and neither clicking nor hammering can win.

The leaderboard, summaries and nudges all rank members by these points, so the rules live here once, pure:
standard library and `bot.coach` only, no I/O, no clock. The store hands over SQL aggregate rows (`Tally`);
`score_members` folds them per member in one pass and returns facts (`MemberScore`), not flags.

How the points work, and why:
- **Given** (reply, comment, answer, share) earns its weight, with diminishing returns per counterpart over
  the scored period: the k-th action toward the same counterpart earns weight * max(1/k, 1/4). Harmonic
  rather than geometric, because halving each time caps a counterpart at twice one reply, so a long, real
  thread with one customer would soon earn nothing ("answer the people who talk to you"). The floor of 1/4
  keeps even a repeat reply worth more than a post (5 * 1/4 > 1); `ScoringRules` refuses weights that break
  that. Four replies to four people earn 4 units, four to one person about 2.1: breadth beats hammering.
  Actions toward one counterpart are counted across kinds, heaviest first, so switching between reply and
  comment does not dodge the curve and arrival order never matters.
- **Unknown counterpart** ('': logged without a link) gets full credit for its first
  `UNKNOWN_COUNTERPART_FREE` actions in the period, as if each went to someone different; later ones continue
  the curve as repeats toward one person. Hand logs are not punished as hammering, and leaving the link out
  is never better than naming who you talked to.
- **Likes and follows** are not subject to breadth; they are capped per member per local day instead (likes
  and follows together, heaviest first). Capped ones count nowhere, not even in the ratio: otherwise forty
  clicks would unlock ten posts and clicking would win by the back door.
- **Pushed** (posts and links) earn only while balanced: the first `burst_free_per_hour` in a local hour are
  eligible, and at most floor(given / target_ratio) eligible posts earn, heaviest first. The rest earn
  nothing, never less: adding a post can never lower a score.
- **Received** earns `received_weight` per distinct teammate per item (the caller counts distinct teammates).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from types import MappingProxyType
from typing import NamedTuple

from bot.coach.kinds import CONVERSATION_KINDS, GIVEN_KINDS, LIGHT_KINDS, PUSHED_KINDS, Kind

DEFAULT_WEIGHTS: Mapping[Kind, float] = MappingProxyType(
    {
        Kind.ANSWER: 6.0,
        Kind.REPLY: 5.0,
        Kind.COMMENT: 5.0,
        Kind.SHARE: 2.0,
        Kind.LIKE: 0.5,
        Kind.FOLLOW: 0.5,
        Kind.POST: 1.0,
        Kind.LINK: 1.0,
    }
)
DEFAULT_TARGET_RATIO = 4.0  # the 4-1-1 rule: about four social actions for each post of one's own
DEFAULT_LIGHT_DAILY_CAP = 10
DEFAULT_BURST_FREE_PER_HOUR = 3
DEFAULT_RECEIVED_WEIGHT = 0.5

# Team settings are checked against these, inclusive, so one typo cannot turn the leaderboard upside down.
WEIGHT_BOUNDS = (0.0, 20.0)
TARGET_RATIO_BOUNDS = (0.5, 20.0)
LIGHT_DAILY_CAP_BOUNDS = (0, 100)
BURST_FREE_PER_HOUR_BOUNDS = (1, 20)

BREADTH_FLOOR = 0.25  # the least share of its weight a repeat action toward one counterpart still earns
UNKNOWN_COUNTERPART_FREE = 5  # actions with no known counterpart that earn full credit per scored period

# Ranks compare scores to this many decimals, so float noise never overrides the tie-break on given.
_RANK_DECIMALS = 9
# Target ratios are typed as decimals: 33 actions at a 1.1 target must balance 30 posts, though 33 / 1.1 < 30.
_RATIO_TOLERANCE = 1e-9

_BREADTH_KINDS = GIVEN_KINDS - LIGHT_KINDS
_ALL_KINDS = tuple(Kind)  # iterating the enum class itself is slow, and this is read once per member
# Sum of max(1/k, BREADTH_FLOOR) for k = 1..n, for n up to where the harmonic part meets the floor.
_HARMONIC_TOTALS = tuple(accumulate((1 / k for k in range(1, round(1 / BREADTH_FLOOR) + 1)), initial=0.0))


class InvalidScoringRules(ValueError):
    """A team setting outside what the scoring can honour; the message names the bound, in plain words."""


def _within(value: float, bounds: tuple[float, float], what: str) -> None:
    low, high = bounds
    if not low <= value <= high:  # also rejects NaN
        raise InvalidScoringRules(f"{what} must be between {low:g} and {high:g}; {value:g} is outside that range.")


def _kind_named(name: str) -> Kind:
    try:
        return Kind(name)
    except ValueError:
        known = ", ".join(sorted(kind.value for kind in Kind))
        raise InvalidScoringRules(f"There is no action called {name!r}; use one of: {known}.") from None


@dataclass(frozen=True)
class ScoringRules:
    """A team's weights, caps and target ratio; checked on construction, so an invalid set cannot exist.

    `weights` may name only the kinds a team changed: the rest keep `DEFAULT_WEIGHTS`. Besides its bounds, a
    post or link must weigh less than `BREADTH_FLOOR` times the lightest of reply, comment and answer, so that
    one more conversation always earns more than one more post, whatever the team sets.
    """

    weights: Mapping[Kind, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    target_ratio: float = DEFAULT_TARGET_RATIO
    light_daily_cap: int = DEFAULT_LIGHT_DAILY_CAP
    burst_free_per_hour: int = DEFAULT_BURST_FREE_PER_HOUR
    received_weight: float = DEFAULT_RECEIVED_WEIGHT

    def __post_init__(self) -> None:
        weights = {**DEFAULT_WEIGHTS, **{_kind_named(kind): float(w) for kind, w in self.weights.items()}}
        object.__setattr__(self, "weights", MappingProxyType(weights))
        for kind in Kind:
            _within(weights[kind], WEIGHT_BOUNDS, f"Points per {kind}")
        _within(self.target_ratio, TARGET_RATIO_BOUNDS, "The target ratio (social actions per post)")
        _within(self.light_daily_cap, LIGHT_DAILY_CAP_BOUNDS, "The daily cap on likes and follows")
        _within(self.burst_free_per_hour, BURST_FREE_PER_HOUR_BOUNDS, "The number of posts per hour that can earn")
        _within(self.received_weight, WEIGHT_BOUNDS, "Points per teammate engaging with a member's item")
        lightest = min(CONVERSATION_KINDS, key=lambda kind: (weights[kind], kind.value))
        limit = BREADTH_FLOOR * weights[lightest]
        for kind in sorted(PUSHED_KINDS):
            if weights[kind] >= limit:
                raise InvalidScoringRules(
                    f"Points per {kind} must stay below {limit:g} ({BREADTH_FLOOR:g} of the {weights[lightest]:g}"
                    f" per {lightest}), so that even a repeat {lightest} earns more than a {kind};"
                    f" {weights[kind]:g} is too much."
                )

    @classmethod
    def from_settings(cls, weights: Mapping[str, float] | None, target_ratio: float | None) -> ScoringRules:
        """Build a team's rules from its stored overrides (by kind name); anything not set keeps its default."""
        return cls(
            weights={_kind_named(name): value for name, value in (weights or {}).items()},
            target_ratio=DEFAULT_TARGET_RATIO if target_ratio is None else target_ratio,
        )


DEFAULT_RULES = ScoringRules()


@dataclass(frozen=True, slots=True)
class Tally:
    """One SQL aggregate row: how many actions of one kind one member did toward one counterpart in one hour.

    `day` and `hour` are local to the team's time zone; for given kinds `hour` may be 0 because only pushed
    kinds are scored per hour. `counterpart` '' means unknown.
    """

    user_id: str
    kind: Kind
    day: date
    hour: int
    counterpart: str
    count: int


@dataclass(frozen=True, slots=True)
class MemberScore:
    """One member's place and the facts behind it, ready for the leaderboard, summaries and report JSON.

    `given` counts the engagement that counted: all given actions minus `capped_light`, so `ratio` is always
    `given / pushed`. `counts` holds the raw count of every kind (posts are POST + LINK).
    """

    user_id: str
    rank: int
    score: float
    given: int
    pushed: int
    received: int
    counts: Mapping[Kind, int]
    conversation: int  # replies + comments + answers
    ratio: float | None
    capped_light: int  # likes and follows that earned nothing because of the daily cap
    unbalanced_posts: int  # posts that earned nothing: beyond the target ratio, or in a burst


def ratio_of(given: int, pushed: int) -> float | None:
    """Return social actions given per post pushed, or None when there are no posts (nothing to balance)."""
    return given / pushed if pushed else None


def _breadth_total(n: int) -> float:
    """Sum of max(1/k, BREADTH_FLOOR) for k = 1..n: what n actions toward one counterpart earn per weight."""
    if n < len(_HARMONIC_TOTALS):
        return _HARMONIC_TOTALS[n]
    return _HARMONIC_TOTALS[-1] + BREADTH_FLOOR * (n - len(_HARMONIC_TOTALS) + 1)


def _unknown_breadth_total(n: int) -> float:
    """Like `_breadth_total` for counterpart '': the first few at full credit, then repeats toward one person."""
    if n <= UNKNOWN_COUNTERPART_FREE:
        return float(n)
    return UNKNOWN_COUNTERPART_FREE - 1 + _breadth_total(n - UNKNOWN_COUNTERPART_FREE + 1)


class _HeaviestFirst(NamedTuple):
    """Each family of kinds sorted by weight, so what a limit leaves out is always the lightest, in any order."""

    breadth: tuple[Kind, ...]
    light: tuple[Kind, ...]
    pushed: tuple[Kind, ...]

    @classmethod
    def of(cls, weights: Mapping[Kind, float]) -> _HeaviestFirst:
        """Sort once per scoring run rather than once per member."""

        def order(kinds: AbstractSet[Kind]) -> tuple[Kind, ...]:
            return tuple(sorted(kinds, key=lambda kind: (-weights[kind], kind.value)))

        return cls(order(_BREADTH_KINDS), order(LIGHT_KINDS), order(PUSHED_KINDS))


def _fill(counts: Mapping[Kind, int], order: tuple[Kind, ...], places: int, into: dict[Kind, int]) -> int:
    """Add to `into` how many of each kind fit in `places`, heaviest first; return how many did not fit."""
    if sum(counts.values()) <= places:  # the usual case, and the hot one: everything fits, order is moot
        for kind, n in counts.items():
            into[kind] = into.get(kind, 0) + n
        return 0
    left_out = 0
    for kind in order:
        n = counts.get(kind, 0)
        fitting = min(n, places)
        into[kind] = into.get(kind, 0) + fitting
        places -= fitting
        left_out += n - fitting
    return left_out


class _Ledger:
    """One member's tallies grouped the way the rules need them; mutable, private to one scoring run."""

    __slots__ = ("counts", "light_by_day", "pushed_by_hour", "toward")

    def __init__(self) -> None:
        self.counts: dict[Kind, int] = dict.fromkeys(_ALL_KINDS, 0)
        self.toward: dict[str, dict[Kind, int]] = {}  # counterpart -> counts of reply, comment, answer, share
        self.light_by_day: dict[date, dict[Kind, int]] = {}
        self.pushed_by_hour: dict[tuple[date, int], dict[Kind, int]] = {}


class _Settled(NamedTuple):
    """What the rules made of one ledger: enough to rank members before building their `MemberScore`."""

    score: float
    given: int
    pushed: int
    capped_light: int
    unbalanced_posts: int


def score_members(
    tallies: Iterable[Tally],
    received: Mapping[str, int],
    rules: ScoringRules = DEFAULT_RULES,
    excluded: AbstractSet[str] = frozenset(),
) -> list[MemberScore]:
    """Score every member seen in `tallies` or `received`, except `excluded`, ranked best first.

    Equal scores rank the member who gave more engagement first, then by user id, so ranks are distinct
    and the same input always gives the same order. One pass over the rows, then work per group.
    """
    ledgers: dict[str, _Ledger] = {}
    for tally in tallies:
        user_id = tally.user_id
        ledger = ledgers.get(user_id)
        if ledger is None:
            if user_id in excluded:
                continue
            ledger = ledgers[user_id] = _Ledger()
        kind = tally.kind
        ledger.counts[kind] += tally.count
        if kind in LIGHT_KINDS:
            groups, key = ledger.light_by_day, tally.day
        elif kind in PUSHED_KINDS:
            groups, key = ledger.pushed_by_hour, (tally.day, tally.hour)
        else:
            groups, key = ledger.toward, tally.counterpart
        group = groups.get(key)
        if group is None:
            group = groups[key] = {}
        group[kind] = group.get(kind, 0) + tally.count
    for user_id in received:
        if user_id not in ledgers and user_id not in excluded:
            ledgers[user_id] = _Ledger()

    weights = dict(rules.weights)  # a plain dict reads faster than the rules' read-only proxy
    heaviest_first = _HeaviestFirst.of(weights)
    settled = [
        (user_id, ledger, _settle(ledger, received.get(user_id, 0), rules, weights, heaviest_first))
        for user_id, ledger in ledgers.items()
    ]
    settled.sort(key=lambda entry: (-round(entry[2].score, _RANK_DECIMALS), -entry[2].given, entry[0]))
    return [
        _member_score(user_id, rank, ledger.counts, received.get(user_id, 0), facts)
        for rank, (user_id, ledger, facts) in enumerate(settled, start=1)
    ]


def _settle(
    ledger: _Ledger, received: int, rules: ScoringRules, weights: dict[Kind, float], heaviest_first: _HeaviestFirst
) -> _Settled:
    """Apply the rules to one member's ledger."""
    # Summed with fsum, which is exact whatever the order, so row order cannot move a score by one ulp.
    terms: list[float] = [rules.received_weight * received]

    for counterpart, group in ledger.toward.items():
        total = _unknown_breadth_total if counterpart == "" else _breadth_total
        done = 0
        for kind in heaviest_first.breadth if len(group) > 1 else group:  # one kind needs no ordering
            n = group.get(kind, 0)
            if n:
                terms.append(weights[kind] * (total(done + n) - total(done)))
                done += n

    earned_light: dict[Kind, int] = {}
    capped_light = sum(
        _fill(group, heaviest_first.light, rules.light_daily_cap, earned_light)
        for group in ledger.light_by_day.values()
    )

    eligible_posts: dict[Kind, int] = {}
    for group in ledger.pushed_by_hour.values():
        _fill(group, heaviest_first.pushed, rules.burst_free_per_hour, eligible_posts)
    given = _total(ledger.counts, GIVEN_KINDS) - capped_light
    pushed = _total(ledger.counts, PUSHED_KINDS)
    balanced = math.floor(given / rules.target_ratio + _RATIO_TOLERANCE)
    earned_posts: dict[Kind, int] = {}
    unbalanced_posts = _fill(eligible_posts, heaviest_first.pushed, balanced, earned_posts)
    unbalanced_posts += pushed - sum(eligible_posts.values())  # the bursts

    terms.extend(weights[kind] * n for kind, n in earned_light.items())
    terms.extend(weights[kind] * n for kind, n in earned_posts.items())
    return _Settled(math.fsum(terms), given, pushed, capped_light, unbalanced_posts)


def _total(counts: Mapping[Kind, int], kinds: AbstractSet[Kind]) -> int:
    return sum(map(counts.__getitem__, kinds))


def _member_score(user_id: str, rank: int, counts: dict[Kind, int], received: int, facts: _Settled) -> MemberScore:
    return MemberScore(
        user_id=user_id,
        rank=rank,
        score=facts.score,
        given=facts.given,
        pushed=facts.pushed,
        received=received,
        counts=MappingProxyType(counts),
        conversation=_total(counts, CONVERSATION_KINDS),
        ratio=ratio_of(facts.given, facts.pushed),
        capped_light=facts.capped_light,
        unbalanced_posts=facts.unbalanced_posts,
    )
