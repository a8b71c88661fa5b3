"""The weekly summary's Block Kit, read as a structure: short sections, a plain-text twin, praise only."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coach.kinds import Kind
from bot.coach.scoring import MemberScore
from bot.coach.weekly import DiscussedLink, Improvement, WeekFacts
from bot.slack.blocks import escape, link_label, link_target, slack_link
from bot.slack.blocks.summary import build_summary
from tests.block_kit import assert_valid, link_targets

TIP = "Reply to one person today & tell them why."


def member(user_id: str, conversation: int, given: int) -> MemberScore:
    counts = dict.fromkeys(Kind, 0)
    return MemberScore(user_id, 1, 10.0, given, 2, 0, counts, conversation, given / 2, 0, 0)


FACTS = WeekFacts(
    first_day=date(2026, 11, 30),
    last_day=date(2026, 12, 6),
    replies=4,
    comments=1,
    answers=0,
    posts=3,
    given=9,
    ratio=3.0,
    previous_ratio=3.5,
    target_ratio=4.0,
    most_social=(member("U_ANA", 1, 5), member("U_BEN", 0, 4)),
    most_improved=Improvement("U_BEN", 1.0, 2.0),
    most_discussed=DiscussedLink("U_ANA", "https://www.example.com/a?b=1&c=2", "C1", "1.0", 1),
    links_shared=3,
    links_unanswered=0,
    tip=TIP,
)


def texts(facts: WeekFacts, **options: object) -> list[str]:
    message = build_summary(facts, **options)  # type: ignore[arg-type]
    return [b["text"]["text"] for b in message.blocks if "text" in b] + [
        e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]
    ]


def test_a_week_reads_as_a_few_short_sections() -> None:
    message = build_summary(FACTS)
    assert [block["type"] for block in message.blocks] == [
        "header",
        "section",
        "section",
        "section",
        "divider",
        "section",
    ]
    assert message.blocks[0]["text"]["text"] == "📊 Your week on social · 30 Nov – 6 Dec"
    assert not any("fields" in block or "accessory" in block for block in message.blocks)  # one column on a phone


def test_what_it_says() -> None:
    body = "\n".join(texts(FACTS))
    assert "💬 *5* conversations: 4 replies, 1 comment, 0 answers" in body
    assert "📣 *3* posts and links shared" in body
    assert "⚖️ Team ratio *3.0:1* ↓ from 3.5:1 · target 4:1" in body
    assert "👉 The quickest way up: reply to a teammate's link that is still waiting." in body
    assert "1. <@U_ANA> · 1 reply, comment or answer\n2. <@U_BEN> · 4 shares, likes and follows" in body
    assert "🚀 *Most improved:* <@U_BEN>, now at 2.0:1, up on last week" in body
    assert "1.0:1" not in body
    assert "<https://www.example.com/a?b=1&amp;c=2|example.com/a?b=1&amp;c=2> shared by <@U_ANA> · 1 reply" in body
    assert "🙌 Every one of the 3 links shared got a reply." in body
    assert "💡 *Tip of the week:* Reply to one person today &amp; tell them why." in body


def test_at_or_above_target_there_is_nothing_to_fix() -> None:
    body = "\n".join(texts(replace(FACTS, ratio=4.5, previous_ratio=None)))
    assert "⚖️ Team ratio *4.5:1* · target 4:1" in body and "👉" not in body


def test_the_plain_text_twin_says_the_same_without_markup() -> None:
    text = build_summary(FACTS).text
    assert text.startswith("📊 Your week on social · 30 Nov – 6 Dec\n💬 5 conversations")
    assert "*" not in text
    assert f"Tip of the week: {TIP}" in text


def test_a_quiet_week_is_short_and_still_brings_its_tip() -> None:
    quiet = replace(
        FACTS,
        replies=0,
        comments=0,
        posts=0,
        given=0,
        ratio=None,
        most_social=(),
        most_improved=None,
        most_discussed=None,
        links_shared=0,
    )
    message = build_summary(quiet)
    assert [block["type"] for block in message.blocks] == ["header", "section", "divider", "section"]
    assert "A quiet week" in message.text and TIP in message.text


def test_the_preview_says_it_is_private_and_where_the_real_one_goes() -> None:
    message = build_summary(FACTS, preview=True, channel_id="C0SOCIAL01")
    assert message.blocks[0]["text"]["text"] == "👀 This week so far · 30 Nov – 6 Dec"
    assert message.blocks[-1] == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "Only you can see this preview. The team's summary of the whole week goes to <#C0SOCIAL01>.",
            }
        ],
    }


@pytest.mark.parametrize("preview", [False, True])
def test_the_longest_url_keeps_every_block_valid_and_the_link_whole(preview: bool) -> None:
    query = "&".join(f"k{i}=v" for i in range(100))  # a hundred `&` to escape
    url = f"https://very-long-host.example.com/threads/2026/?{query}&x=".ljust(2048, "x")
    facts = replace(FACTS, most_discussed=DiscussedLink("U_ANA", url, "C1", "1.0", 12))
    message = build_summary(facts, preview=preview, channel_id="C0SOCIAL01")

    assert_valid(message)
    [highlights] = [text for text in texts(facts) if "Most discussed" in text]
    assert link_targets(highlights) == [escape(url)]
    assert "|very-long-host.example.com/threads/2026/?k0=v&amp;" in highlights


def test_a_url_too_long_to_fit_is_shown_by_its_label_and_nothing_breaks() -> None:
    facts = replace(FACTS, most_discussed=DiscussedLink("U_ANA", "https://x.example/?" + "&" * 3000, "C1", "1.0", 3))
    assert_valid(build_summary(facts))
    [highlights] = [text for text in texts(facts) if "Most discussed" in text]
    assert "🔥 *Most discussed:* x.example/?&amp;&amp;" in highlights and link_targets(highlights) == []


def test_link_labels_are_short_and_cannot_break_the_link() -> None:
    assert link_label("https://www.blog.example.com/post/") == "blog.example.com/post"
    assert link_label("https://x.com/a|b>c") == "x.com/a¦b&gt;c"
    long = link_label("https://example.com/" + "a" * 100)
    assert len(long) == 60 and long.endswith("…")


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("https://x.com/a|Your bank", "https://x.com/a%7CYour%20bank"),
        ("https://x.com/a<b>c", "https://x.com/a%3Cb%3Ec"),
        ("https://x.com/a?b=1&c=2", "https://x.com/a?b=1&amp;c=2"),
        ("https://x.com/a\u00a0b\tc\nd", "https://x.com/a%C2%A0b%09c%0Ad"),
        ("https://x.com/ok", "https://x.com/ok"),
    ],
)
def test_a_link_target_cannot_end_the_link_or_choose_its_label(url: str, target: str) -> None:
    assert link_target(url) == target
    assert link_targets(slack_link(url)) == [target]


def test_our_own_label_is_escaped_and_cannot_split_the_link() -> None:
    assert slack_link("https://x.com/a", "A & <b>|c") == "<https://x.com/a|A &amp; &lt;b&gt;¦c>"


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=40)))  # fits MAX_LINK_MARKUP
def test_whatever_a_url_holds_our_link_has_one_target_and_our_label(url: str, label: str | None) -> None:
    markup = slack_link("https://x.com/" + url, label)
    target, bar, shown = markup[1:-1].partition("|")
    assert markup.startswith("<") and markup.endswith(">") and bar
    assert not any(c in "|<>" or c.isspace() for c in target)
    assert not any(c in "|<>" for c in shown)
    assert shown == (link_label("https://x.com/" + url) if label is None else escape(label).replace("|", "¦"))


def test_links_are_written_only_by_slack_link() -> None:
    """A `<{url}|{label}>` written by hand would skip link_target's encoding: only the helper writes one."""
    bot = Path(__file__).parents[2] / "bot"
    by_hand = [
        f"{path.relative_to(bot)}:{number}"
        for path in sorted(bot.rglob("*.py"))
        if path != bot / "slack" / "blocks" / "__init__.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"<\{[^}]*\}\|", line)
    ]
    assert by_hand == []
