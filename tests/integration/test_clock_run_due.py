"""run_due across workspaces: each gets what it is owed, and one workspace's trouble never stops another's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.coach.settings import TeamSettings
from bot.deps import Deps
from bot.services.clock import run_due
from bot.services.deliveries import Result
from bot.slack.client import make_web_client
from bot.store.models import Team
from tests.coaching_world import LAUNCH, SOCIAL, World
from tests.conftest import Clock
from tests.slack_stub import SlackStub

MONDAY_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_every_workspace_gets_its_own_summary_and_a_refusal_stays_with_its_workspace(
    deps: Deps, clock: Clock, slack: SlackStub
) -> None:
    World(deps.db, team_id="T0AAAAAAA1").team(first_channel=SOCIAL)
    World(deps.db, team_id="T0BBBBBBB2").team(first_channel=LAUNCH)
    World(deps.db, team_id="T0CCCCCCC3").team(TeamSettings(timezone="Asia/Tokyo"), first_channel="C0TOKYO001")

    def post(args: dict[str, Any]) -> dict[str, Any]:
        if args["channel"] == LAUNCH:
            return {"ok": False, "error": "not_in_channel"}
        return slack._chat_postMessage(args)

    slack.respond("chat.postMessage", post)
    clock.now = MONDAY_9

    outcomes = {(o.team_id, o.result) for o in run_due(deps, make_web_client(deps.settings), MONDAY_9)}

    assert outcomes == {
        ("T0AAAAAAA1", Result.SENT),
        ("T0BBBBBBB2", Result.FAILED),
        ("T0CCCCCCC3", Result.SENT),  # 18:00 on Monday in Tokyo: due since 00:00 UTC
    }


def test_a_job_that_breaks_for_one_workspace_is_logged_and_the_rest_still_run(
    deps: Deps, clock: Clock, slack: SlackStub, caplog: pytest.LogCaptureFixture
) -> None:
    World(deps.db, team_id="T0AAAAAAA1").team()
    World(deps.db, team_id="T0BBBBBBB2").team()
    with deps.db.session() as session:
        broken = session.get(Team, "T0AAAAAAA1")
        assert broken is not None
        broken.settings = {**broken.settings, "timezone": "Mars/Olympus_Mons"}  # stored before validation existed
    clock.now = MONDAY_9

    outcomes = run_due(deps, make_web_client(deps.settings), MONDAY_9)

    assert [(o.team_id, o.key, o.result) for o in outcomes] == [("T0BBBBBBB2", "summary:2026-W48", Result.SENT)]
    assert "send_weekly_summary failed for T0AAAAAAA1" in caplog.text


def test_run_due_refuses_a_naive_instant(deps: Deps, slack: SlackStub) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        run_due(deps, make_web_client(deps.settings), datetime(2026, 11, 23, 9))
