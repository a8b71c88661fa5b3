"""The channel reminder and the waiting-links query, travelling in time with a fixed clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from slack_sdk import WebClient

from bot.coach.schedule_rules import is_waiting
from bot.coach.settings import TeamSettings
from bot.config import Settings
from bot.deps import Deps
from bot.services.clock import run_due
from bot.services.deliveries import Result
from bot.slack.client import make_web_client
from bot.store.waiting import waiting_links
from bot.store.weekly import shared_and_unanswered
from tests.coaching_world import ANA, BEN, CARLA, DAN, LAUNCH, PRIVATE, SOCIAL, World
from tests.conftest import Clock
from tests.slack_stub import SlackStub

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)
RANDOM = "C0RANDOM01"
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
    """Waiting means: `waiting_hours` passed with no teammate's substantive reply, and not yet a week more."""

    def waiting(self, world: World, now: datetime, **options: object) -> list[tuple[str, str]]:
        options = {"public_only": True, "limit": 5, **options}
        with world.db.session() as session:
            links = waiting_links(session, world.team_id, now, 24, **options)  # type: ignore[arg-type]
        return [(link.user_id, link.url) for link in links]

    def test_oldest_first_with_who_shared_it(self, world: World) -> None:
        world.link(BEN, at(21, 8), url="https://b.example/2")
        world.link(ANA, at(21, 7), url="https://a.example/1")
        assert self.waiting(world, MONDAY_10) == [(ANA, "https://a.example/1"), (BEN, "https://b.example/2")]

    def test_a_fresh_link_waits_only_once_the_threshold_has_passed(self, world: World) -> None:
        world.link(ANA, at(22, 10))  # exactly 24 hours before
        world.link(BEN, at(22, 10, 1))  # the team still has a minute to answer it
        assert [user for user, _ in self.waiting(world, MONDAY_10)] == [ANA]

    def test_a_link_shared_on_friday_evening_is_still_waiting_on_monday(self, world: World) -> None:
        world.link(ANA, at(20, 18), url="https://a.example/friday")
        assert self.waiting(world, MONDAY_10) == [(ANA, "https://a.example/friday")]

    def test_a_week_after_its_threshold_the_conversation_has_moved_on(self, world: World) -> None:
        world.link(ANA, at(15, 10))  # 24 hours and 7 days before
        world.link(BEN, at(15, 10, 1))
        assert [user for user, _ in self.waiting(world, MONDAY_10)] == [BEN]

    def test_a_substantive_reply_from_a_teammate_ends_the_wait(self, world: World) -> None:
        answered = world.link(ANA, at(21, 7), url="https://a.example/answered")
        liked = world.link(ANA, at(21, 8), url="https://a.example/liked")
        world.link(ANA, at(21, 9), url="https://a.example/later")
        late = world.link(ANA, at(20, 9), url="https://a.example/answered-late")
        world.reply(BEN, answered, ANA, at(21, 8))
        world.reply(BEN, liked, ANA, at(21, 9), substantive=False)  # "+1" is a like, not a reply
        world.reply(BEN, late, ANA, at(23, 9))  # after the threshold: answered all the same
        world.reply(ANA, world.link(ANA, at(21, 9, 15), url="https://a.example/own"), ANA, at(21, 10))  # her own
        world.reply(BEN, world.link(CARLA, at(21, 9, 30)), CARLA, at(23, 11))  # after now: still waiting now
        assert [url for _, url in self.waiting(world, MONDAY_10)] == [
            "https://a.example/liked",
            "https://a.example/later",
            "https://a.example/own",
            "https://blog.example.com/post-1",
        ]

    def test_the_query_agrees_with_the_rule_at_every_boundary(self, world: World) -> None:
        ages = [timedelta(hours=h) for h in (-1, 0, 23, 24, 25)] + [
            timedelta(days=8) + timedelta(seconds=s) for s in (-1, 0, 1)
        ]
        expected = []
        for n, age in enumerate(ages):
            shared_at = MONDAY_10 - age
            # One channel per case, so that each link is a message of its own.
            for channel, reply_after in ((SOCIAL, None), (LAUNCH, timedelta(hours=2)), (RANDOM, timedelta(hours=30))):
                url = f"https://rule.example/{n}/{reply_after}"
                ts = world.link(ANA, shared_at, url=url, channel=channel)
                reply_at = None if reply_after is None else shared_at + reply_after
                if reply_at is not None:
                    world.reply(BEN, ts, ANA, reply_at, channel=channel)
                if is_waiting(shared_at, reply_at, MONDAY_10, 24):
                    expected.append(url)
        assert expected  # the boundaries include waiting links
        assert sorted(url for _, url in self.waiting(world, MONDAY_10, limit=100)) == sorted(expected)

    def test_the_summary_and_the_reminder_agree_on_what_was_answered(self, world: World) -> None:
        ts = world.link(ANA, at(21, 7))
        world.reply(BEN, ts, ANA, MONDAY_10)  # at the very instant asked about: answered, for both
        week = (at(16, 0), at(23, 0))
        with world.db.session() as session:
            assert shared_and_unanswered(session, world.team_id, *week, MONDAY_10) == (1, 0)
            before = MONDAY_10 - timedelta(microseconds=1)
            assert shared_and_unanswered(session, world.team_id, *week, before) == (1, 1)
        assert self.waiting(world, MONDAY_10) == []
        assert len(self.waiting(world, MONDAY_10 - timedelta(microseconds=1))) == 1

    def test_a_reply_in_another_channels_thread_with_the_same_ts_does_not_count(self, world: World) -> None:
        ts = world.link(ANA, at(21, 7), channel=SOCIAL)
        world.reply(BEN, ts, ANA, at(21, 8), channel=LAUNCH)
        assert len(self.waiting(world, MONDAY_10)) == 1

    def test_private_links_only_when_asked(self, world: World) -> None:
        world.link(ANA, at(21, 8), channel=PRIVATE, private=True)
        assert self.waiting(world, MONDAY_10) == []
        assert len(self.waiting(world, MONDAY_10, public_only=False)) == 1

    def test_one_entry_per_message_and_at_most_the_limit(self, world: World) -> None:
        for hour in range(1, 8):
            world.link(ANA, at(21, hour), url=f"https://a.example/{hour}")
        world.link(ANA, at(21, 1), url="https://a.example/same-message")  # a second link in the first message
        found = self.waiting(world, MONDAY_10, limit=5)
        assert [url for _, url in found] == [f"https://a.example/{hour}" for hour in range(1, 6)]

    def test_can_leave_out_one_members_own_links(self, world: World) -> None:
        world.link(ANA, at(21, 7))
        world.link(DAN, at(21, 8))
        assert [user for user, _ in self.waiting(world, MONDAY_10, exclude_user_id=DAN)] == [ANA]


