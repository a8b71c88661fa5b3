"""Standings: who is most social in a period, one member's place and trend. What every surface ranks by.

`team_standings` and `member_standing` take a Session (the weekly summary calls them inside its own
transaction); `leaderboard` and `me` are the slash-command use cases and open their own. Scores come from
the rollups (one row per member and period, kept on write) through the pure `bot.coach.totals.score_totals`,
so every period, `all` included, costs the same few thousand rows however long the ledger grows.

Links from private channels are shown only to members of those channels: the caller asks Slack which
private channels the member shares with the bot (`bot.services.members.shared_private_channels`) before
the transaction opens, and passes them in; without them only public-channel links are shown.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.coach.advice import NextStep, next_step
from bot.coach.kinds import Kind
from bot.coach.periods import Period, PeriodName, period_containing, previous_period
from bot.coach.scoring import InvalidScoringRules, MemberScore, ScoringRules, ratio_of, score_members
from bot.coach.settings import TeamSettings
from bot.coach.totals import COUNT_COLUMNS, COUNTERS, MemberTotals, score_totals
from bot.deps import Deps
from bot.services.errors import Refusal
from bot.services.teams import ensure_team, team_settings
from bot.store.tallies import (
    Unnamed,
    bucket_of,
    member_received,
    member_tallies,
    member_totals,
    unnamed_members,
)
from bot.store.waiting import WaitingLink, waiting_links

OPTED_OUT = "You've opted out, so I'm not keeping a tally for you. `/coach optin` turns it back on whenever you like."


@dataclass(frozen=True)
class Standings:
    """A team's members ranked for one calendar period, with the team's own balance.

    `members` is everyone who counts, best first, never opted-out members: the team's numbers add them all
    up, and the weekly summary decides itself whom it names. `board` is the members the bot may name
    (not deactivated, not bots), ranked 1, 2, 3... among themselves: what boards, ranks and the App Home
    show. `totals` counts every kind for the team.
    """

    team_id: str
    period: Period
    target_ratio: float
    members: tuple[MemberScore, ...]
    totals: Mapping[Kind, int]
    given: int
    pushed: int
    board: tuple[MemberScore, ...]

    @property
    def ratio(self) -> float | None:
        """The team's engagement given per post pushed (None without posts)."""
        return ratio_of(self.given, self.pushed)

    def of(self, user_id: str) -> MemberScore | None:
        """The member's place on the board (None for someone with nothing this period, or never named)."""
        return next((member for member in self.board if member.user_id == user_id), None)

    def top(self, n: int) -> tuple[MemberScore, ...]:
        return self.board[:n]


def named_board(members: tuple[MemberScore, ...], unnamed: Collection[str]) -> tuple[MemberScore, ...]:
    """`members` without the unnamed ones, ranked again so the board never shows a gap where someone was."""
    if not any(member.user_id in unnamed for member in members):
        return members
    shown = (member for member in members if member.user_id not in unnamed)
    return tuple(replace(member, rank=rank) for rank, member in enumerate(shown, start=1))


@dataclass(frozen=True)
class Trend:
    """A member's calendar week so far against last week up to the same moment (same local weekday and time).

    Against the whole of last week every Monday would read as a fall; like for like, it reads as what it is.
    """

    this_week: MemberScore | None
    last_week: MemberScore | None


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
        return len(self.standings.board)


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
    session: Session,
    team_id: str,
    period: PeriodName | str,
    now: datetime,
    settings: TeamSettings,
    *,
    unnamed: Unnamed | None = None,
) -> Standings:
    """Rank the team for the calendar period `period` containing `now` (in the team's time zone).

    `unnamed` is who is never named, when the caller has already read it in this transaction.
    """
    calendar = period_containing(period, now, settings.timezone)
    return _standings(session, team_id, calendar, settings, unnamed or unnamed_members(session, team_id))


def _standings(session: Session, team_id: str, calendar: Period, settings: TeamSettings, unnamed: Unnamed) -> Standings:
    name, start = bucket_of(calendar, settings.timezone)
    opted_out = unnamed.opted_out
    totals = member_totals(session, team_id, name, start, opted_out=opted_out)
    members = tuple(score_totals(totals, scoring_rules(settings), opted_out))
    return Standings(
        team_id=team_id,
        period=calendar,
        target_ratio=settings.target_ratio,
        members=members,
        totals=MappingProxyType(_team_counts(totals, opted_out)),
        given=sum(member.given for member in members),
        pushed=sum(member.pushed for member in members),
        board=named_board(members, unnamed.everyone),
    )


_KINDS = tuple(COUNT_COLUMNS)
_KIND_COUNTS = operator.itemgetter(*(COUNTERS.index(COUNT_COLUMNS[kind]) for kind in _KINDS))


def _team_counts(totals: list[MemberTotals], opted_out: frozenset[str]) -> dict[Kind, int]:
    """Every kind counted for the team, opted-out members left out (only the count columns, not all 30)."""
    counted = [_KIND_COUNTS(member.counters) for member in totals if member.user_id not in opted_out]
    sums = [sum(column) for column in zip(*counted, strict=True)] if counted else [0] * len(_KINDS)
    return dict(zip(_KINDS, sums, strict=True))


