"""The weekly team summary: posted once a week by the clock, previewed privately with `/coach summary`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.coach.periods import Period, PeriodName, period_containing, previous_period
from bot.coach.schedule_rules import summary_due
from bot.coach.settings import TeamSettings
from bot.coach.tips import tip_for_week
from bot.coach.weekly import WeekFacts, summarize_week
from bot.deps import Deps
from bot.services.deliveries import Delivered, Outgoing, deliver_once, needs_delivery
from bot.services.settings_service import effective_settings
from bot.services.standings import team_standings
from bot.services.teams import ensure_team
from bot.slack.blocks.summary import build_summary
from bot.store.models import Team
from bot.store.tallies import unnamed_members
from bot.store.weekly import most_discussed_link, shared_and_unanswered

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SummaryPreview:
    facts: WeekFacts
    channel_id: str | None  # where the real summary goes; None until the bot joins a channel or one is set


def summary_channel(team: Team, settings: TeamSettings) -> str | None:
    """The summary channel once set, else the channel the bot was first added to."""
    return settings.summary_channel or team.first_channel_id


def week_facts(session: Session, team_id: str, settings: TeamSettings, week: Period, as_of: datetime) -> WeekFacts:
    """Rank `week` and the week before as the leaderboard does, and gather what the summary says about them."""
    zone = ZoneInfo(settings.timezone)
    unnamed = unnamed_members(session, team_id)
    this_week = team_standings(session, team_id, PeriodName.WEEK, week.start, settings, unnamed=unnamed)
    last_week = team_standings(
        session, team_id, PeriodName.WEEK, previous_period(week, settings.timezone).start, settings, unnamed=unnamed
    )
    shared, unanswered = shared_and_unanswered(session, team_id, week.start, week.end, as_of)
    return summarize_week(
        this_week.members,
        last_week.members,
        first_day=week.start.astimezone(zone).date(),
        last_day=(week.end - timedelta(microseconds=1)).astimezone(zone).date(),
        target_ratio=settings.target_ratio,
        most_discussed=most_discussed_link(
            session, team_id, week.start, week.end, as_of, exclude_user_ids=unnamed.everyone
        ),
        links_shared=shared,
        links_unanswered=unanswered,
        tip=tip_for_week(as_of.astimezone(zone).date()),
        unnamed=set(unnamed.everyone),
    )


def preview_summary(deps: Deps, team_id: str) -> SummaryPreview:
    """This week so far, as the team would see it: for `/coach summary`, shown to the caller only."""
    now = deps.now()
    with deps.db.session() as session:
        team = ensure_team(session, team_id, now)
        settings = effective_settings(session, team)
        week = period_containing(PeriodName.WEEK, now, settings.timezone)
        return SummaryPreview(week_facts(session, team_id, settings, week, now), summary_channel(team, settings))


def send_weekly_summary(deps: Deps, client: WebClient, team_id: str, now: datetime) -> list[Delivered]:
    """Post last week's summary once, from the configured weekday and time until the week is over."""
    with deps.db.session() as session:
        team = session.get(Team, team_id)
        if team is None:
            return []
        settings = effective_settings(session, team)
        due = summary_due(settings, now)
        if due is None or not needs_delivery(session, team_id, due.key, deps.now()):
            return []
        channel_id = summary_channel(team, settings)
        if channel_id is None:
            log.info("summary for %s is due but there is no channel yet (bot not added anywhere)", team_id)
            return []
        facts = week_facts(session, team_id, settings, due.covers, now)
    message = build_summary(facts)
    return [deliver_once(deps, client, Outgoing(team_id, due.key, message, channel_id=channel_id))]
