"""Private nudges and burst notes, travelling in time: who gets one, when, how rarely, and only once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from slack_sdk import WebClient

from bot.coach.settings import TeamSettings
from bot.config import Settings
from bot.deps import Deps
from bot.services.clock import run_due
from bot.services.deliveries import Result
from bot.services.nudges import burst_note_if_due
from bot.slack.blocks.reminders import SNOOZE_NUDGES_ACTION, STOP_NUDGES_ACTION
from bot.slack.client import make_web_client
from tests.coaching_world import ANA, BEN, CARLA, DAN, PRIVATE, SOCIAL, World
from tests.conftest import Clock
from tests.slack_stub import SlackStub

TUESDAY_11 = datetime(2026, 11, 24, 11, tzinfo=UTC)
# Summary late on Sundays and reminders at midnight-ish: these tests watch the nudges alone.
NUDGES_ONLY = TeamSettings(summary_weekday=6, summary_time=time(23, 59), reminder_time=time(23, 59))


def nov(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def client(settings: Settings) -> WebClient:
    return make_web_client(settings)


@pytest.fixture
def world(deps: Deps) -> World:
    return World(deps.db).team(NUDGES_ONLY)


def content_factory(world: World, user_id: str = DAN, *, until: datetime = TUESDAY_11, posts: int = 4) -> None:
    """`user_id` shared `posts` links over the last days and gave nothing: below any target."""
    for n in range(posts):
        world.link(user_id, until - timedelta(days=n + 1, minutes=n))


def waiting_teammates(world: World, when: datetime = TUESDAY_11) -> None:
    """Teammates' links nobody answered within the day: waiting at `when`."""
    world.link(ANA, when - timedelta(hours=26), url="https://ana.example/launch")
    world.link(BEN, when - timedelta(hours=25), url="https://ben.example/notes")
    world.link(CARLA, when - timedelta(hours=27), channel=PRIVATE, private=True, url="https://secret.example/plan")


def nudges(deps: Deps, clock: Clock, client: WebClient, now: datetime) -> list[str]:
    clock.now = now
    return [d.key for d in run_due(deps, client, now) if d.result is Result.SENT and d.key.startswith("nudge:")]


def dms(slack: SlackStub) -> list[dict]:
    return [m for m in slack.messages() if m["channel"].startswith("D")]


