"""Members Slack deactivates (user_change, users.info `deleted: true`) are never named in public again.

Slack sends user_change with the same user object users.info returns; a deactivation sets `deleted: true`,
a reactivation sets it back to false. The summary, the channel reminder, the leaderboards and the nudges'
suggestions then leave the member out, and their past counts rank nobody.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.config import Settings
from bot.deps import Deps
from bot.services.clock import run_due
from bot.services.deliveries import Result
from bot.slack.client import make_web_client
from bot.store.models import InboundEvent, Member
from tests.coaching_world import ANA, BEN, CARLA, DAN, World
from tests.conftest import Clock
from tests.integration.test_nudges import NUDGES_ONLY, TUESDAY_11, content_factory, dms
from tests.integration.test_reminders import REMINDERS_ONLY, reminders, section_texts
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub
from tests.wiring.test_coach_leaderboard import board, ranked

DANS_EMAIL = "dan@acme.example"


def user_change(user_id: str, *, deleted: bool, event_ts: str = "1795424400.000900") -> dict[str, Any]:
    """user_change as Slack sends it: the whole users.info user object, profile and all."""
    return {
        "type": "user_change",
        "user": {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": "dan",
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": "Dan Brown",
            "tz": "Europe/Madrid",
            "tz_label": "Central European Time",
            "tz_offset": 3600,
            "profile": {
                "title": "Growth",
                "phone": "+34 600 000 000",
                "real_name": "Dan Brown",
                "display_name": "dan",
                "email": DANS_EMAIL,
                "status_text": "",
                "status_emoji": "",
                "team": TEAM_ID,
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": int(float(event_ts)),
            "is_email_confirmed": True,
            "who_can_share_contact_card": "EVERYONE",
        },
        "cache_ts": int(float(event_ts)),
        "event_ts": event_ts,
    }


@pytest.fixture
def client(settings: Settings) -> WebClient:
    return make_web_client(settings)


def sent(deps: Deps, clock: Clock, client: WebClient, now: datetime, prefix: str) -> list[str]:
    clock.now = now
    return [d.key for d in run_due(deps, client, now) if d.result is Result.SENT and d.key.startswith(prefix)]


def test_user_change_flags_a_deactivated_member_and_a_reactivation_clears_it(driver: SlackDriver, deps: Deps) -> None:
    world = World(deps.db).team()
    response = driver.event(user_change(DAN, deleted=True), event_id="EvDEACT001", settle=False)
    assert response.status == 200
    with deps.db.session() as session:
        stored = session.get(InboundEvent, (TEAM_ID, "EvDEACT001"))
        assert stored is not None
        assert DANS_EMAIL not in str(stored.payload) and "profile" not in str(stored.payload)
    driver.settle()
    assert world.member_row(DAN).is_deleted is True  # type: ignore[union-attr]

    driver.event(user_change(DAN, deleted=False, event_ts="1795424500.000900"))
    assert world.member_row(DAN).is_deleted is False  # type: ignore[union-attr]


def test_a_late_retry_of_an_older_user_change_changes_nothing(driver: SlackDriver, deps: Deps) -> None:
    """Slack retries a failed delivery minutes later: an older reactivation never brings a deactivated member back."""
    world = World(deps.db).team()
    driver.event(user_change(DAN, deleted=True, event_ts="1795424500.000900"))
    assert driver.event(user_change(DAN, deleted=False, event_ts="1795424400.000900"), retry_num=2).status == 200
    assert world.member_row(DAN).is_deleted is True  # type: ignore[union-attr]

    driver.event(user_change(DAN, deleted=False, event_ts="1795424600.000900"))
    assert world.member_row(DAN).is_deleted is False  # type: ignore[union-attr]


def test_users_info_deleted_true_is_remembered_too(
    driver: SlackDriver, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    """The nudge asks users.info before a DM: a deactivation learnt there also keeps the member out of public."""
    world = World(deps.db).team(NUDGES_ONLY)
    slack.add_user(DAN, tz="Europe/Madrid", deleted=True)
    content_factory(world)
    world.link(ANA, TUESDAY_11 - timedelta(hours=26), url="https://ana.example/launch")
    assert sent(deps, clock, client, TUESDAY_11, "nudge:") == []
    assert world.member_row(DAN).is_deleted is True  # type: ignore[union-attr]


def test_a_user_change_older_than_what_users_info_said_changes_nothing(
    driver: SlackDriver, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    world = World(deps.db).team(NUDGES_ONLY)
    slack.add_user(DAN, tz="Europe/Madrid", deleted=True)
    content_factory(world)
    world.link(ANA, TUESDAY_11 - timedelta(hours=26), url="https://ana.example/launch")
    sent(deps, clock, client, TUESDAY_11, "nudge:")  # users.info: deactivated, at 11:00
    an_hour_before = f"{(TUESDAY_11 - timedelta(hours=1)).timestamp():.6f}"
    driver.event(user_change(DAN, deleted=False, event_ts=an_hour_before), retry_num=3)
    assert world.member_row(DAN).is_deleted is True  # type: ignore[union-attr]


def test_the_summary_never_names_a_deactivated_member_nor_ranks_their_counts(
    driver: SlackDriver, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    world = World(deps.db).team()
    monday = datetime(2026, 11, 16, 9, tzinfo=UTC)
    dans = world.link(DAN, monday, url="https://dan.example/most-discussed")
    anas = world.link(ANA, monday + timedelta(hours=1), url="https://ana.example/launch")
    for n in range(4):
        world.reply(BEN if n % 2 else CARLA, dans, DAN, monday + timedelta(days=1, hours=n))
    world.reply(BEN, anas, ANA, monday + timedelta(days=2))
    for n in range(6):
        world.reply(DAN, anas, ANA, monday + timedelta(days=3, hours=n))  # Dan gave the most of anyone
    driver.event(user_change(DAN, deleted=True))

    assert sent(deps, clock, client, datetime(2026, 11, 23, 9, tzinfo=UTC), "summary:") == ["summary:2026-W48"]
    [summary] = [m for m in slack.messages() if m["metadata"]["event_payload"]["key"].startswith("summary:")]
    assert DAN not in str(summary) and "dan.example" not in str(summary)
    text = str(summary["blocks"])
    assert "ana.example/launch" in text  # the most discussed link among those the bot may name
    assert f"1. <@{BEN}>" in text


def test_the_channel_reminder_leaves_out_a_deactivated_members_links(
    driver: SlackDriver, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    world = World(deps.db).team(REMINDERS_ONLY)
    monday_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)
    world.link(DAN, monday_10 - timedelta(hours=30), url="https://dan.example/waiting")
    world.link(ANA, monday_10 - timedelta(hours=28), url="https://ana.example/waiting")
    driver.event(user_change(DAN, deleted=True))

    assert sent(deps, clock, client, monday_10, "reminder:") == ["reminder:2026-11-23"]
    [reminder] = reminders(slack)
    _intro, *lines = section_texts(reminder)
    assert len(lines) == 1 and "ana.example/waiting" in lines[0]
    assert DAN not in str(reminder) and "dan.example" not in str(reminder)


def test_a_nudge_never_suggests_a_deactivated_members_link(
    driver: SlackDriver, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    world = World(deps.db).team(NUDGES_ONLY)
    slack.add_user(BEN, tz="Europe/Madrid")
    content_factory(world, BEN)
    world.link(DAN, TUESDAY_11 - timedelta(hours=27), url="https://dan.example/waiting")
    world.link(ANA, TUESDAY_11 - timedelta(hours=26), url="https://ana.example/launch")
    driver.event(user_change(DAN, deleted=True))

    assert sent(deps, clock, client, TUESDAY_11, "nudge:") == [f"nudge:{BEN}:2026-11-24"]
    [nudge] = dms(slack)
    assert "ana.example/launch" in str(nudge)
    assert DAN not in str(nudge) and "dan.example" not in str(nudge)


def test_the_leaderboard_drops_a_deactivated_member_and_ranks_the_rest_again(driver: SlackDriver, deps: Deps) -> None:
    world = World(deps.db).team()
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    for n in range(3):
        world.reply(DAN, world.link(ANA, now - timedelta(hours=n + 1)), ANA, now - timedelta(minutes=n))
    world.reply(BEN, world.link(ANA, now - timedelta(hours=5)), ANA, now - timedelta(hours=4))
    assert ranked(board(driver.command("leaderboard", user=ANA))[1])[:1] == [DAN]

    driver.event(user_change(DAN, deleted=True))
    answer = driver.command("leaderboard", user=ANA)
    assert DAN not in str(answer.json())
    assert ranked(board(answer)[1])[:1] == [BEN]


@pytest.mark.parametrize(
    "event",
    [
        {"type": "user_change", "event_ts": "1795424400.000900"},
        {"type": "user_change", "user": "U0DAN00001", "event_ts": "1795424400.000900"},
        {"type": "user_change", "user": {"id": 42, "deleted": True}, "event_ts": "1795424400.000900"},
        {"type": "user_change", "user": {"id": "", "deleted": True}, "event_ts": "1795424400.000900"},
        {"type": "user_change", "user": {"id": "U" * 5000, "deleted": True}, "event_ts": "1795424400.000900"},
    ],
)
def test_a_user_change_without_a_user_id_is_answered_and_stores_nothing(
    driver: SlackDriver, deps: Deps, event: dict[str, Any]
) -> None:
    World(deps.db).team()
    assert driver.event(event).status == 200
    with deps.db.session() as session:
        assert session.scalars(select(InboundEvent)).all() == []
        assert session.scalars(select(Member)).all() == []


def test_only_a_real_true_deactivates(driver: SlackDriver, deps: Deps) -> None:
    """`deleted: "false"` (a string) is not Slack's shape; it must not hide anyone, nor crash the writer."""
    world = World(deps.db).team()
    event = user_change(DAN, deleted=True)
    event["user"]["deleted"] = "false"
    assert driver.event(event).status == 200
    assert world.member_row(DAN).is_deleted is False  # type: ignore[union-attr]
