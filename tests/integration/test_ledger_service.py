"""The ledger's use cases against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.coach.commands import LogAction
from bot.coach.kinds import Kind, Platform
from bot.coach.periods import PeriodName
from bot.deps import Deps
from bot.services.errors import Refusal
from bot.services.ledger import (
    EXPORT_COLUMNS,
    ExportRow,
    WeekBalance,
    check_can_log,
    export_csv,
    export_rows,
    log_action,
    opt_in,
    opt_out,
    opt_out_preview,
    undo_last,
)
from bot.services.standings import me
from bot.services.teams import ensure_team, save_team_settings, team_settings
from bot.store.ledger import activity_row, insert_activities
from bot.store.models import Activity, Member
from tests.conftest import Clock

TEAM, OTHER_TEAM = "T0ACME001", "T0OTHER01"
ANA, BEN = "U0ANA00001", "U0BEN00001"
REPLY = LogAction(Kind.REPLY, "https://x.com/ana/status/1", "thanked her")


def observed(
    team_id: str, user_id: str, kind: str, key: str, at: datetime, counterpart: str = "", timezone: str = "UTC"
) -> dict:
    """A row the bot saw in Slack; `timezone` is the team's, as the ingestion passes it."""
    return activity_row(
        team_id=team_id,
        user_id=user_id,
        kind=kind,
        source="slack",
        occurred_at=at,
        timezone=timezone,
        source_key=key,
        platform="slack",
        created_at=at,
        counterpart=counterpart,
        channel_id="C0SOCIAL01",
    )


def seed(deps: Deps, *rows: dict) -> None:
    with deps.db.session() as session:
        for team_id in {row["team_id"] for row in rows}:
            ensure_team(session, team_id, deps.now())
        insert_activities(session, list(rows))


def rows_of(deps: Deps) -> list[tuple[str, str, str]]:
    with deps.db.session() as session:
        return sorted((a.team_id, a.user_id, a.kind) for a in session.scalars(select(Activity)))


def test_a_logged_action_is_stored_with_its_platform_counterpart_and_dedupe_key(deps: Deps) -> None:
    result = log_action(deps, TEAM, ANA, REPLY)

    assert result.is_new
    assert (result.action.platform, result.action.counterpart, result.action.note) == (
        Platform.X,
        "x.com/ana",
        "thanked her",
    )
    assert result.balance == WeekBalance(given=1, pushed=0, target_ratio=4.0)
    with deps.db.session() as session:
        row = session.scalars(select(Activity)).one()
    digest = hashlib.sha1(b"https://x.com/ana/status/1").hexdigest()
    assert row.source_key == f"log:{ANA}:reply:{digest}"
    assert (row.source, row.occurred_at, row.channel_id, row.is_private) == ("log", deps.now(), None, False)


def test_the_same_kind_and_link_counts_once_per_member(deps: Deps) -> None:
    assert log_action(deps, TEAM, ANA, REPLY).is_new
    again = log_action(deps, TEAM, ANA, replace(REPLY, url="https://twitter.com/ana/status/1/?utm_campaign=x"))
    assert not again.is_new and again.balance.given == 1
    assert log_action(deps, TEAM, BEN, REPLY).is_new
    assert log_action(deps, TEAM, ANA, replace(REPLY, kind=Kind.SHARE)).is_new
    assert len(rows_of(deps)) == 3


def test_logs_without_a_link_are_each_their_own_action(deps: Deps) -> None:
    bare = LogAction(Kind.ANSWER, None, "")
    assert log_action(deps, TEAM, ANA, bare).is_new
    assert log_action(deps, TEAM, ANA, bare).is_new
    assert len(rows_of(deps)) == 2


def test_the_week_is_the_calendar_week_in_the_teams_time_zone(deps: Deps, clock: Clock) -> None:
    with deps.db.session() as session:
        team = ensure_team(session, TEAM, clock())
        save_team_settings(team, replace(team_settings(team), timezone="America/Los_Angeles", target_ratio=2.0))
    monday_2am_in_la = clock.now
    clock.now = monday_2am_in_la - timedelta(hours=3)  # Sunday 23:00 in Los Angeles, Monday 07:00 UTC
    log_action(deps, TEAM, ANA, LogAction(Kind.POST, None, ""))
    clock.now = monday_2am_in_la
    la = "America/Los_Angeles"
    seed(
        deps,
        observed(TEAM, ANA, "link", "link:1", clock.now, timezone=la),
        observed(TEAM, ANA, "reply", "reply:1", clock.now, counterpart=BEN, timezone=la),
        observed(TEAM, BEN, "reply", "reply:2", clock.now, counterpart=ANA, timezone=la),  # Ben's, not Ana's
    )
    result = log_action(deps, TEAM, ANA, REPLY)
    assert result.balance == WeekBalance(given=2, pushed=1, target_ratio=2.0)
    assert result.balance.on_target
    clock.advance(days=7)
    assert log_action(deps, TEAM, ANA, LogAction(Kind.LIKE, None, "")).balance == WeekBalance(1, 0, 2.0)


