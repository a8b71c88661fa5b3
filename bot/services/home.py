"""The App Home dashboard: a member's week, teammates' links waiting for them, the top of the board, switches.

Everything the view needs is read in one transaction and handed back as plain facts; the listener renders
and publishes it once (views.publish), with no Slack call per row. The one Slack call before it (which
private channels the member is in, `bot.services.members.shared_private_channels`) is the listener's, made
before the transaction opens, and its answer comes in as `private_channels`.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.coach.periods import PeriodName
from bot.coach.scoring import MemberScore
from bot.deps import Deps
from bot.services.members import PAUSE, pause_nudges, resume_nudges, stop_nudges
from bot.services.standings import Standings, Trend, team_standings, visible_waiting_links, week_trend
from bot.services.teams import ensure_team, team_settings
from bot.store.models import Member
from bot.store.tallies import unnamed_members
from bot.store.waiting import WaitingLink

WAITING_SHOWN = 5
TOP_SHOWN = 5


class NudgeSwitch(enum.StrEnum):
    PAUSE = "pause"
    STOP = "stop"
    RESUME = "resume"


@dataclass(frozen=True)
class NudgeState:
    """Whether the clock may nudge this member, as the switches show it."""

    stopped: bool
    paused_until: datetime | None  # only while the pause is still running


@dataclass(frozen=True)
class Dashboard:
    """The member's week: their standing among the team, last week for comparison, links waiting for them."""

    user_id: str
    week: Standings
    trend: Trend
    waiting: tuple[WaitingLink, ...]

    @property
    def mine(self) -> MemberScore | None:
        return self.week.of(self.user_id)

    @property
    def top(self) -> tuple[MemberScore, ...]:
        return self.week.top(TOP_SHOWN)


@dataclass(frozen=True)
class HomeView:
    """The facts behind one member's App Home; `dashboard` is None for a member who opted out."""

    user_id: str
    dashboard: Dashboard | None
    nudges: NudgeState
    now: datetime


def _read(session: Session, team_id: str, user_id: str, now: datetime, private_channels: Collection[str]) -> HomeView:
    settings = team_settings(ensure_team(session, team_id, now))
    member = session.get(Member, (team_id, user_id))
    paused = member.nudges_paused_until if member else None
    nudges = NudgeState(
        stopped=bool(member and member.nudges_stopped),
        paused_until=paused if paused is not None and paused > now else None,
    )
    if member is not None and member.opted_out:
        return HomeView(user_id, None, nudges, now)
    unnamed = unnamed_members(session, team_id)  # once, for the board, the trend and the links
    dashboard = Dashboard(
        user_id=user_id,
        week=team_standings(session, team_id, PeriodName.WEEK, now, settings, unnamed=unnamed),
        trend=week_trend(session, team_id, user_id, now, settings, unnamed=unnamed),
        waiting=tuple(
            visible_waiting_links(
                session,
                team_id,
                user_id,
                now,
                settings,
                WAITING_SHOWN,
                private_channels=private_channels,
                unnamed=unnamed,
            )
        ),
    )
    return HomeView(user_id, dashboard, nudges, now)


def home_view(deps: Deps, team_id: str, user_id: str, *, private_channels: Collection[str] = ()) -> HomeView:
    """Read everything the member's App Home shows; links from `private_channels` (the member's) may show."""
    with deps.db.session() as session:
        return _read(session, team_id, user_id, deps.now(), private_channels)


def switch_nudges(
    deps: Deps, team_id: str, user_id: str, switch: NudgeSwitch, *, private_channels: Collection[str] = ()
) -> HomeView:
    """Flip one of the member's nudge switches, then read the view again to show where it now stands."""
    now = deps.now()
    with deps.db.session() as session:
        if switch is NudgeSwitch.PAUSE:
            pause_nudges(session, team_id, user_id, now + PAUSE, now=now)
        elif switch is NudgeSwitch.STOP:
            stop_nudges(session, team_id, user_id, now=now)
        else:
            resume_nudges(session, team_id, user_id, now=now)
        session.expire_all()
        return _read(session, team_id, user_id, now, private_channels)