def test_a_member_below_target_gets_one_specific_private_nudge(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    content_factory(world)
    waiting_teammates(world)

    assert nudges(deps, clock, client, TUESDAY_11) == [f"nudge:{DAN}:2026-11-24"]

    [dm] = dms(slack)
    assert [call.args["users"] for call in slack.calls_to("conversations.open")] == [DAN]
    intro, *lines = [block["text"]["text"] for block in dm["blocks"] if block["type"] == "section"]
    assert f"Hi <@{DAN}>" in intro
    assert lines[0].startswith("• <https://ana.example/launch|ana.example/launch> by <@U0ANA00001>")
    assert lines[1].startswith("• <https://ben.example/notes|ben.example/notes> by <@U0BEN00001>")
    assert len(lines) == 2
    assert "secret.example" not in str(dm) and "blog.example.com" not in str(dm)  # private, and DAN's own
    [controls] = [block for block in dm["blocks"] if block["type"] == "actions"]
    buttons = controls["elements"]
    assert [(b["text"]["text"], b["action_id"]) for b in buttons] == [
        ("Snooze for a week", SNOOZE_NUDGES_ACTION),
        ("Stop these", STOP_NUDGES_ACTION),
    ]
    assert [m for m in slack.messages() if not m["channel"].startswith("D")] == []  # corrections stay private
    member = world.member_row(DAN)
    assert member is not None and member.last_nudged_at == TUESDAY_11 and member.tz == "Europe/Madrid"


def test_at_most_one_nudge_every_three_days(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    content_factory(world, posts=6)
    waiting_teammates(world)
    assert nudges(deps, clock, client, TUESDAY_11) != []
    assert nudges(deps, clock, client, TUESDAY_11) == []  # the same instant again
    assert nudges(deps, clock, client, TUESDAY_11 + timedelta(hours=2)) == []
    assert nudges(deps, clock, client, nov(26, 11)) == []  # Thursday: two days later
    waiting_teammates(world, nov(27, 11))
    assert nudges(deps, clock, client, nov(27, 11)) == [f"nudge:{DAN}:2026-11-27"]
    assert len(dms(slack)) == 2


@pytest.mark.parametrize(
    "member",
    [
        {"opted_out": True},
        {"nudges_stopped": True},
        {"nudges_paused_until": TUESDAY_11 + timedelta(days=2)},
    ],
)
def test_never_to_members_who_opted_out_paused_or_stopped(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World, member: dict
) -> None:
    world.member(DAN, **member)
    content_factory(world)
    waiting_teammates(world)
    assert nudges(deps, clock, client, TUESDAY_11) == []
    assert dms(slack) == [] and slack.calls_to("conversations.open") == []


@pytest.mark.parametrize("profile", [{"deleted": True}, {"is_bot": True}])
def test_never_to_deactivated_members_or_bots(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World, profile: dict
) -> None:
    slack.add_user(DAN, tz="Europe/Madrid", **profile)
    content_factory(world)
    waiting_teammates(world)
    assert nudges(deps, clock, client, TUESDAY_11) == []
    assert dms(slack) == []
    assert [call.args["user"] for call in slack.calls_to("users.info")] == [DAN]  # asked Slack before nudging


def test_a_paused_member_hears_again_once_the_pause_ends(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    world.member(DAN, nudges_paused_until=TUESDAY_11 + timedelta(hours=1), tz="UTC")
    content_factory(world)
    waiting_teammates(world)
    assert nudges(deps, clock, client, TUESDAY_11) == []
    assert nudges(deps, clock, client, TUESDAY_11 + timedelta(hours=1)) == [f"nudge:{DAN}:2026-11-24"]


def test_never_on_quiet_days(deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World) -> None:
    saturday = nov(28, 11)
    content_factory(world, until=saturday)
    waiting_teammates(world, saturday)
    assert nudges(deps, clock, client, saturday) == []
    assert dms(slack) == []


def test_working_hours_are_the_members_own(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    slack.add_user(DAN, tz="America/Los_Angeles")
    content_factory(world)
    waiting_teammates(world, nov(24, 17))
    assert nudges(deps, clock, client, TUESDAY_11) == []  # 03:00 in Los Angeles
    assert nudges(deps, clock, client, nov(24, 16, 59)) == []  # 08:59 there
    assert nudges(deps, clock, client, nov(24, 17)) == [f"nudge:{DAN}:2026-11-24"]


def test_a_friday_evening_in_auckland_is_already_the_weekend(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    world.member(DAN, tz="Pacific/Auckland")
    friday_noon_utc = nov(27, 12)  # Saturday 01:00 in Auckland
    content_factory(world, until=friday_noon_utc)
    waiting_teammates(world, friday_noon_utc)
    assert nudges(deps, clock, client, friday_noon_utc) == []


@pytest.mark.parametrize(("posts", "given"), [(2, 0), (4, 16)])
def test_only_a_habit_below_target_earns_a_nudge(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World, posts: int, given: int
) -> None:
    content_factory(world, posts=posts)
    waiting_teammates(world)
    teammate_link = world.link(CARLA, TUESDAY_11 - timedelta(days=2))
    for n in range(given):
        world.reply(DAN, teammate_link, CARLA, TUESDAY_11 - timedelta(days=1, minutes=n))
    assert nudges(deps, clock, client, TUESDAY_11) == []


def test_nothing_specific_to_suggest_means_no_nudge(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    content_factory(world)
    world.link(ANA, TUESDAY_11 - timedelta(hours=2))  # shared this morning: not waiting yet
    assert nudges(deps, clock, client, TUESDAY_11) == []
    assert dms(slack) == []
    assert world.deliveries() == []


def test_a_rate_limited_nudge_arrives_once(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    content_factory(world)
    waiting_teammates(world)
    slack.fail_next("chat.postMessage", 429, retry_after=1)
    assert nudges(deps, clock, client, TUESDAY_11) == [f"nudge:{DAN}:2026-11-24"]
    assert nudges(deps, clock, client, TUESDAY_11) == []
    assert len(slack.calls_to("chat.postMessage")) == 2
    row = world.delivery(f"nudge:{DAN}:2026-11-24")
    assert row is not None and row.status == "sent" and row.message_ts


@pytest.mark.parametrize(
    "fail",
    [
        lambda slack: slack.fail_next("chat.postMessage", 500, after_processing=True),
        lambda slack: slack.drop_next("chat.postMessage", after_processing=True),
        lambda slack: slack.fail_next("chat.postMessage", 503),
    ],
    ids=["500 after posting", "reset after posting", "503 before posting"],
)
def test_a_nudge_slack_may_have_delivered_is_never_resent_and_counts_for_the_cap(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World, fail: Callable[[SlackStub], None]
) -> None:
    """A DM's history is not readable, so a doubtful nudge is abandoned; it still holds the three days."""
    content_factory(world, posts=6)
    waiting_teammates(world)
    fail(slack)
    clock.now = TUESDAY_11
    assert [d.result for d in run_due(deps, client, TUESDAY_11)] == [Result.ABANDONED]
    for later in (TUESDAY_11 + timedelta(minutes=1), nov(25, 11), nov(26, 11)):  # the same links still wait
        assert nudges(deps, clock, client, later) == []

    assert len(slack.calls_to("chat.postMessage")) == 1  # never sent again
    assert slack.calls_to("conversations.history") == []
    row = world.delivery(f"nudge:{DAN}:2026-11-24")
    assert row is not None and row.status == "abandoned"
    member = world.member_row(DAN)
    assert member is not None and member.last_nudged_at == TUESDAY_11
    assert nudges(deps, clock, client, nov(27, 11)) == [f"nudge:{DAN}:2026-11-27"]  # three days on


def test_a_nudge_slack_refused_gives_the_cap_back_and_arrives_on_a_later_tick(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    content_factory(world)
    waiting_teammates(world)
    slack.respond("chat.postMessage", lambda _args: {"ok": False, "error": "restricted_action"})
    clock.now = TUESDAY_11
    assert [d.result for d in run_due(deps, client, TUESDAY_11)] == [Result.FAILED]
    member = world.member_row(DAN)
    assert member is not None and member.last_nudged_at is None  # nobody got it: no cap taken

    del slack.responders["chat.postMessage"]
    later = TUESDAY_11 + timedelta(minutes=1)
    assert nudges(deps, clock, client, later) == [f"nudge:{DAN}:2026-11-24"]
    assert nudges(deps, clock, client, later + timedelta(minutes=1)) == []
    assert len(dms(slack)) == 2 and len(slack.channel_history(f"D{DAN[1:]}")) == 1
    member = world.member_row(DAN)
    assert member is not None and member.last_nudged_at == later


def test_two_clocks_nudging_for_different_days_at_once_send_one(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
) -> None:
    """A replayed `run-due --at` for Tuesday racing the clock on Wednesday: one nudge, whoever wins."""
    content_factory(world, posts=6)
    waiting_teammates(world)
    clock.now = nov(25, 11)
    start = threading.Barrier(2)

    def run(instant: datetime) -> None:
        start.wait()
        run_due(deps, client, instant)

    threads = [threading.Thread(target=run, args=(instant,)) for instant in (TUESDAY_11, nov(25, 11))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(dms(slack)) == 1


class TestBurstNote:
    def burst(self, world: World, links: int, end: datetime = TUESDAY_11) -> None:
        for n in range(links):
            world.link(DAN, end - timedelta(minutes=10 * n))

    def note(self, deps: Deps, clock: Clock, client: WebClient, now: datetime = TUESDAY_11) -> bool:
        clock.now = now
        return burst_note_if_due(deps, client, "T0ACME001", DAN, SOCIAL, now)

    def test_five_links_within_an_hour_get_one_ephemeral_note(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        self.burst(world, 5)
        assert self.note(deps, clock, client)
        [call] = slack.calls_to("chat.postEphemeral")
        assert (call.args["channel"], call.args["user"]) == (SOCIAL, DAN)
        assert "5 links in the last hour" in call.args["text"]
        assert "reply to a teammate" in call.args["text"]
        assert slack.messages() == []  # never in the channel for everyone

    def test_four_links_or_links_spread_over_more_than_an_hour_are_fine(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        self.burst(world, 4)
        world.link(DAN, TUESDAY_11 - timedelta(hours=1))  # exactly an hour ago: outside the window
        assert not self.note(deps, clock, client)
        assert slack.calls_to("chat.postEphemeral") == []

    def test_at_most_once_a_day(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        self.burst(world, 5)
        assert self.note(deps, clock, client)
        world.link(DAN, TUESDAY_11 + timedelta(minutes=5))
        assert not self.note(deps, clock, client, TUESDAY_11 + timedelta(minutes=5))
        self.burst(world, 5, nov(25, 10, 59))
        assert not self.note(deps, clock, client, nov(25, 10, 59))
        assert self.note(deps, clock, client, nov(25, 11))
        assert len(slack.calls_to("chat.postEphemeral")) == 2

    def test_two_events_at_once_send_one_note(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        self.burst(world, 6)
        start = threading.Barrier(4)
        sent: list[bool] = []

        def event() -> None:
            start.wait()
            sent.append(burst_note_if_due(deps, client, "T0ACME001", DAN, SOCIAL, TUESDAY_11))

        threads = [threading.Thread(target=event) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(sent) == [False, False, False, True]
        assert len(slack.calls_to("chat.postEphemeral")) == 1

    @pytest.mark.parametrize("member", [{"opted_out": True}, {"nudges_stopped": True}, {"is_bot": True}])
    def test_not_for_members_who_asked_for_quiet(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World, member: dict
    ) -> None:
        world.member(DAN, **member)
        self.burst(world, 5)
        assert not self.note(deps, clock, client)
        assert slack.calls_to("chat.postEphemeral") == []

    def test_a_refused_note_can_be_tried_again(
        self, deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, world: World
    ) -> None:
        self.burst(world, 5)
        slack.respond("chat.postEphemeral", lambda _args: {"ok": False, "error": "user_not_in_channel"})
        assert not self.note(deps, clock, client)
        member = world.member_row(DAN)
        assert member is not None and member.last_burst_note_at is None
        del slack.responders["chat.postEphemeral"]
        assert self.note(deps, clock, client)
