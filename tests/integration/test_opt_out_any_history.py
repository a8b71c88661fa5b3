"""Opt-out and deactivation over generated histories of #social (tests/integration/test_event_order.py's generator).

Whatever happened in the channel, after Ana opts out no table names her, the rollups are what the ledger
sums to, and her teammates' ledger is exactly what the same history gives when she had opted out before
any of it: forgetting her afterwards and never having counted her agree.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from bot.coach.periods import PeriodName
from bot.deps import Deps
from bot.services.ledger import opt_out
from bot.services.standings import leaderboard
from bot.services.summary import preview_summary
from bot.services.teams import ensure_team
from bot.slack.blocks.leaderboard import build_leaderboard
from bot.slack.blocks.summary import build_summary
from bot.store.database import Database
from bot.store.ledger_queries import ensure_member
from tests.integration.test_event_order import Delivery, deliver, empty, histories
from tests.integration.test_inbox import assert_rollups_match_ledger
from tests.slack_events import ANA, BEN, ledger
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID
from tests.wiring.test_deactivated_members import user_change
from tests.wiring.test_opt_out_forgets_everything import _rows_naming


def _teammates_ledger(db: Database) -> list[tuple[str, str, str, str]]:
    return sorted((row.source_key, row.kind, row.user_id, row.counterpart) for row in ledger(db))


def _opted_out_first(deps: Deps) -> None:
    with deps.db.session() as session:
        ensure_team(session, TEAM_ID, deps.now())
        ensure_member(session, TEAM_ID, ANA).opted_out = True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_forgetting_her_afterwards_is_never_having_counted_her(
    driver: SlackDriver, deps: Deps, db: Database, history: list[Delivery]
) -> None:
    empty(db)
    deliver(driver, history)
    opt_out(deps, TEAM_ID, ANA)
    driver.settle()

    assert _rows_naming(db, (ANA,)).keys() <= {"members"}
    assert_rollups_match_ledger(db, TEAM_ID)
    forgotten = _teammates_ledger(db)

    empty(db)
    _opted_out_first(deps)
    deliver(driver, history)
    assert forgotten == _teammates_ledger(db)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_whatever_happened_a_deactivated_member_is_in_no_public_message(
    driver: SlackDriver, deps: Deps, db: Database, history: list[Delivery]
) -> None:
    empty(db)
    deliver(driver, history)
    driver.event(user_change(ANA, deleted=True, event_ts="1795427000.000100"))

    summary = build_summary(preview_summary(deps, TEAM_ID).facts)
    board = build_leaderboard(leaderboard(deps, TEAM_ID, PeriodName.WEEK), BEN, public=True)
    for message in (summary, board):
        assert ANA not in str(message.blocks) and ANA not in message.text
