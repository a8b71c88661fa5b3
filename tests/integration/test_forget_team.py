"""Uninstalling the app (or revoking its token) deletes every row the bot kept about that workspace."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.services.teams import forget_team
from bot.store.models import Base
from tests.slack_events import ANA, BEN, message, reaction
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID


def _rows_per_table(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.session() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_app_uninstalled_leaves_nothing_behind(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    post = message(ANA, "New post: <https://x.com/ana/status/1861>", "1795424400.000100")
    driver.event(post)
    driver.event(message(BEN, "This is a really thoughtful thread, thanks", "1795424500.000100", thread_ts=post["ts"]))
    driver.event(reaction(BEN, post))
    driver.command("log reply https://x.com/carla/status/9 thanked her")
    before = _rows_per_table(db)
    assert before["activities"] >= 4 and before["teams"] == 1

    driver.event({"type": "app_uninstalled", "event_ts": "1795424600.000100"})

    assert {name: count for name, count in _rows_per_table(db).items() if count} == {}


def test_forgetting_one_team_keeps_the_others(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    driver.command("log reply https://x.com/carla/status/9")
    other = SlackDriver(driver.wsgi_app, driver.stub, team_id="T0OTHER001")
    other.command("log reply https://x.com/carla/status/9")
    with db.session() as session:
        forget_team(session, TEAM_ID)
    after = _rows_per_table(db)
    assert after["teams"] == 1 and after["activities"] == 1
