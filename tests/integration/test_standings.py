"""The standings service: what the leaderboard, /coach me, the App Home and the weekly summary read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.coach.kinds import Kind, Source
from bot.coach.periods import PeriodName
from bot.coach.settings import TeamSettings
from bot.deps import Deps
from bot.services.errors import Refusal
from bot.services.home import home_view
from bot.services.standings import (
    me,
    member_standing,
    same_moment_last_week,
    team_standings,
    visible_waiting_links,
    week_trend,
)
from bot.services.teams import ensure_team
from bot.store.database import Database
from bot.store.ledger import activity_row, insert_activities
from bot.store.models import Member
from tests.statements import statements_sent
from tests.waiting_time import waiting_since

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
    assert (before.totals[Kind.COMMENT], after.totals[Kind.COMMENT], after.totals[Kind.LINK]) == (2, 1, 1)


def test_the_week_trend_compares_with_last_week_up_to_the_same_moment(db: Database) -> None:
    last_wednesday = NOW - timedelta(days=7)
    store(
        db,
        action(ANA, Kind.REPLY, last_wednesday - timedelta(hours=1), 1),
        *(action(ANA, Kind.REPLY, last_wednesday + timedelta(hours=1), i) for i in range(2, 6)),  # later that week
        *(action(ANA, Kind.REPLY, NOW, i) for i in range(3)),
    )
    with db.session() as session:
        trend = week_trend(session, TEAM, ANA, NOW, MADRID)

    assert (trend.this_week.score, trend.last_week.score) == (15.0, 5.0)


def test_on_monday_morning_last_week_counts_only_up_to_monday_morning(db: Database) -> None:
    monday_9am = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Madrid
    store(
        db,
        action(ANA, Kind.REPLY, monday_9am - timedelta(days=7, hours=1), 1),
        *(action(ANA, Kind.COMMENT, monday_9am - timedelta(days=5), i) for i in range(10)),  # last Wednesday
        action(ANA, Kind.REPLY, monday_9am - timedelta(hours=1), 2),
        action(ANA, Kind.REPLY, monday_9am - timedelta(minutes=30), 3),
    )
    with db.session() as session:
        trend = week_trend(session, TEAM, ANA, monday_9am, MADRID)

    assert (trend.this_week.score, trend.last_week.score) == (10.0, 5.0)  # up, not "down from 55"


def test_last_weeks_part_is_scored_like_the_board_received_and_daily_caps_included(db: Database) -> None:
    """Scored from the ledger up to the same moment, a finished week equals its rollups to the point."""
    reply = {"source": Source.SLACK.value, "channel_id": "C0SOCIAL01", "thread_ts": "1763900000.000100"}
    store(
        db,
        action(ANA, Kind.LINK, NOW, 0, to="", message_ts="1763900000.000100", channel_id="C0SOCIAL01"),
        action(BEN, Kind.COMMENT, NOW, 1, to=ANA, **reply),
        action(CARLA, Kind.COMMENT, NOW, 2, to=ANA, **reply),
        *(action(ANA, Kind.LIKE, NOW, i) for i in range(13)),
        *(action(ANA, Kind.REPLY, NOW, i, to="x.com/same") for i in range(3)),
        *(action(ANA, Kind.POST, NOW - timedelta(minutes=i), i) for i in range(5)),
        action(ANA, Kind.ANSWER, NOW, 0, to=""),
    )
    with db.session() as session:
        session.add(Member(team_id=TEAM, user_id=CARLA, opted_out=True))
    with db.session() as session:
        now = week_trend(session, TEAM, ANA, NOW, MADRID).this_week
        later = week_trend(session, TEAM, ANA, NOW + timedelta(days=7), MADRID).last_week

    assert later == now
    assert (now.received, now.capped_light) == (1, 3)


def test_the_same_moment_last_week_follows_the_wall_clock_across_a_change_of_time() -> None:
    after_the_clocks_went_back = datetime(2026, 10, 26, 8, 30, tzinfo=UTC)  # Monday 09:30 in Madrid (CET)

    assert same_moment_last_week(after_the_clocks_went_back, "Europe/Madrid") == datetime(
        2026, 10, 19, 7, 30, tzinfo=UTC
    )  # Monday 09:30 in Madrid (CEST)


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


def link(user: str, at: datetime, n: int, *, channel: str = "C0SOCIAL01", private: bool = False) -> dict:
    """A link `user` shared in Slack (message ts `n`), nobody has replied to it."""
    return action(
        user,
        Kind.LINK,
        at,
        n,
        to="",
        source=Source.SLACK.value,
        url=f"https://blog.example.com/{user}/{n}",
        channel_id=channel,
        message_ts=f"1763900000.{n:06d}",
        is_private=private,
    )


def shown(db: Database, user: str = ANA, *, private_channels: tuple[str, ...] = (), limit: int = 5) -> list[str]:
    with db.session() as session:
        links = visible_waiting_links(session, TEAM, user, NOW, MADRID, limit, private_channels=private_channels)
    return [f"{item.user_id}:{item.channel_id}" for item in links]


def test_private_links_show_only_to_members_of_their_channel_and_never_crowd_out_public_ones(db: Database) -> None:
    since = waiting_since(NOW)
    store(
        db,
        *(link(BEN, since - timedelta(minutes=60 - i), i, channel="G0SECRET01", private=True) for i in range(60)),
        link(CARLA, since, 100, channel="G0OURS0001", private=True),
        link(CARLA, since + timedelta(minutes=1), 101),
        link(ANA, since + timedelta(minutes=2), 102),  # her own: never suggested to her
    )

    assert shown(db) == [f"{CARLA}:C0SOCIAL01"]
    assert shown(db, private_channels=("G0OURS0001",)) == [f"{CARLA}:G0OURS0001", f"{CARLA}:C0SOCIAL01"]
    assert shown(db, private_channels=("G0SECRET01",), limit=2) == [f"{BEN}:G0SECRET01"] * 2


def test_deactivated_members_and_bots_are_never_named_but_still_count(db: Database) -> None:
    since = waiting_since(NOW)
    store(
        db,
        *(action(BEN, Kind.REPLY, NOW, i) for i in range(6)),
        *(action("U0BOT00001", Kind.REPLY, NOW, i) for i in range(5)),
        *(action(ANA, Kind.REPLY, NOW, i) for i in range(2)),
        action(CARLA, Kind.COMMENT, NOW, 0),
        link(BEN, since, 1),
        link("U0BOT00001", since, 2),
        link(CARLA, since, 3),
    )
    with db.session() as session:
        session.add(Member(team_id=TEAM, user_id=BEN, is_deleted=True))
        session.add(Member(team_id=TEAM, user_id="U0BOT00001", is_bot=True))
    with db.session() as session:
        standings = team_standings(session, TEAM, PeriodName.WEEK, NOW, MADRID)

    assert [(m.user_id, m.rank) for m in standings.board] == [(ANA, 1), (CARLA, 2)]
    assert standings.of(BEN) is None and standings.top(5) == standings.board
    assert [m.user_id for m in standings.members] == [BEN, "U0BOT00001", ANA, CARLA]  # the team's numbers
    assert standings.given == 14
    assert shown(db) == [f"{CARLA}:C0SOCIAL01"]


def test_coach_me_and_the_app_home_ask_once_who_is_never_named(deps: Deps, db: Database) -> None:
    """The board, the links and the trend share one read of the flagged members (it was three per request)."""
    since = waiting_since(deps.now())
    store(db, action(ANA, Kind.REPLY, deps.now(), 1), action(CARLA, Kind.COMMENT, deps.now(), 1), link(BEN, since, 1))
    with db.session() as session:
        session.add(Member(team_id=TEAM, user_id=BEN, is_deleted=True))
        session.add(Member(team_id=TEAM, user_id=CARLA, opted_out=True))

    with statements_sent(db) as sent:
        standing = me(deps, TEAM, ANA, PeriodName.WEEK)
        home = home_view(deps, TEAM, ANA)
    with pytest.raises(Refusal, match="opted out"):
        me(deps, TEAM, CARLA, PeriodName.WEEK)

    flagged_reads = [statement for statement in sent if "OR members.is_deleted" in statement]
    assert len(flagged_reads) == 2
    assert [m.user_id for m in standing.standings.board] == [ANA] and standing.waiting is None
    assert [m.user_id for m in home.dashboard.week.board] == [ANA] and home.dashboard.waiting == ()
