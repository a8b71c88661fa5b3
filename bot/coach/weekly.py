"""What the weekly summary says, decided from scored members: totals, the trend, and whom to praise.

Pure: the service hands over `score_members` results for the week and the week before, plus the few
facts about links the store counted; this module picks the words' facts. Praise is public, so only
good reasons put a name here: engagement given (never output) and a ratio that improved.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

from bot.coach.kinds import Kind
from bot.coach.scoring import MemberScore, ratio_of

MOST_SOCIAL = 3
# Ratios closer than this are "about the same": a trend arrow for 3.02 vs 3.00 would be noise.
TREND_MARGIN = 0.1


class Trend(enum.StrEnum):
    UP = "up"
    DOWN = "down"
    SAME = "same"
    NEW = "new"  # nothing to compare with: no posts this week or the week before


@dataclass(frozen=True)
class DiscussedLink:
    """The shared link with the most substantive replies in its thread."""

    user_id: str
    url: str
    channel_id: str
    message_ts: str
    replies: int


@dataclass(frozen=True)
class Improvement:
    """A member whose ratio of engagement given per post rose since the week before."""

    user_id: str
    before: float
    after: float


@dataclass(frozen=True)
class WeekFacts:
    """Everything one weekly summary shows, in the team's own calendar (`first_day` is a Monday)."""

    first_day: date
    last_day: date
    replies: int
    comments: int
    answers: int
    posts: int  # posts logged plus links shared
    given: int  # all engagement given that counted (likes and follows beyond the daily cap do not)
    ratio: float | None
    previous_ratio: float | None
    target_ratio: float
    most_social: tuple[MemberScore, ...]
    most_improved: Improvement | None
    most_discussed: DiscussedLink | None
    links_shared: int
    links_unanswered: int
    tip: str

    @property
    def quiet(self) -> bool:
        """Nothing given and nothing posted: the summary says so briefly and still brings its tip."""
        return self.given == 0 and self.posts == 0

    @property
    def conversations(self) -> int:
        return self.replies + self.comments + self.answers

    @property
    def trend(self) -> Trend:
        if self.ratio is None or self.previous_ratio is None:
            return Trend.NEW
        if self.ratio > self.previous_ratio + TREND_MARGIN:
            return Trend.UP
        if self.ratio < self.previous_ratio - TREND_MARGIN:
            return Trend.DOWN
        return Trend.SAME


def team_ratio(scores: Sequence[MemberScore]) -> float | None:
    """The team's engagement given per post, summed over members (not an average of their ratios)."""
    return ratio_of(sum(score.given for score in scores), sum(score.pushed for score in scores))


def most_social(
    scores: Sequence[MemberScore], limit: int = MOST_SOCIAL, unnamed: AbstractSet[str] = frozenset()
) -> tuple[MemberScore, ...]:
    """The best-ranked members who gave engagement (points alone could come from posting), never `unnamed`."""
    ranked = sorted(scores, key=lambda score: score.rank)
    return tuple(s for s in ranked if s.given > 0 and s.score > 0 and s.user_id not in unnamed)[:limit]


def most_improved(
    this_week: Sequence[MemberScore], last_week: Sequence[MemberScore], unnamed: AbstractSet[str] = frozenset()
) -> Improvement | None:
    """The member whose ratio rose the most since last week, or None if nobody's rose.

    Only members with posts in both weeks have two ratios to compare; ties go to the higher ratio now,
    then to the user id, so the same weeks always name the same person.
    """
    before = {score.user_id: score.ratio for score in last_week if score.ratio is not None}
    best: Improvement | None = None
    for score in this_week:
        previous = before.get(score.user_id)
        if (
            score.ratio is None
            or previous is None
            or score.ratio <= previous + TREND_MARGIN
            or score.user_id in unnamed
        ):
            continue
        candidate = Improvement(score.user_id, previous, score.ratio)
        if best is None or _better(candidate, best):
            best = candidate
    return best


def _better(a: Improvement, b: Improvement) -> bool:
    rise_a, rise_b = a.after - a.before, b.after - b.before
    if rise_a != rise_b:
        return rise_a > rise_b
    if a.after != b.after:
        return a.after > b.after
    return a.user_id < b.user_id


def summarize_week(
    this_week: Sequence[MemberScore],
    last_week: Sequence[MemberScore],
    *,
    first_day: date,
    last_day: date,
    target_ratio: float,
    most_discussed: DiscussedLink | None,
    links_shared: int,
    links_unanswered: int,
    tip: str,
    unnamed: AbstractSet[str] = frozenset(),
) -> WeekFacts:
    """Fold the week's scores into the facts the summary shows; `unnamed` members count but are never named."""

    def count(kind: Kind) -> int:
        return sum(score.counts.get(kind, 0) for score in this_week)

    return WeekFacts(
        first_day=first_day,
        last_day=last_day,
        replies=count(Kind.REPLY),
        comments=count(Kind.COMMENT),
        answers=count(Kind.ANSWER),
        posts=sum(score.pushed for score in this_week),
        given=sum(score.given for score in this_week),
        ratio=team_ratio(this_week),
        previous_ratio=team_ratio(last_week),
        target_ratio=target_ratio,
        most_social=most_social(this_week, unnamed=unnamed),
        most_improved=most_improved(this_week, last_week, unnamed),
        most_discussed=most_discussed,
        links_shared=links_shared,
        links_unanswered=links_unanswered,
        tip=tip,
    )
