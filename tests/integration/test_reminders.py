"""The channel reminder and the waiting-links query, travelling in time with a fixed clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from slack_sdk import WebClient

from bot.coach.settings import TeamSettings
from bot.config import Settings
from bot.deps import Deps
from bot.services.clock import run_due
from bot.services.deliveries import Result
from bot.slack.client import make_web_client
from bot.store.waiting import waiting_links
from tests.coaching_world import ANA, BEN, CARLA, DAN, LAUNCH, PRIVATE, SOCIAL, World
from tests.conftest import Clock
from tests.slack_stub import SlackStub

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)
# The weekly summary goes out late on Sundays here, so these instants only ever owe a reminder.
REMINDERS_ONLY = TeamSettings(summary_weekday=6, summary_time=time(23, 59))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def client(settings: Settings) -> WebClient:
    return make_web_client(settings)


@pytest.fixture
def world(deps: Deps) -> World:
    return World(deps.db).team(REMINDERS_ONLY)


def tick(deps: Deps, clock: Clock, client: WebClient, now: datetime) -> list[str]:
    clock.now = now
    return [d.key for d in run_due(deps, client, now) if d.result is Result.SENT and d.key.startswith("reminder:")]


def reminders(slack: SlackStub) -> list[dict]:
    return [m for m in slack.messages() if "Still waiting for a first reply" in m["text"]]


class TestWaitingLinks:
    def waiting(self, world: World, now: datetime, **options: object) -> list[tuple[str, str]]:
        options = {"public_only": True, "limit": 5, **options}
        with world.db.session() as session:
            links = waiting_links(session, world.team_id, now, 24, **options)  # type: ignore[arg-type]
        return [(link.user_id, link.url) for link in links]

    def test_oldest_first_with_who_shared_it(self, world: World) -> None:
        world.link(BEN, at(23, 8), url="https://b.example/2")
        world.link(ANA, at(23, 7), url="https://a.example/1")
        assert self.waiting(world, MONDAY_10) == [(ANA, "https://a.example/1"), (BEN, "https://b.example/2")]

    def test_a_substantive_reply_from_a_teammate_ends_the_wait(self, world: World) -> None:
        answered = world.link(ANA, at(23, 7), url="https://a.example/answered")
        liked = world.link(ANA, at(23, 8), url="https://a.example/liked")
        world.link(ANA, at(23, 9), url="https://a.example/later")
        world.reply(BEN, answered, ANA, at(23, 8))
        world.reply(BEN, liked, ANA, at(23, 9), substantive=False)  # "+1" is a like, not a reply
        world.reply(BEN, world.link(CARLA, at(23, 9, 30)), CARLA, at(23, 11))  # after now: still waiting now
        assert [url for _, url in self.waiting(world, MONDAY_10)] == [
            "https://a.example/liked",
            "https://a.example/later",
            "https://blog.example.com/post-1",
        ]

    def test_a_reply_in_another_channels_thread_with_the_same_ts_does_not_count(self, world: World) -> None:
        ts = world.link(ANA, at(23, 7), channel=SOCIAL)
        world.reply(BEN, ts, ANA, at(23, 8), channel=LAUNCH)
        assert len(self.waiting(world, MONDAY_10)) == 1

    def test_stops_waiting_after_the_waiting_hours(self, world: World) -> None:
        world.link(ANA, at(22, 10))  # exactly 24 hours before
        world.link(BEN, at(22, 10, 1))
        assert [user for user, _ in self.waiting(world, MONDAY_10)] == [BEN]

    def test_private_links_only_when_asked(self, world: World) -> None:
        world.link(ANA, at(23, 8), channel=PRIVATE, private=True)
        assert self.waiting(world, MONDAY_10) == []
        assert len(self.waiting(world, MONDAY_10, public_only=False)) == 1

    def test_one_entry_per_message_and_at_most_the_limit(self, world: World) -> None:
        for hour in range(1, 8):
            world.link(ANA, at(23, hour), url=f"https://a.example/{hour}")
        world.link(ANA, at(23, 1), url="https://a.example/same-message")  # a second link in the first message
        found = self.waiting(world, MONDAY_10, limit=5)
        assert [url for _, url in found] == [f"https://a.example/{hour}" for hour in range(1, 6)]

    def test_can_leave_out_one_members_own_links(self, world: World) -> None:
        world.link(ANA, at(23, 7))
        world.link(DAN, at(23, 8))
        assert [user for user, _ in self.waiting(world, MONDAY_10, exclude_user_id=DAN)] == [ANA]


class TestChannelReminder:
    def test_posts_waiting_links_at_the_reminder_time_once(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(23, 8), url="https://a.example/launch-notes")
        assert tick(deps, clock, client, at(23, 9, 59)) == []
        assert tick(deps, clock, client, at(23, 10)) == ["reminder:2026-11-23"]
        assert tick(deps, clock, client, at(23, 10)) == []
        assert tick(deps, clock, client, at(23, 10, 1)) == []

        [reminder] = reminders(slack)
        assert reminder["channel"] == SOCIAL
        text = reminder["blocks"][0]["text"]["text"]
        assert "<https://a.example/launch-notes|a.example/launch-notes>" in text
        assert f"<@{ANA}>" in text and f"<#{SOCIAL}>" in text
        assert "reply in thread" in text

    def test_nothing_waiting_sends_nothing_and_settles_the_day(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        assert tick(deps, clock, client, at(23, 10)) == []
        world.link(ANA, at(23, 14))
        assert tick(deps, clock, client, at(23, 14, 30)) == []  # no afternoon reminder after a quiet morning
        assert reminders(slack) == []
        row = world.delivery("reminder:2026-11-23")
        assert row is not None and row.status == "skipped"

    def test_not_on_quiet_days(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(28, 8))
        assert tick(deps, clock, client, at(28, 10)) == []  # Saturday
        assert reminders(slack) == []

    def test_follows_the_team_zone_and_its_channel(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
    ) -> None:
        settings = replace(REMINDERS_ONLY, timezone="Asia/Tokyo", reminder_time=time(9, 30), reminder_channel=LAUNCH)
        world = World(deps.db).team(settings)
        world.link(ANA, at(23, 23))  # Tuesday 08:00 in Tokyo
        assert tick(deps, clock, client, at(24, 0, 29)) == []
        assert tick(deps, clock, client, at(24, 0, 30)) == ["reminder:2026-11-24"]
        assert reminders(slack)[0]["channel"] == LAUNCH

    def test_public_links_only_at_most_five(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(CARLA, at(23, 1), channel=PRIVATE, private=True, url="https://secret.example/plan")
        for hour in range(2, 9):
            world.link(BEN, at(23, hour), url=f"https://b.example/{hour}")
        tick(deps, clock, client, at(23, 10))
        text = reminders(slack)[0]["blocks"][0]["text"]["text"]
        assert "secret.example" not in text
        assert text.count("• ") == 5 and "b.example/2" in text and "b.example/7" not in text

    def test_no_channel_known_means_no_reminder(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
    ) -> None:
        world = World(deps.db).team(REMINDERS_ONLY, first_channel=None)
        world.link(ANA, at(23, 8))
        assert tick(deps, clock, client, at(23, 10)) == []
        assert slack.messages() == []

    def test_a_failed_reminder_is_retried_the_same_day(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(23, 8))
        slack.fail_next("chat.postMessage", 503, times=3)
        assert tick(deps, clock, client, at(23, 10)) == []
        assert tick(deps, clock, client, at(23, 10) + timedelta(minutes=1)) == ["reminder:2026-11-23"]
        assert len([c for c in slack.calls_to("chat.postMessage")]) == 4