def test_the_logs_week_balance_counts_as_coach_me_does_likes_past_the_daily_cap_left_out(deps: Deps) -> None:
    for _ in range(3):
        log_action(deps, TEAM, ANA, LogAction(Kind.POST, None, ""))
    for _ in range(11):
        log_action(deps, TEAM, ANA, LogAction(Kind.LIKE, None, ""))

    balance = log_action(deps, TEAM, ANA, LogAction(Kind.LIKE, None, "")).balance  # the 12th like today

    assert balance == WeekBalance(given=10, pushed=3, target_ratio=4.0, capped_light=2)
    assert not balance.on_target and balance.actions_to_target == 2
    card = me(deps, TEAM, ANA, PeriodName.WEEK)
    assert (card.score.given, card.score.pushed, card.score.capped_light) == (10, 3, 2)
    assert card.next_step == "balance"


def test_undo_removes_the_latest_logged_action_only(deps: Deps, clock: Clock) -> None:
    log_action(deps, TEAM, ANA, LogAction(Kind.POST, "https://x.com/ana/status/9", ""))
    clock.advance(minutes=5)
    log_action(deps, TEAM, ANA, REPLY)
    clock.advance(minutes=5)
    seed(deps, observed(TEAM, ANA, "link", "link:1", clock.now))

    undone = undo_last(deps, TEAM, ANA)
    assert (undone.removed.kind, undone.removed.note) == (Kind.REPLY, "thanked her")
    assert undone.balance == WeekBalance(given=0, pushed=2, target_ratio=4.0)
    assert undo_last(deps, TEAM, ANA).removed.kind is Kind.POST
    with pytest.raises(Refusal, match="nothing to undo"):
        undo_last(deps, TEAM, ANA)
    assert rows_of(deps) == [(TEAM, ANA, "link")]


def test_opt_out_deletes_what_the_member_did_and_the_engagement_with_it(deps: Deps, clock: Clock) -> None:
    """Ben's reply to Ana's link names her: it goes with her link (a reply counts only while its link does)."""
    log_action(deps, TEAM, ANA, REPLY)
    seed(
        deps,
        observed(TEAM, ANA, "link", "link:1", clock.now),
        observed(TEAM, BEN, "reply", "reply:2", clock.now, counterpart=ANA),
        observed(TEAM, BEN, "link", "link:3", clock.now),
        observed(OTHER_TEAM, ANA, "link", "link:1", clock.now),  # same user id, another workspace
    )
    assert opt_out_preview(deps, TEAM, ANA).activity_count == 2

    assert opt_out(deps, TEAM, ANA) == 2

    assert rows_of(deps) == [(TEAM, BEN, "link"), (OTHER_TEAM, ANA, "link")]
    preview = opt_out_preview(deps, TEAM, ANA)
    assert preview.opted_out and preview.activity_count == 0
    with pytest.raises(Refusal, match="opted out"):
        log_action(deps, TEAM, ANA, REPLY)
    with pytest.raises(Refusal, match="optin"):
        check_can_log(deps, TEAM, ANA)
    assert len(rows_of(deps)) == 2

    assert opt_in(deps, TEAM, ANA) is True
    assert opt_in(deps, TEAM, ANA) is False
    check_can_log(deps, TEAM, ANA)
    assert log_action(deps, TEAM, ANA, REPLY).is_new


def test_the_member_row_is_created_on_first_contact(deps: Deps) -> None:
    opt_out_preview(deps, TEAM, ANA)
    log_action(deps, TEAM, BEN, REPLY)
    with deps.db.session() as session:
        members = sorted((m.user_id, m.opted_out) for m in session.scalars(select(Member)))
    assert members == [(ANA, False), (BEN, False)]


def test_export_holds_every_action_of_the_member_oldest_first(deps: Deps, clock: Clock) -> None:
    log_action(deps, TEAM, ANA, REPLY)
    seed(
        deps,
        observed(TEAM, ANA, "link", "link:1", clock.now - timedelta(days=30)),
        observed(TEAM, BEN, "reply", "reply:2", clock.now, counterpart=ANA),
    )
    exported = export_rows(deps, TEAM, ANA)
    assert [(row.kind, row.source) for row in exported] == [("link", "slack"), ("reply", "log")]
    assert export_rows(deps, OTHER_TEAM, ANA) == []


def test_the_csv_has_one_header_and_round_trips_awkward_notes() -> None:
    row = ExportRow(
        occurred_at=datetime(2026, 11, 23, 11, 0, 0, 500, tzinfo=UTC),
        kind="comment",
        source="log",
        platform="blog",
        url="https://blog.example.com/a?b=1,2",
        note='said "great", then\na second line',
        channel_id=None,
        counterpart="blog.example.com",
    )
    table = list(csv.reader(io.StringIO(export_csv([row]))))
    assert table == [
        list(EXPORT_COLUMNS),
        [
            "2026-11-23T11:00:00.000500+00:00",
            "comment",
            "log",
            "blog",
            "https://blog.example.com/a?b=1,2",
            'said "great", then\na second line',
            "",
            "blog.example.com",
        ],
    ]
