"""The reminder, the nudge and the burst note as Block Kit: specific, kind, and private where they correct."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.slack.blocks import Message, escape
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
from tests.block_kit import assert_valid, link_targets

NOW = datetime(2026, 11, 24, 11, tzinfo=UTC)
LINKS = [
    LinkToAnswer("U_ANA", "https://ana.example/launch", "C_SOCIAL", NOW - timedelta(hours=26), "https://slack/p1"),
    LinkToAnswer("U_BEN", "https://ben.example/notes", "C_SOCIAL", NOW - timedelta(minutes=20)),
]


def sections(message: Message) -> list[str]:
    return [block["text"]["text"] for block in message.blocks if block["type"] == "section"]


def test_the_reminder_lists_each_link_with_who_shared_it_and_how_to_reply() -> None:
    message = build_waiting_reminder(LINKS, NOW)
    assert sections(message) == [
        "*🔗 Still waiting for a first reply*",
        "• <https://ana.example/launch|ana.example/launch> by <@U_ANA> in <#C_SOCIAL> · 1d ago · "
        "<https://slack/p1|reply in thread>",
        "• <https://ben.example/notes|ben.example/notes> by <@U_BEN> in <#C_SOCIAL> · just now",
    ]
    assert [block["type"] for block in message.blocks] == ["section", "section", "section", "context"]
    assert message.text.startswith("Still waiting for a first reply:\n• <https://ana.example/launch|")


def test_the_nudge_is_warm_specific_and_easy_to_stop() -> None:
    message = build_nudge("U_DAN", LINKS, NOW)
    intro, *lines = sections(message)
    assert intro.startswith("Hi <@U_DAN> 👋 Thanks for all you've shared lately!")
    assert "ana.example/launch" in lines[0] and "ben.example/notes" in lines[1]
    for unkind in ("ratio", "only", "should", "too many", "behind"):
        assert unkind not in " ".join(sections(message)).lower()
    assert [block["type"] for block in message.blocks] == ["section", "section", "section", "actions", "context"]
    controls = message.blocks[3]
    assert controls["block_id"] == "nudge_controls"
    assert [(b["text"]["text"], b["action_id"]) for b in controls["elements"]] == [
        ("Snooze for a week", SNOOZE_NUDGES_ACTION),
        ("Stop these", STOP_NUDGES_ACTION),
    ]
    assert "at most every few days" in message.blocks[4]["elements"][0]["text"]


def long_url(n: int, *, ampersands: bool = False) -> str:
    """A URL of exactly 2,048 characters (the longest the bot accepts); with a hundred `&` to escape, or none."""
    head = f"https://very-long-host-{n}.example.com/articles/2026/11/?"
    query = "&".join(f"k{i}=v" for i in range(100)) + "&pad=" if ampersands else "ref="
    return (head + query + "x" * 2048)[:2048]


def long_links(count: int, **options: bool) -> list[LinkToAnswer]:
    permalink = "https://acme-social.slack.com/archives/C0SOCIAL01/p1763900000000100?thread_ts=1763900000.000100&cid=C0"
    return [
        LinkToAnswer(f"U0MEMBER{n:02d}", long_url(n, **options), "C0SOCIAL01", NOW - timedelta(days=2), permalink)
        for n in range(count)
    ]


@pytest.mark.parametrize("ampersands", [False, True])
@pytest.mark.parametrize(
    "build",
    [lambda links: build_waiting_reminder(links, NOW), lambda links: build_nudge("U_DAN", links, NOW)],
    ids=["reminder", "nudge"],
)
def test_the_longest_urls_keep_every_block_valid_and_every_link_whole(
    build: Callable[[list[LinkToAnswer]], Message], ampersands: bool
) -> None:
    links = long_links(5, ampersands=ampersands)
    message = build(links)

    assert_valid(message)
    targets = [target for text in sections(message) for target in link_targets(text)]
    for link in links:
        assert escape(link.url) in targets  # the whole URL is the link's target, never cut
        assert escape(link.permalink or "") in targets
    for text in sections(message)[1:]:
        label = text.split("|", 1)[1].split(">", 1)[0]
        assert label.startswith("very-long-host-") and len(html.unescape(label)) <= 60  # read by its host, briefly


def test_a_url_too_long_to_fit_even_alone_is_shown_by_its_label_and_nothing_breaks() -> None:
    absurd = LinkToAnswer("U_ANA", "https://x.example/?" + "&" * 3000, "C_SOCIAL", NOW - timedelta(days=1))
    message = build_waiting_reminder([absurd, *long_links(4, ampersands=True)], NOW)
    assert_valid(message)
    assert sections(message)[1].startswith("• x.example/?&amp;&amp;")
    assert "<https://x.example/" not in message.text


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


def test_a_waiting_link_whose_target_carries_a_label_shows_ours() -> None:
    spoof = LinkToAnswer("U_ANA", "https://ana.example/a|Your_bank", "C_SOCIAL", NOW, "https://slack/p1|Win>now")
    [_intro, line] = sections(build_waiting_reminder([spoof], NOW))
    assert line.startswith("• <https://ana.example/a%7CYour_bank|ana.example/a¦Your_bank> by <@U_ANA>")
    assert line.endswith("<https://slack/p1%7CWin%3Enow|reply in thread>")