def same_moment_last_week(now: datetime, timezone: str) -> datetime:
    """`now` seven days earlier on the team's wall clock (an hour's DST shift does not move the cut)."""
    return (now.astimezone(ZoneInfo(timezone)) - timedelta(days=7)).astimezone(UTC)


def _week_so_far(
    session: Session,
    team_id: str,
    user_id: str,
    now: datetime,
    settings: TeamSettings,
    rules: ScoringRules,
    opted_out: frozenset[str],
) -> MemberScore | None:
    name, start = bucket_of(period_containing(PeriodName.WEEK, now, settings.timezone), settings.timezone)
    totals = member_totals(session, team_id, name, start, opted_out=opted_out, user_ids=[user_id])
    return next(iter(score_totals(totals, rules, opted_out)), None)


def week_score(
    session: Session, team_id: str, user_id: str, now: datetime, settings: TeamSettings
) -> MemberScore | None:
    """The member's calendar week so far, read and scored as the leaderboard does (None with nothing yet)."""
    opted_out = unnamed_members(session, team_id).opted_out
    return _week_so_far(session, team_id, user_id, now, settings, scoring_rules(settings), opted_out)


def week_trend(
    session: Session,
    team_id: str,
    user_id: str,
    now: datetime,
    settings: TeamSettings,
    *,
    unnamed: Unnamed | None = None,
) -> Trend:
    """The member's week so far, and last week from its start up to the same moment.

    Last week's part is scored from the ledger (no rollup ends mid-week): the member's own rows of one week,
    by the same pure rules, so both sides are counted alike.
    """
    rules = scoring_rules(settings)
    opted_out = (unnamed or unnamed_members(session, team_id)).opted_out
    last_week = previous_period(period_containing(PeriodName.WEEK, now, settings.timezone), settings.timezone)
    cut = same_moment_last_week(now, settings.timezone)
    tallies = member_tallies(session, team_id, user_id, last_week.start, cut)
    received = member_received(session, team_id, user_id, last_week.start, cut, opted_out=opted_out)
    before = next(iter(score_members(tallies, {user_id: received} if received else {}, rules)), None)
    return Trend(_week_so_far(session, team_id, user_id, now, settings, rules, opted_out), before)


def visible_waiting_links(
    session: Session,
    team_id: str,
    user_id: str,
    now: datetime,
    settings: TeamSettings,
    limit: int,
    *,
    private_channels: Collection[str] = (),
    unnamed: Unnamed | None = None,
) -> list[WaitingLink]:
    """Teammates' links waiting for a reply that this member may see, oldest first, filtered in SQL.

    Visible means shared in a public channel, or in one of `private_channels` (those Slack says the member is
    in), by a teammate the bot may name: never the member's own, a deactivated member's or a bot's.
    """
    return waiting_links(
        session,
        team_id,
        now,
        settings.waiting_hours,
        public_only=True,
        also_private_channels=private_channels,
        limit=limit,
        exclude_user_id=user_id,
        exclude_user_ids=(unnamed or unnamed_members(session, team_id)).everyone,
    )


def member_standing(
    session: Session,
    team_id: str,
    user_id: str,
    period: PeriodName | str,
    now: datetime,
    settings: TeamSettings,
    *,
    private_channels: Collection[str] = (),
    unnamed: Unnamed | None = None,
) -> MemberStanding:
    """The member's place in the period, this week against last, and the step most worth taking next.

    Who is never named is read once (or taken from the caller) and shared by the board, the links and the trend.
    """
    unnamed = unnamed or unnamed_members(session, team_id)
    standings = team_standings(session, team_id, period, now, settings, unnamed=unnamed)
    score = standings.of(user_id)
    waiting = visible_waiting_links(
        session, team_id, user_id, now, settings, limit=1, private_channels=private_channels, unnamed=unnamed
    )
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
        trend=week_trend(session, team_id, user_id, now, settings, unnamed=unnamed),
        next_step=step,
        waiting=waiting[0] if waiting else None,
    )


def leaderboard(deps: Deps, team_id: str, period: PeriodName) -> Standings:
    """`/coach leaderboard`: the team ranked for the period containing now."""
    with deps.db.session() as session:
        team = ensure_team(session, team_id, deps.now())
        return team_standings(session, team_id, period, deps.now(), team_settings(team))


def me(
    deps: Deps, team_id: str, user_id: str, period: PeriodName, *, private_channels: Collection[str] = ()
) -> MemberStanding:
    """`/coach me`: refuse kindly for a member who opted out (we keep nothing for them).

    `private_channels` are the ones Slack says the member is in: only their links may be suggested.
    """
    with deps.db.session() as session:
        team = ensure_team(session, team_id, deps.now())
        unnamed = unnamed_members(session, team_id)
        if user_id in unnamed.opted_out:
            raise Refusal(OPTED_OUT)
        return member_standing(
            session,
            team_id,
            user_id,
            period,
            deps.now(),
            team_settings(team),
            private_channels=private_channels,
            unnamed=unnamed,
        )
