"""The standings service: what the leaderboard, /coach me, the App Home and the weekly summary read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.coach.kinds import Kind, Source
from bot.coach.periods import PeriodName
from bot.coach.settings import TeamSettings
from bot.services.errors import Refusal
from bot.services.standings import member_standing, team_standings, week_trend
from bot.services.teams import ensure_team
from bot.store.database import Database
from bot.store.ledger import activity_row, insert_activities
from bot.store.models import Member

TEAM = "T0STAND001"
ANA, BEN, CARLA = "U0ANA00001", "U0BEN00001", "U0CARLA001"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
MADRID = TeamSettings(timezone="Europe/Madrid")


def action(user: str, kind: Kind, at: datetime, n: int, *, to: str = "", tz: str = "Europe/Madrid", **extra) -> dict:
    return activity_row(
        team_id=TEAM,
        user_id=user,
        kind=kind.value,
        source=extra.pop("source", Source.LOG.value),
        occurred_at=at,
        timezone=tz,
        source_key=f"{user}:{kind}:{at.isoformat()}:{n}:{to}",
        platform="x",
        created_at=at,
        counterpart=to or f"x.com/p{n}",
        **extra,
    )


def store(db: Database, *rows: dict) -> None:
    with db.session() as session:
        ensure_team(session, TEAM, NOW)
        insert_activities(session, list(rows))


def test_standings_rank_members_and_add_up_the_team(db: Database) -> None:
    store(
        db,
        *(action(ANA, Kind.REPLY, NOW, i) for i in range(4)),
        action(ANA, Kind.POST, NOW, 0),
        *(action(BEN, Kind.POST, NOW - timedelta(hours=i), i) for i in range(6)),
        *(action(CARLA, Kind.LIKE, NOW, i) for i in range(14)),
    )
    with db.session() as session:
        standings = team_standings(session, TEAM, PeriodName.WEEK, NOW, MADRID)

    assert [m.user_id for m in standings.members] == [ANA, CARLA, BEN]
    assert [m.score for m in standings.members] == [21.0, 5.0, 0.0]
    assert standings.of(CARLA).capped_light == 4
    assert standings.totals[Kind.LIKE] == 14 and standings.totals[Kind.POST] == 7
    assert (standings.given, standings.pushed) == (14, 7)
    assert standings.ratio == 2.0
    assert standings.target_ratio == 4.0


def test_weeks_follow_the_team_time_zone(db: Database) -> None:
    sunday_night = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already Monday 00:30 in Madrid
    store(db, action(ANA, Kind.REPLY, sunday_night, 1))
    with db.session() as session:
        madrid = team_standings(session, TEAM, PeriodName.WEEK, NOW, MADRID)
    assert [m.user_id for m in madrid.members] == [ANA]
    assert madrid.period.start == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_opted_out_members_are_left_out_and_what_they_gave_no_longer_counts(db: Database) -> None:
    reply = {"source": Source.SLACK.value, "channel_id": "C0SOCIAL01", "thread_ts": "1763900000.000100"}
    store(
        db,
        action(BEN, Kind.LINK, NOW, 0, to="", message_ts="1763900000.000100", channel_id="C0SOCIAL01"),
        action(ANA, Kind.COMMENT, NOW, 1, to=BEN, **reply),
        action(CARLA, Kind.COMMENT, NOW, 2, to=BEN, **reply),
    )
    with db.session() as session:
        before = team_standings(session, TEAM, PeriodName.WEEK, NOW, MADRID)
        session.add(Member(team_id=TEAM, user_id=CARLA, opted_out=True))
    with db.session() as session:
        after = team_standings(session, TEAM, PeriodName.WEEK, NOW, MADRID)

    assert before.of(BEN).received == 2
    assert CARLA not in {m.user_id for m in after.members}
    assert after.of(BEN).received == 1


def test_the_week_trend_compares_with_the_whole_of_last_week(db: Database) -> None:
    store(
        db,
        action(ANA, Kind.REPLY, NOW - timedelta(days=7), 1),
        *(action(ANA, Kind.REPLY, NOW, i) for i in range(3)),
    )
    with db.session() as session:
        trend = week_trend(session, TEAM, ANA, NOW, MADRID)

    assert (trend.this_week.score, trend.last_week.score, trend.score_change) == (15.0, 5.0, 10.0)


def test_member_standing_knows_the_rank_and_a_next_step(db: Database) -> None:
    store(db, *(action(ANA, Kind.POST, NOW - timedelta(hours=i), i) for i in range(2)), action(BEN, Kind.REPLY, NOW, 1))
    with db.session() as session:
        standing = member_standing(session, TEAM, ANA, PeriodName.MONTH, NOW, MADRID)

    assert (standing.score.rank, standing.ranked) == (2, 2)
    assert standing.next_step == "balance"
    assert standing.waiting is None


def test_team_weights_change_the_scores_without_rebuilding_anything(db: Database) -> None:
    store(db, action(ANA, Kind.SHARE, NOW, 1), action(BEN, Kind.REPLY, NOW, 1))
    sharing = TeamSettings(timezone="Europe/Madrid", weights={"share": 8.0})
    with db.session() as session:
        standings = team_standings(session, TEAM, PeriodName.WEEK, NOW, sharing)

    assert [(m.user_id, m.score) for m in standings.members] == [(ANA, 8.0), (BEN, 5.0)]


def test_settings_the_scoring_cannot_honour_are_explained(db: Database) -> None:
    store(db, action(ANA, Kind.REPLY, NOW, 1))
    broken = TeamSettings(weights={"post": 5.0})
    with db.session() as session, pytest.raises(Refusal, match="weight <kind> default"):
        team_standings(session, TEAM, PeriodName.WEEK, NOW, broken)
