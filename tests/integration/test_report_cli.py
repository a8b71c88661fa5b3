"""`python -m bot report`: the team's tallies as JSON or a table, from the real CLI entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from bot.coach.kinds import Kind
from bot.services.teams import ensure_team
from bot.store.database import Database
from tests.integration.test_standings import ANA, BEN, CARLA, TEAM, action, store


@pytest.fixture
def run(db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["report", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def recent(hours: int) -> datetime:
    return datetime.now(UTC) - timedelta(hours=hours)


def test_json_lists_every_member_by_rank_with_the_documented_fields(db: Database, run) -> None:  # type: ignore[no-untyped-def]
    store(
        db,
        *(action(ANA, Kind.REPLY, recent(1), i, tz="UTC") for i in range(3)),
        action(ANA, Kind.LINK, recent(1), 0, tz="UTC"),
        action(BEN, Kind.POST, recent(2), 1, tz="UTC"),
        action(CARLA, Kind.FOLLOW, recent(3), 1, tz="UTC"),
    )

    code, out, _ = run("--period", "all", "--format", "json")

    assert code == 0
    report = json.loads(out)
    assert (report["team"], report["period"]) == (TEAM, "all")
    assert [m["user_id"] for m in report["members"]] == [ANA, CARLA, BEN]
    assert report["members"][0] == {
        "user_id": ANA,
        "rank": 1,
        "score": 15.0,
        "posts": 1,
        "replies": 3,
        "comments": 0,
        "answers": 0,
        "shares": 0,
        "likes": 0,
        "follows": 0,
        "received": 0,
        "ratio": 3.0,
    }
    assert report["members"][2]["ratio"] == 0.0 and report["members"][1]["ratio"] is None


def test_text_is_a_readable_table(db: Database, run) -> None:  # type: ignore[no-untyped-def]
    store(db, action(ANA, Kind.ANSWER, recent(1), 1, tz="UTC"))

    code, out, _ = run("--team", TEAM, "--period", "all")

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"More Social — team {TEAM}, period: all"
    assert lines[1].split() == [
        "rank",
        "user_id",
        "score",
        "posts",
        "replies",
        "comments",
        "answers",
        "shares",
        "likes",
        "follows",
        "received",
        "ratio",
    ]
    assert lines[2].split() == ["1", ANA, "6.0", "0", "0", "0", "1", "0", "0", "0", "0", "—"]


def test_the_week_is_the_calendar_week(db: Database, run) -> None:  # type: ignore[no-untyped-def]
    store(db, action(ANA, Kind.REPLY, recent(24 * 8), 1, tz="UTC"))

    assert json.loads(run("--format", "json")[1])["members"] == []
    assert "Nobody has any activity in this period yet." in run()[1]


def test_several_teams_need_team_and_the_error_lists_them(db: Database, run) -> None:  # type: ignore[no-untyped-def]
    store(db, action(ANA, Kind.REPLY, recent(1), 1, tz="UTC"))
    with db.session() as session:
        ensure_team(session, "T0OTHER001", datetime.now(UTC))

    code, out, err = run()

    assert code == 2 and out == ""
    assert "pick one with --team" in err and TEAM in err and "T0OTHER001" in err


def test_an_unknown_team_or_no_team_at_all_is_explained(db: Database, run) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run()
    assert code == 2 and "no teams in this database yet" in err

    store(db, action(ANA, Kind.REPLY, recent(1), 1, tz="UTC"))
    code, _out, err = run("--team", "T0NOPE0001")
    assert code == 2 and f"There is no team 'T0NOPE0001' in this database (teams: {TEAM})." in err
