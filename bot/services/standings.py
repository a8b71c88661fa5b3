"""Standings: who is most social in a period, one member's place and trend. What every surface ranks by.

`team_standings` and `member_standing` take a Session (the weekly summary calls them inside its own
transaction); `leaderboard` and `me` are the slash-command use cases and open their own. Scores come from
the rollups (one row per member and period, kept on write) through the pure `bot.coach.totals.score_totals`,
so every period, `all` included, costs the same few thousand rows however long the ledger grows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from sqlalchemy.orm import Session

from bot.coach.advice import NextStep, next_step
from bot.coach.kinds import Kind
from bot.coach.periods import Period, PeriodName, period_containing, previous_period
from bot.coach.scoring import InvalidScoringRules, MemberScore, ScoringRules, ratio_of
from bot.coach.settings import TeamSettings
from bot.coach.totals import COUNT_COLUMNS, COUNTERS, score_totals
from bot.deps import Deps
from bot.services.errors import Refusal
from bot.services.teams import ensure_team, team_settings
from bot.store.models import Member
from bot.store.tallies import bucket_of, member_totals, opted_out_members, private_channels_of
from bot.store.waiting import WaitingLink, waiting_links

OPTED_OUT = "You've opted out, so I'm not keeping a tally for you. `/coach optin` turns it back on whenever you like."
# Enough candidates that links in private channels the member cannot see still leave a few to show.
_WAITING_CANDIDATES = 50


@dataclass(frozen=True)
class Standings:
    """A team's members ranked for one calendar period, with the team's own balance.

    `members` is best first and never holds opted-out members; `totals` counts every kind for the team.
    """

    team_id: str
    period: Period
    target_ratio: float
    members: tuple[MemberScore, ...]
    totals: Mapping[Kind, int]
    given: int
    pushed: int

    @property
    def ratio(self) -> float | None:
        """The team's engagement given per post pushed (None without posts)."""
        return ratio_of(self.given, self.pushed)

    def of(self, user_id: str) -> MemberScore | None:
        return next((member for member in self.members if member.user_id == user_id), None)

    def top(self, n: int) -> tuple[MemberScore, ...]:
        return self.members[:n]


@dataclass(frozen=True)
class Trend:
    """A member's calendar week so far against the whole of last week."""

    this_week: MemberScore | None
    last_week: MemberScore | None

    @property
    def score_change(self) -> float:
        return _score(self.this_week) - _score(self.last_week)


@dataclass(frozen=True)
class MemberStanding:
    """What `/coach me` shows: the member's facts for the period, place, trend and one next step."""

    user_id: str
    standings: Standings
    score: MemberScore | None
    trend: Trend
    next_step: NextStep
    waiting: WaitingLink | None

    @property
    def ranked(self) -> int:
        return len(self.standings.members)


def _score(score: MemberScore | None) -> float:
    return score.score if score else 0.0


def scoring_rules(settings: TeamSettings) -> ScoringRules:
    """The team's rules; a stored combination the scoring cannot honour is explained, not crashed on."""
    try:
        return ScoringRules.from_settings(settings.weights, settings.target_ratio)
    except InvalidScoringRules as error:
        raise Refusal(
            f"The team's scoring settings don't add up: {error} "
            "An admin can fix it with `/coach settings weight <kind> default`."
        ) from error


def team_standings(
    session: Session, team_id: str, period: PeriodName | str, now: datetime, settings: TeamSettings
) -> Standings:
    """Rank the team for the calendar period `period` containing `now` (in the team's time zone)."""
    calendar = period_containing(period, now, settings.timezone)
    return _standings(session, team_id, calendar, settings)


def _standings(session: Session, team_id: str, calendar: Period, settings: TeamSettings) -> Standings:
    name, start = bucket_of(calendar, settings.timezone)
    opted_out = opted_out_members(session, team_id)
    totals = member_totals(session, team_id, name, start, opted_out=opted_out)
    members = tuple(score_totals(totals, scoring_rules(settings), opted_out))
    columns = list(zip(*(member.counters for member in totals if member.user_id not in opted_out), strict=True))
    team_counts = {
        kind: sum(columns[COUNTERS.index(column)]) if columns else 0 for kind, column in COUNT_COLUMNS.items()
    }
    return Standings(
        team_id=team_id,
        period=calendar,
        target_ratio=settings.target_ratio,
        members=members,
        totals=MappingProxyType(team_counts),
        given=sum(member.given for member in members),
        pushed=sum(member.pushed for member in members),
    )


def week_trend(session: Session, team_id: str, user_id: str, now: datetime, settings: TeamSettings) -> Trend:
    """The member's score this week so far and last week (two rows, scored on their own)."""
    this_week = period_containing(PeriodName.WEEK, now, settings.timezone)
    rules = scoring_rules(settings)
    opted_out = opted_out_members(session, team_id)

    def one(calendar: Period) -> MemberScore | None:
        name, start = bucket_of(calendar, settings.timezone)
        totals = member_totals(session, team_id, name, start, opted_out=opted_out, user_ids=[user_id])
        return next(iter(score_totals(totals, rules, opted_out)), None)

    return Trend(one(this_week), one(previous_period(this_week, settings.timezone)))


def visible_waiting_links(
    session: Session, team_id: str, user_id: str, now: datetime, settings: TeamSettings, limit: int
) -> list[WaitingLink]:
    """Teammates' links waiting for a reply that this member may see, oldest first.

    Visible means shared in a public channel, or in a private channel the member has been active in
    (the ledger is how the bot knows who is in a private channel without asking Slack per link).
    """
    candidates = waiting_links(
        session,
        team_id,
        now,
        settings.waiting_hours,
        public_only=False,
        limit=_WAITING_CANDIDATES,
        exclude_user_id=user_id,
    )
    if any(link.is_private for link in candidates):
        mine = private_channels_of(session, team_id, user_id)
        candidates = [link for link in candidates if not link.is_private or link.channel_id in mine]
    return candidates[:limit]


def is_opted_out(session: Session, team_id: str, user_id: str) -> bool:
    member = session.get(Member, (team_id, user_id))
    return bool(member and member.opted_out)


def member_standing(
    session: Session, team_id: str, user_id: str, period: PeriodName | str, now: datetime, settings: TeamSettings
) -> MemberStanding:
    """The member's place in the period, this week against last, and the step most worth taking next."""
    standings = team_standings(session, team_id, period, now, settings)
    score = standings.of(user_id)
    waiting = visible_waiting_links(session, team_id, user_id, now, settings, limit=1)
    step = next_step(
        score.given if score else 0,
        score.pushed if score else 0,
        settings.target_ratio,
        teammate_waiting=bool(waiting),
    )
    return MemberStanding(
        user_id=user_id,
        standings=standings,
        score=score,
        trend=week_trend(session, team_id, user_id, now, settings),
        next_step=step,
        waiting=waiting[0] if waiting else None,
    )


def leaderboard(deps: Deps, team_id: str, period: PeriodName) -> Standings:
    """`/coach leaderboard`: the team ranked for the period containing now."""
    with deps.db.session() as session:
        team = ensure_team(session, team_id, deps.now())
        return team_standings(session, team_id, period, deps.now(), team_settings(team))


def me(deps: Deps, team_id: str, user_id: str, period: PeriodName) -> MemberStanding:
    """`/coach me`: refuse kindly for a member who opted out (we keep nothing for them)."""
    with deps.db.session() as session:
        team = ensure_team(session, team_id, deps.now())
        if is_opted_out(session, team_id, user_id):
            raise Refusal(OPTED_OUT)
        return member_standing(session, team_id, user_id, period, deps.now(), team_settings(team))
