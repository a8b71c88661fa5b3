"""What a Slack message is worth: real payload shapes in, ledger entries out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coach.kinds import Kind, Platform
from bot.coach.messages import (
    MAX_SOURCE_KEY_LENGTH,
    MESSAGE_KEY_PREFIXES,
    ChannelContext,
    LedgerEntry,
    ParentMessage,
    entries_for_message,
    entry_for_reaction,
    is_human_message,
    is_substantive,
    links_in,
    ts_to_datetime,
)

PAYLOADS = json.loads((Path(__file__).parents[1] / "fixtures" / "messages_slack_payloads.json").read_text())
PUBLIC = ChannelContext(channel_id="C111", is_private=False, bot_user_id="UBOT")
PRIVATE = ChannelContext(channel_id="G111", is_private=True, bot_user_id="UBOT")


def payload(name: str) -> dict:
    return PAYLOADS["items"][name]["data"]


def message(text: str, *, user: str = "U0ANA", ts: str = "1794268800.000100", **extra: object) -> dict:
    return {"type": "message", "user": user, "text": text, "ts": ts, **extra}


def link_parent(user: str = "U0LEO", ts: str = "1794268800.000100") -> ParentMessage:
    return ParentMessage(user_id=user, ts=ts, has_links=True)


def reply(text: str, *, user: str = "U0ANA", thread_ts: str = "1794268800.000100", **extra: object) -> dict:
    return message(text, user=user, ts="1794272400.000200", thread_ts=thread_ts, parent_user_id="U0LEO", **extra)


def kinds(entries: list[LedgerEntry]) -> list[Kind]:
    return [entry.kind for entry in entries]


# --- links --------------------------------------------------------------------------------------------


def test_the_same_link_in_text_and_blocks_counts_once_and_the_unfurl_adds_nothing():
    real = payload("zulip_message_with_links")  # five copies of one link, plus an unfurl attachment

    entries = entries_for_message(real, PUBLIC, None)

    assert [(e.kind, e.url, e.user_id, e.counterpart) for e in entries] == [
        (Kind.LINK, "https://chat.zulip.org/", "U06NU4E26M9", "")
    ]
    entry = entries[0]
    assert entry.message_ts == real["ts"] and entry.channel_id == "C111" and entry.thread_ts is None
    assert entry.source_key == "link:C111:1772029188.953659:https://chat.zulip.org"
    assert entry.occurred_at == datetime(2026, 2, 25, 14, 19, 48, 953659, tzinfo=UTC)
    assert entry.platform is Platform.BLOG and entry.private is False


def test_links_only_in_blocks_are_found_however_deeply_nested():
    def link(url: str) -> dict:
        return {"type": "link", "url": url}

    blocks = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [{"type": "text", "text": "mine: "}, link("https://x.com/ana/status/1")],
                },
                {"type": "rich_text_quote", "elements": [link("https://www.linkedin.com/posts/ana_1")]},
                {
                    "type": "rich_text_list",
                    "style": "bullet",
                    "elements": [{"type": "rich_text_section", "elements": [link("https://youtu.be/abc")]}],
                },
                {"type": "rich_text_preformatted", "elements": [link("https://ana.blog/post")]},
            ],
        }
    ]

    assert links_in(message("mine", blocks=blocks)) == [
        "https://x.com/ana/status/1",
        "https://www.linkedin.com/posts/ana_1",
        "https://youtu.be/abc",
        "https://ana.blog/post",
    ]


def test_labelled_links_keep_the_url_and_variants_of_one_url_count_once():
    text = (
        "new post <https://X.com/ana/status/1?utm_source=slack|on X> and again "
        "<https://x.com/ana/status/1/> and <https://ana.blog/?a=1&amp;b=2|my blog>"
    )
    blocks = [{"type": "rich_text", "elements": [{"type": "link", "url": "https://ana.blog/?a=1&b=2"}]}]

    assert links_in(message(text, blocks=blocks)) == [
        "https://X.com/ana/status/1?utm_source=slack",
        "https://ana.blog/?a=1&b=2",
    ]


def test_mentions_slack_links_and_mailto_are_not_output():
    text = (
        "<@U0BMYT2FL> see <#C0JGLMMNX|enrique> <!here> <!subteam^S123|@team> "
        "<https://acme.slack.com/archives/C111/p1794268800000100> <mailto:ana@acme.test|ana@acme.test>"
    )

    assert links_in(message(text)) == []
    assert entries_for_message(message(text), PUBLIC, None) == []


def test_a_real_export_link_after_a_mention_is_found():
    real = payload("viewer_user_link_without_unfurl")

    assert links_in(real) == [
        "https://bitbucket.org/hfaran/security_a2/src/7c019470cf14fd2d14fab276c0a6e4313d393a12/Q2_sima.py?fileviewer=file-view-default"
    ]


def test_an_unfurled_export_message_counts_its_text_link_once():
    real = payload("viewer_user_link_with_unfurl_attachment")

    assert kinds(entries_for_message(real, PUBLIC, None)) == [Kind.LINK]


def test_a_long_url_gets_a_hashed_key_that_fits_the_column():
    url = "https://ana.blog/" + "a" * 2000

    (entry,) = entries_for_message(message(f"<{url}>"), PUBLIC, None)

    assert entry.url == url
    assert len(entry.source_key) <= MAX_SOURCE_KEY_LENGTH
    assert entry.source_key.startswith("link:C111:1794268800.000100:sha1:")


def test_each_distinct_link_is_one_entry_with_its_platform_and_privacy():
    text = "<https://x.com/ana/status/1> <https://mastodon.social/@ana/1133> <https://www.youtube.com/watch?v=z>"

    entries = entries_for_message(message(text), PRIVATE, None)

    assert [e.platform for e in entries] == [Platform.X, Platform.MASTODON, Platform.YOUTUBE]
    assert all(e.private and e.kind is Kind.LINK for e in entries)
    assert len({e.source_key for e in entries}) == 3


# --- who wrote it ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "bolt_bot_profile_message",
        "bolt_classic_bot_message",
        "viewer_bot_message_incoming_webhook_style",
        "viewer_has_reactions",
        "viewer_bot_add",
        "viewer_channel_join",
        "viewer_file_comment",
    ],
)
def test_bots_joins_and_other_subtypes_are_worth_nothing(name):
    real = dict(payload(name), text="look <https://x.com/ana/status/1>")

    assert not is_human_message(real, "UBOT")
    assert entries_for_message(real, PUBLIC, None) == []


def test_a_bot_message_with_a_link_in_blocks_is_ignored_too():
    real = payload("bolt_bot_profile_message")
    blocks = [{"type": "rich_text", "elements": [{"type": "link", "url": "https://x.com/bot/status/1"}]}]

    assert entries_for_message(dict(real, blocks=blocks), PUBLIC, None) == []


def test_our_own_bot_users_messages_are_ignored():
    own = dict(payload("bolt_plain_message"), user="UBOT", text="<https://x.com/ana/status/1>")

    assert not is_human_message(own, "UBOT")
    assert entries_for_message(own, PUBLIC, None) == []
    assert is_human_message(own, None)


def test_a_plain_message_without_links_is_human_but_worth_nothing():
    real = payload("bolt_plain_message")

    assert is_human_message(real, "UBOT")
    assert entries_for_message(real, PUBLIC, None) == []


def test_file_share_is_a_person_writing_and_its_text_links_count():
    live = payload("bolt_file_share")
    exported = payload("viewer_file_share")  # bot_id: null, and only a Slack file link in the text

    assert is_human_message(live, "UBOT") and is_human_message(exported, "UBOT")
    assert entries_for_message(exported, PUBLIC, None) == []
    with_link = dict(live, text="slides from my talk <https://ana.blog/talk>")
    assert [e.url for e in entries_for_message(with_link, PUBLIC, None)] == ["https://ana.blog/talk"]


def test_an_edited_message_is_read_from_its_inner_message():
    edited = dict(payload("bolt_message_changed")["message"], ts="1665102338.901939")
    edited["text"] = "updated: <https://ana.blog/post>"

    (entry,) = entries_for_message(edited, PUBLIC, None)

    assert (entry.channel_id, entry.message_ts) == ("C111", "1665102338.901939")
    assert entry.source_key.startswith(MESSAGE_KEY_PREFIXES)


# --- thread replies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Loved the point about posting less and replying more!", Kind.COMMENT),
        ("<@U0LEO> this one really landed for me", Kind.COMMENT),
        ("+1", Kind.LIKE),
        ("nice!", Kind.LIKE),
        (":tada:", Kind.LIKE),
        (":+1::skin-tone-2: :fire: 🎉", Kind.LIKE),
        ("great post <@U0LEO> :fire: :fire:", Kind.LIKE),
    ],
)
def test_a_reply_to_a_teammates_link_is_a_comment_or_a_like(text, kind):
    (entry,) = entries_for_message(reply(text), PUBLIC, link_parent())

    assert entry.kind is kind
    assert (entry.user_id, entry.counterpart) == ("U0ANA", "U0LEO")
    assert (entry.message_ts, entry.thread_ts) == ("1794272400.000200", "1794268800.000100")
    assert entry.source_key == "reply:C111:1794272400.000200"
    assert entry.url is None and entry.platform is Platform.SLACK


def test_the_word_threshold_is_a_parameter():
    assert entries_for_message(reply("nice one"), PUBLIC, link_parent(), min_words=2)[0].kind is Kind.COMMENT
    assert entries_for_message(reply("nice one"), PUBLIC, link_parent())[0].kind is Kind.LIKE


def test_replies_to_your_own_link_count_for_nothing():
    own = reply("Thanks all, the follow-up post is coming next week", user="U0LEO")

    assert entries_for_message(own, PUBLIC, link_parent()) == []


def test_a_reply_with_a_link_is_both_engagement_and_a_link():
    text = "Great thread, I wrote about the same idea here <https://ana.blog/same-idea>"

    entries = entries_for_message(reply(text), PUBLIC, link_parent())

    assert kinds(entries) == [Kind.COMMENT, Kind.LINK]
    # The link belongs to the thread it was shared in, so it is never a top-level link waiting for a reply.
    assert entries[1].thread_ts == "1794268800.000100" and entries[1].message_ts == "1794272400.000200"


def test_a_reply_under_a_parent_without_links_is_not_engagement_but_its_links_count():
    parent = ParentMessage(user_id="U0LEO", ts="1794268800.000100", has_links=False)

    assert entries_for_message(reply("That sounds like a very good plan"), PUBLIC, parent) == []
    assert kinds(entries_for_message(reply("see <https://ana.blog/x>"), PUBLIC, parent)) == [Kind.LINK]


def test_a_reply_whose_parent_is_unknown_or_another_message_is_not_engagement():
    text = "That sounds like a very good plan"

    assert entries_for_message(reply(text), PUBLIC, None) == []
    assert entries_for_message(reply(text), PUBLIC, link_parent(ts="1794260000.000001")) == []


def test_a_thread_parent_is_not_a_reply_to_itself():
    parent_itself = message("Read this <https://x.com/leo/status/9>", user="U0LEO", thread_ts="1794268800.000100")

    assert kinds(entries_for_message(parent_itself, PUBLIC, link_parent())) == [Kind.LINK]


def test_a_real_thread_broadcast_is_a_reply():
    real = payload("bolt_thread_broadcast")
    parent = ParentMessage(user_id="U222", ts=real["thread_ts"], has_links=True)

    (entry,) = entries_for_message(real, PUBLIC, parent)

    assert (entry.kind, entry.user_id, entry.counterpart) == (Kind.LIKE, "U111", "U222")
    assert entry.source_key == f"reply:C111:{real['ts']}"


def test_real_exported_threads_reply_to_the_right_parent():
    first, reply_msg, broadcast = payload("zulip_thread_with_broadcast_reply")
    parent = ParentMessage(user_id=first["user"], ts=first["ts"], has_links=True)

    assert entries_for_message(first, PUBLIC, None) == []
    assert kinds(entries_for_message(reply_msg, PUBLIC, parent)) == [Kind.LIKE]  # "first reply"
    assert kinds(entries_for_message(broadcast, PUBLIC, parent)) == [Kind.COMMENT]  # "everyone should see this"


# --- reactions ---------------------------------------------------------------------------------------


def reaction(reactor: str = "U0ANA", item_user: str | None = "U0LEO", **overrides: object) -> LedgerEntry | None:
    args: dict = {
        "reactor": reactor,
        "item_user": item_user,
        "channel": PUBLIC,
        "item_ts": "1794268800.000100",
        "event_ts": "1794270000.000300",
        "item_has_links": True,
        **overrides,
    }
    return entry_for_reaction(**args)


def test_a_reaction_on_a_teammates_link_is_one_like_whatever_the_emoji():
    real = payload("docs_reaction_added")

    entry = entry_for_reaction(
        reactor=real["user"],
        item_user=real["item_user"],
        channel=ChannelContext(real["item"]["channel"], is_private=False),
        item_ts=real["item"]["ts"],
        event_ts=real["event_ts"],
        item_has_links=True,
    )

    assert entry is not None
    assert (entry.kind, entry.user_id, entry.counterpart) == (Kind.LIKE, "U123ABC456", "U222222222")
    assert entry.message_ts == entry.thread_ts == "1360782400.498405"
    assert entry.occurred_at == ts_to_datetime("1360782804.083113")
    assert entry.source_key == "reaction:C123ABC456:1360782400.498405:U123ABC456"
    assert reaction(event_ts="1794279999.000001").source_key == reaction().source_key


def test_reactions_on_your_own_message_are_worth_nothing():
    real = payload("bolt_reaction_added")  # W111 reacting to W111's own message

    assert (
        entry_for_reaction(
            reactor=real["user"],
            item_user=real["item_user"],
            channel=PUBLIC,
            item_ts=real["item"]["ts"],
            event_ts=real["event_ts"],
            item_has_links=True,
        )
        is None
    )


def test_reactions_count_only_on_link_messages_by_people_and_not_from_the_bot():
    assert reaction(item_has_links=False) is None
    assert reaction(item_user=None) is None
    assert reaction(reactor="UBOT") is None
    assert reaction(reactor="") is None
    assert reaction(channel=PRIVATE).private is True


# --- words and timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("This is really useful, thanks", True),
        ("don't stop posting these", True),
        ("this &amp; that", False),
        ("<https://a.example/one> <https://a.example/two> <@U1> <#C1|x>", False),
        ("非常有用的文章", True),
        ("好文章", False),
        ("", False),
    ],
)
def test_substantive_means_enough_real_words(text, expected):
    assert is_substantive(text) is expected


def test_ts_to_datetime_is_exact_and_rejects_what_is_not_a_ts():
    assert ts_to_datetime("1794268800.000100") == datetime(2026, 11, 10, 0, 0, 0, 100, tzinfo=UTC)
    assert ts_to_datetime("1794268800") == datetime(2026, 11, 10, tzinfo=UTC)
    for bad in ("", "abc", "1794268800.1234567", "1515449522000016", "-1.0"):
        with pytest.raises(ValueError):
            ts_to_datetime(bad)


def test_a_message_with_a_malformed_ts_is_worth_nothing():
    assert entries_for_message(message("<https://ana.blog/x>", ts="soon"), PUBLIC, None) == []


# --- never raises, always the same ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
link_elements = st.fixed_dictionaries({"type": st.just("link"), "url": st.text()}) | st.fixed_dictionaries(
    {"type": st.sampled_from(["rich_text_section", "rich_text_list", "link"]), "elements": st.lists(json_values)}
)
texts = st.text() | st.builds(
    "".join, st.lists(st.sampled_from(["<https://x.com/a|a>", "<@U1>", ":tada:", " ", "word", "<", ">", "|", "&amp;"]))
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "user": st.sampled_from(["U0ANA", "U0LEO", "UBOT", ""]) | json_values,
        "text": texts | json_values,
        "ts": st.sampled_from(["1794272400.000200", "1794268800.000100", "x"]) | json_values,
        "thread_ts": st.sampled_from(["1794268800.000100", "1794272400.000200"]) | json_values,
        "subtype": st.sampled_from(["thread_broadcast", "file_share", "bot_message"]) | json_values,
        "bot_id": json_values,
        "blocks": st.lists(st.fixed_dictionaries({"type": st.just("rich_text"), "elements": st.lists(link_elements)}))
        | json_values,
        "attachments": json_values,
    },
)


@given(message=messages, private=st.booleans(), has_parent=st.booleans(), min_words=st.integers(0, 6))
def test_entries_for_message_never_raises_and_is_deterministic(message, private, has_parent, min_words):
    channel = ChannelContext("C111", private, "UBOT")
    parent = link_parent() if has_parent else None

    entries = entries_for_message(message, channel, parent, min_words=min_words)

    assert entries == entries_for_message(message, channel, parent, min_words=min_words)
    assert len({e.source_key for e in entries}) == len(entries)
    for entry in entries:
        assert len(entry.source_key) <= MAX_SOURCE_KEY_LENGTH
        assert entry.user_id == message["user"] and entry.private is private
        assert entry.occurred_at.tzinfo is UTC
