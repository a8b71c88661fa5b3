"""The burst note end to end: five links in an hour, as real signed message events, earn one private note."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import SlackStub

DAN = "U0DAN00001"


def share(driver: SlackDriver, clock: Clock, minutes_ago: int, n: int) -> None:
    ts = f"{(clock.now - timedelta(minutes=minutes_ago)).timestamp():.6f}"
    event = {
        "type": "message",
        "channel": "C0SOCIAL01",
        "user": DAN,
        "text": f"New post: <https://blog.example.com/post-{n}>",
        "ts": ts,
        "channel_type": "channel",
        "event_ts": ts,
    }
    assert driver.event(event).status == 200


def test_the_fifth_link_within_an_hour_gets_one_ephemeral_note(
    driver: SlackDriver, clock: Clock, slack: SlackStub
) -> None:
    for n, minutes_ago in enumerate((50, 40, 30, 20)):
        share(driver, clock, minutes_ago, n)
    assert slack.calls_to("chat.postEphemeral") == []

    share(driver, clock, 10, 4)
    share(driver, clock, 5, 5)

    [note] = slack.calls_to("chat.postEphemeral")
    assert (note.args["channel"], note.args["user"]) == ("C0SOCIAL01", DAN)
    assert note.args["text"].startswith("You've shared 5 links in the last hour.")
    assert slack.messages() == []  # nothing said in the channel
