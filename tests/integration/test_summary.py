"""The weekly summary: what it says about a real week, when it is due, and that it goes out once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from slack_sdk import WebClient

from bot.coach.kinds import Kind
from bot.coach.settings import TeamSettings
from bot.coach.tips import tip_for_week
from bot.config import Settings
from bot.deps import Deps
from bot.services.clock import run_due
from bot.services.deliveries import Result
from bot.services.summary import preview_summary
from bot.slack.client import make_web_client
from tests.coaching_world import ANA, BEN, CARLA, DAN, LAUNCH, PRIVATE, SOCIAL, World
from tests.conftest import Clock
from tests.slack_stub import SlackStub

EVE = "U0EVE00001"  # opted out: her activity is never ranked or named


def nov(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def client(settings: Settings) -> WebClient:
    return make_web_client(settings)


def summaries(deps: Deps, clock: Clock, client: WebClient, now: datetime) -> list[str]:
    clock.now = now
    return [d.key for d in run_due(deps, client, now) if d.result is Result.SENT and d.key.startswith("summary:")]


def summary_messages(slack: SlackStub) -> list[dict]:
    return [m for m in slack.messages() if m["metadata"]["event_payload"]["key"].startswith("summary:")]


def posted_text(slack: SlackStub) -> str:
    [message] = summary_messages(slack)
    return "\n".join(
        block["text"]["text"] for block in message["blocks"] if block.get("text") and block["type"] != "header"
    )


def busy_week(world: World) -> None:
    """Week of 16-22 November, and a little of the week before, as the summary should read it."""
    world.member(EVE, opted_out=True)
    # The week before (9-15): BEN posts two and replies twice (1.0:1); ANA posts one and comments four times.
    ben_before = world.link(BEN, nov(9, 10))
    world.link(BEN, nov(10, 10))
    for n in range(2):
        world.logged(BEN, Kind.REPLY, nov(11, 10 + n), counterpart=f"x.com/fan{n}")
    world.link(ANA, nov(12, 9))
    for n in range(4):
        world.reply(ANA, ben_before, BEN, nov(12, 10 + n))

    # This week: BEN replies to six people and comments once (7 given, 3 links: 2.3:1, up from 1.0).
    ben_link = world.link(BEN, nov(16, 9), url="https://ben.example/notes")
    world.link(BEN, nov(17, 9))
    world.link(BEN, nov(18, 9))
    for n in range(6):
        world.logged(BEN, Kind.REPLY, nov(19, 9 + n), counterpart=f"x.com/person{n}")
    # ANA: six comments on teammates' links and one answer (7 given, 2 links).
    ana_link = world.link(ANA, nov(16, 10), url="https://ana.example/launch")
    world.link(ANA, nov(20, 10))
    carla_link = world.link(CARLA, nov(16, 11), url="https://carla.example/thread")
    for n in range(3):
        world.reply(ANA, ben_link, BEN, nov(17, 10 + n))
        world.reply(ANA, carla_link, CARLA, nov(17, 14 + n))
    world.logged(ANA, Kind.ANSWER, nov(18, 15), counterpart="x.com/customer")
    # ANA's link is the most discussed public one: three comments from CARLA and one from BEN.
    for n in range(3):
        world.reply(CARLA, ana_link, ANA, nov(18, 10 + n))
    world.reply(BEN, ana_link, ANA, nov(18, 16))
    # A private link with more replies must stay out of the public summary.
    secret = world.link(CARLA, nov(19, 10), channel=PRIVATE, private=True, url="https://secret.example/plan")
    for n in range(5):
        world.reply(EVE, secret, CARLA, nov(19, 11 + n), channel=PRIVATE, private=True)
    for n in range(10):
        world.logged(EVE, Kind.REPLY, nov(20, 9 + n % 8), counterpart=f"x.com/eve{n}")
    # DAN only broadcasts: eight links, nothing given. Output is never praised.
    for n in range(8):
        world.link(DAN, nov(21, 9 + n), channel=LAUNCH)


def test_the_summary_of_a_busy_week(deps: Deps, clock: Clock, client: WebClient, slack: SlackStub) -> None:
    world = World(deps.db).team()
    busy_week(world)

    assert summaries(deps, clock, client, nov(23, 9)) == ["summary:2026-W48"]

    [message] = summary_messages(slack)
    assert message["channel"] == SOCIAL
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "📊 Your week on social · 16–22 Nov", "emoji": True},
    }
    text = posted_text(slack)
    assert "💬 *17* conversations: 6 replies, 10 comments, 1 answer" in text
    assert "📣 *15* posts and links shared" in text
    assert "⚖️ Team ratio *1.1:1* ↓ from 2.0:1 · target 4:1" in text
    assert f"1. <@{BEN}> · 7 replies, comments and answers\n2. <@{ANA}> · 7 replies, comments and answers" in text
    assert f"3. <@{CARLA}> · 3 replies, comments and answers" in text
    assert f"🚀 *Most improved:* <@{BEN}>, now at 2.3:1, up on last week" in text
    assert "1.0:1" not in text  # last week's lower ratio is never published
    assert (
        f"🔥 *Most discussed:* <https://ana.example/launch|ana.example/launch> shared by <@{ANA}> · 4 replies" in text
    )
    assert "🕊️ 11 of 15 links shared never got a reply." in text
    assert tip_for_week(date(2026, 11, 23)) in message["text"]
    everything = str(message)
    assert DAN not in everything and EVE not in everything  # a pure broadcaster and an opted-out member
    assert "secret.example" not in everything
    assert message["text"].startswith("📊 Your week on social · 16–22 Nov")


def test_a_link_whose_target_carries_a_label_shows_ours(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    """Slack splits `<target|label>` at the first `|`: a shared URL must not choose what the team reads."""
    world = World(deps.db).team()
    spoof = world.link(ANA, nov(16, 10), url="https://ana.example/launch|Claim_your_prize>now")
    for n in range(3):
        world.reply(BEN, spoof, ANA, nov(17, 10 + n))

    assert summaries(deps, clock, client, nov(23, 9)) == ["summary:2026-W48"]

    text = posted_text(slack)
    assert (
        "🔥 *Most discussed:* <https://ana.example/launch%7CClaim_your_prize%3Enow|ana.example/launch¦Claim_your_prize"
        "&gt;now> shared by" in text
    )
    assert "|Claim_your_prize" not in text and "prize>" not in text


def test_a_quiet_week_still_hears_from_its_coach(deps: Deps, clock: Clock, client: WebClient, slack: SlackStub) -> None:
    World(deps.db).team()

    assert summaries(deps, clock, client, nov(23, 9)) == ["summary:2026-W48"]

    [message] = slack.messages()
    text = posted_text(slack)
    assert "A quiet week" in text and "Team ratio" not in text and "Most social" not in text
    assert f"💡 *Tip of the week:* {tip_for_week(date(2026, 11, 23))}" in text
    assert len(message["blocks"]) == 4  # header, the quiet line, a divider, the tip: short on a phone


def test_due_at_the_configured_weekday_and_time_in_the_team_zone(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    World(deps.db).team(TeamSettings(timezone="Europe/Madrid", summary_weekday=4, summary_time=time(16, 30)))

    assert summaries(deps, clock, client, nov(23, 9)) == []  # Monday: not this team's day
    assert summaries(deps, clock, client, nov(27, 15, 29)) == []  # Friday 16:29 in Madrid
    assert summaries(deps, clock, client, nov(27, 15, 30)) == ["summary:2026-W48"]
    assert summaries(deps, clock, client, nov(27, 15, 31)) == []
    assert summaries(deps, clock, client, nov(30, 9)) == []  # the next week waits for its own Friday
    assert len(slack.messages()) == 1


def test_the_same_instant_twice_and_a_late_clock_send_one_summary(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    World(deps.db).team()
    assert summaries(deps, clock, client, nov(23, 8, 59)) == []
    assert summaries(deps, clock, client, nov(23, 9)) == ["summary:2026-W48"]
    assert summaries(deps, clock, client, nov(23, 9)) == []
    assert summaries(deps, clock, client, nov(25, 14)) == []  # a clock restarted on Wednesday
    assert summaries(deps, clock, client, nov(30, 9)) == ["summary:2026-W49"]
    assert len(slack.messages()) == 2


def test_a_clock_that_was_down_at_nine_catches_up_later_that_week(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    World(deps.db).team()
    assert summaries(deps, clock, client, nov(25, 14)) == ["summary:2026-W48"]
    assert "16–22 Nov" in slack.messages()[0]["text"]


def test_goes_to_the_summary_channel_once_set(deps: Deps, clock: Clock, client: WebClient, slack: SlackStub) -> None:
    World(deps.db).team(TeamSettings(summary_channel=LAUNCH))
    summaries(deps, clock, client, nov(23, 9))
    assert [m["channel"] for m in slack.messages()] == [LAUNCH]


def test_no_channel_yet_means_no_summary_and_no_claim(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    world = World(deps.db).team(first_channel=None)
    assert summaries(deps, clock, client, nov(23, 9)) == []
    assert world.delivery("summary:2026-W48") is None  # once a channel is known, it still goes out this week


def test_the_preview_covers_this_week_so_far(deps: Deps, clock: Clock) -> None:
    world = World(deps.db).team()
    ts = world.link(ANA, nov(23, 8))
    world.reply(BEN, ts, ANA, nov(23, 9))
    clock.now = nov(23, 10)

    preview = preview_summary(deps, world.team_id)

    facts = preview.facts
    assert (facts.first_day, facts.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert (facts.comments, facts.posts, facts.links_shared, facts.links_unanswered) == (1, 1, 1, 0)
    assert [score.user_id for score in facts.most_social] == [BEN]
    assert preview.channel_id == SOCIAL


@pytest.mark.parametrize("posted", [False, True], ids=["not posted", "posted"])
def test_a_500_neither_loses_nor_doubles_the_summary(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub, posted: bool
) -> None:
    world = World(deps.db).team()
    slack.fail_next("chat.postMessage", 500, after_processing=posted)
    assert summaries(deps, clock, client, nov(23, 9)) == []
    row = world.delivery("summary:2026-W48")
    assert row is not None and row.status == "unconfirmed"
    for minutes in (1, 2, 5):
        summaries(deps, clock, client, nov(23, 9) + timedelta(minutes=minutes))

    [summary] = [m for m in slack.channel_history(SOCIAL) if m["metadata"]["event_payload"]["key"] == row.key]
    row = world.delivery("summary:2026-W48")
    assert row is not None and (row.status, row.message_ts) == ("sent", summary["ts"])
    assert len(summary_messages(slack)) == (1 if posted else 2)  # resent only when Slack did not have it


def test_a_refused_summary_is_sent_a_minute_later(
    deps: Deps, clock: Clock, client: WebClient, slack: SlackStub
) -> None:
    world = World(deps.db).team()
    slack.respond("chat.postMessage", lambda _args: {"ok": False, "error": "not_in_channel"})
    assert summaries(deps, clock, client, nov(23, 9)) == []
    row = world.delivery("summary:2026-W48")
    assert row is not None and row.status == "failed"
    del slack.responders["chat.postMessage"]
    assert summaries(deps, clock, client, nov(23, 9) + timedelta(minutes=1)) == ["summary:2026-W48"]