def section_texts(message: dict) -> list[str]:
    return [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]


class TestChannelReminder:
    def test_a_link_shared_on_friday_evening_is_in_mondays_reminder_once(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(20, 18), url="https://a.example/launch-notes")
        assert tick(deps, clock, client, at(23, 9, 59)) == []
        assert tick(deps, clock, client, at(23, 10)) == ["reminder:2026-11-23"]
        assert tick(deps, clock, client, at(23, 10)) == []
        assert tick(deps, clock, client, at(23, 10, 1)) == []

        [reminder] = reminders(slack)
        assert reminder["channel"] == SOCIAL
        intro, line = section_texts(reminder)
        assert intro == "*🔗 Still waiting for a first reply*"
        assert line.startswith("• <https://a.example/launch-notes|a.example/launch-notes>")
        assert f"<@{ANA}>" in line and f"<#{SOCIAL}>" in line and "2d ago" in line
        assert "reply in thread" in line

    def test_a_link_not_answered_by_the_next_day_is_in_that_days_reminder(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(23, 11), url="https://a.example/monday")
        assert tick(deps, clock, client, at(23, 10)) == []  # Monday: just shared, the team has a day
        assert tick(deps, clock, client, at(24, 10)) == []  # Tuesday 10:00: 23 hours, still fresh
        world.link(BEN, at(22, 9), url="https://b.example/sunday")
        assert tick(deps, clock, client, at(25, 10)) == ["reminder:2026-11-25"]
        [reminder] = reminders(slack)
        assert "a.example/monday" in reminder["text"] and "b.example/sunday" in reminder["text"]

    def test_nothing_waiting_sends_nothing_and_settles_the_day(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(22, 14))  # waits from 14:00 today
        assert tick(deps, clock, client, at(23, 10)) == []
        assert tick(deps, clock, client, at(23, 14, 30)) == []  # no afternoon reminder after a quiet morning
        assert reminders(slack) == []
        row = world.delivery("reminder:2026-11-23")
        assert row is not None and row.status == "skipped"

    def test_not_on_quiet_days(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(27, 8))
        assert tick(deps, clock, client, at(28, 10)) == []  # Saturday
        assert reminders(slack) == []

    def test_follows_the_team_zone_and_its_channel(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
    ) -> None:
        settings = replace(REMINDERS_ONLY, timezone="Asia/Tokyo", reminder_time=time(9, 30), reminder_channel=LAUNCH)
        world = World(deps.db).team(settings)
        world.link(ANA, at(22, 23))  # Monday 08:00 in Tokyo
        assert tick(deps, clock, client, at(24, 0, 29)) == []
        assert tick(deps, clock, client, at(24, 0, 30)) == ["reminder:2026-11-24"]
        assert reminders(slack)[0]["channel"] == LAUNCH

    def test_public_links_only_at_most_five(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(CARLA, at(22, 1), channel=PRIVATE, private=True, url="https://secret.example/plan")
        for hour in range(2, 9):
            world.link(BEN, at(22, hour), url=f"https://b.example/{hour}")
        tick(deps, clock, client, at(23, 10))
        [reminder] = reminders(slack)
        lines = section_texts(reminder)[1:]
        assert "secret.example" not in str(reminder)
        assert len(lines) == 5 and "b.example/2" in lines[0] and "b.example/6" in lines[4]
        assert "b.example/7" not in str(reminder)

    def test_no_channel_known_means_no_reminder(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
    ) -> None:
        world = World(deps.db).team(REMINDERS_ONLY, first_channel=None)
        world.link(ANA, at(22, 8))
        assert tick(deps, clock, client, at(23, 10)) == []
        assert slack.messages() == []


class TestReminderExactlyOnce:
    """A 5xx does not say whether Slack posted the reminder: the next tick looks in the channel first."""

    def reminders_in_channel(self, slack: SlackStub) -> list[dict]:
        return [
            m for m in slack.channel_history(SOCIAL) if m["metadata"]["event_payload"]["key"] == "reminder:2026-11-23"
        ]

    def test_a_503_after_slack_posted_it_is_recorded_not_resent(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(21, 8))
        slack.fail_next("chat.postMessage", 503, after_processing=True)
        assert tick(deps, clock, client, at(23, 10)) == []
        for minutes in (1, 2, 60):
            assert tick(deps, clock, client, at(23, 10, 0) + timedelta(minutes=minutes)) == []

        assert len(self.reminders_in_channel(slack)) == 1
        assert len(slack.calls_to("chat.postMessage")) == 1  # never sent again
        assert len(slack.calls_to("conversations.history")) == 1  # looked once, found it
        row = world.delivery("reminder:2026-11-23")
        assert row is not None and row.status == "sent"
        assert row.message_ts == self.reminders_in_channel(slack)[0]["ts"]

    def test_a_503_before_slack_posted_it_is_sent_on_a_later_tick_once(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        world.link(ANA, at(21, 8))
        slack.fail_next("chat.postMessage", 503)
        assert tick(deps, clock, client, at(23, 10)) == []
        assert self.reminders_in_channel(slack) == []
        assert tick(deps, clock, client, at(23, 10, 1)) == ["reminder:2026-11-23"]
        assert tick(deps, clock, client, at(23, 10, 2)) == []

        assert len(self.reminders_in_channel(slack)) == 1
        assert len(slack.calls_to("chat.postMessage")) == 2
