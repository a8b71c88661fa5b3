"""The reminder, the nudge and the burst note as Block Kit: specific, kind, and private where they correct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.slack.blocks.reminders import (
    SNOOZE_NUDGES_ACTION,
    STOP_NUDGES_ACTION,
    LinkToAnswer,
    build_burst_note,
    build_nudge,
    build_nudges_snoozed,
    build_nudges_stopped,
    build_waiting_reminder,
)

NOW = datetime(2026, 11, 24, 11, tzinfo=UTC)
LINKS = [
    LinkToAnswer("U_ANA", "https://ana.example/launch", "C_SOCIAL", NOW - timedelta(hours=26), "https://slack/p1"),
    LinkToAnswer("U_BEN", "https://ben.example/notes", "C_SOCIAL", NOW - timedelta(minutes=20)),
]


def test_the_reminder_lists_each_link_with_who_shared_it_and_how_to_reply() -> None:
    message = build_waiting_reminder(LINKS, NOW)
    lines = message.blocks[0]["text"]["text"].split("\n")
    assert lines == [
        "*🔗 Still waiting for a first reply*",
        "• <https://ana.example/launch|ana.example/launch> by <@U_ANA> in <#C_SOCIAL> · 1d ago · "
        "<https://slack/p1|reply in thread>",
        "• <https://ben.example/notes|ben.example/notes> by <@U_BEN> in <#C_SOCIAL> · just now",
    ]
    assert message.blocks[1]["type"] == "context"
    assert message.text.startswith("Still waiting for a first reply:")


def test_the_nudge_is_warm_specific_and_easy_to_stop() -> None:
    message = build_nudge("U_DAN", LINKS, NOW)
    intro = message.blocks[0]["text"]["text"]
    assert intro.startswith("Hi <@U_DAN> 👋 Thanks for all you've shared lately!")
    assert "ana.example/launch" in intro and "ben.example/notes" in intro
    for unkind in ("ratio", "only", "should", "too many", "behind"):
        assert unkind not in intro.lower()
    controls = message.blocks[1]
    assert controls["block_id"] == "nudge_controls"
    assert [(b["text"]["text"], b["action_id"]) for b in controls["elements"]] == [
        ("Snooze for a week", SNOOZE_NUDGES_ACTION),
        ("Stop these", STOP_NUDGES_ACTION),
    ]
    assert "at most every few days" in message.blocks[2]["elements"][0]["text"]


def test_the_snooze_confirmation_shows_the_date_in_the_readers_zone() -> None:
    until = datetime(2026, 12, 1, 11, 5, tzinfo=UTC)
    text = build_nudges_snoozed(until).text
    assert f"<!date^{int(until.timestamp())}^{{date_long_pretty}}|1 December 2026>" in text
    assert build_nudges_stopped().blocks[0]["type"] == "section"


def test_the_burst_note_says_quality_beats_quantity_and_what_would_land_better() -> None:
    text = build_burst_note(6).text
    assert "6 links in the last hour" in text
    assert "One at a time tends to land better than a burst" in text
    assert "a reply to a teammate's post" in text
