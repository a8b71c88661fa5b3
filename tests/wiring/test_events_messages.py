"""Links shared in channels, thread replies, edits, unfurls and deletions, through signed Events API requests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.coach.kinds import Kind, Platform
from bot.store.models import Channel
from bot.store.waiting import waiting_links
from tests.slack_events import (
    ANA,
    BEN,
    BOT,
    CARLA,
    PRIVATE,
    SOCIAL,
    deleted,
    edited,
    ledger,
    message,
    real,
    rich_text,
    tally,
    unfurled,
)
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID

POST = "https://x.com/ana/status/1861"
BLOG = "https://blog.example.com/launch-week"
T0 = "1795424400.000100"  # 09:00 UTC on the test clock's Monday


def share(driver: SlackDriver, text: str = f"New post <{POST}|x.com/ana/status/1861>", **kwargs) -> dict:  # type: ignore[no-untyped-def]
    event = message(kwargs.pop("user", ANA), text, kwargs.pop("ts", T0), **kwargs)
    assert driver.event(event).status == 200
    return event


def reply(driver: SlackDriver, user: str, text: str, to: dict, ts: str = "1795425000.000200") -> dict:
    event = message(user, text, ts, channel=to["channel"], thread_ts=to["ts"])
    assert driver.event(event).status == 200
    return event


# --- links ---------------------------------------------------------------------------------------------


def test_a_link_in_the_text_is_one_shared_link_for_its_author(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    share(driver)

    (row,) = ledger(db)
    assert (row.kind, row.user_id, row.url, row.platform) == (Kind.LINK, ANA, POST, Platform.X)
    assert (row.channel_id, row.message_ts, row.source, row.is_private) == (SOCIAL, T0, "slack", False)
    assert (row.day.isoformat(), row.hour) == ("2026-11-23", 9)


def test_links_only_in_blocks_count_and_each_distinct_url_counts_once(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    blocks = rich_text("Two things I wrote:", POST, BLOG, POST + "?utm_source=slack")
    share(driver, text="Two things I wrote:", blocks=blocks)

    assert sorted(row.url for row in ledger(db)) == [BLOG, POST]


def test_a_real_message_with_one_link_five_times_counts_once(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    event = real("zulip_message_with_links")  # a genuine export message: one URL written five ways
    event.update(channel=SOCIAL, channel_type="channel", user=ANA, event_ts=event["ts"])

    assert driver.event(event).status == 200
    assert [row.url for row in ledger(db)] == ["https://chat.zulip.org/"]


def test_slack_links_mentions_bots_and_joins_change_nothing(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    archive = f"https://acme-social.slack.com/archives/{SOCIAL}/p1795424400000100"
    internal = f"See <{archive}> and <@{BEN}> <#{SOCIAL}|social>"
    share(driver, text=internal)
    for name in ("bolt_bot_profile_message", "bolt_classic_bot_message", "viewer_channel_join", "viewer_bot_add"):
        event = real(name)
        event.update(channel=SOCIAL, channel_type="channel", text=f"{event.get('text', '')} <{BLOG}>")
        assert driver.event(event).status == 200, name
    share(driver, user=BOT, ts="1795424500.000100")  # our own message, were Bolt to let it through

    assert ledger(db) == []


def test_the_unfurl_is_the_same_shared_link_not_a_second_one(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    original = share(driver)
    (before,) = ledger(db)

    assert driver.event(unfurled(original)).status == 200

    (after,) = ledger(db)
    assert after.id == before.id and after.url == POST


def test_an_edit_that_adds_or_removes_links_is_reflected(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    original = share(driver)

    driver.event(edited(original, text=f"New post <{POST}> and the blog <{BLOG}>"))
    assert sorted(row.url for row in ledger(db)) == [BLOG, POST]

    driver.event(edited(original, text=f"Only the blog now <{BLOG}>"))
    assert [row.url for row in ledger(db)] == [BLOG]


def test_a_message_deleted_takes_its_link_and_what_hung_on_it(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    reply(driver, BEN, "Loved the part about answering first", link)
    other = share(driver, text=f"Mine <{BLOG}>", user=CARLA, ts="1795424600.000100")
    reply(driver, ANA, "This is a really useful write-up", other, ts="1795425100.000300")

    assert driver.event(deleted(link)).status == 200

    assert tally(db) == {(Kind.LINK, CARLA, ""): 1, (Kind.COMMENT, ANA, CARLA): 1}


# --- thread replies ----------------------------------------------------------------------------------


def test_a_substantive_reply_is_a_comment_given_and_received(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    reply(driver, BEN, "Great point about replying before posting", link)

    comment = next(row for row in ledger(db) if row.kind == Kind.COMMENT)
    assert (comment.user_id, comment.counterpart, comment.thread_ts) == (BEN, ANA, T0)


def test_an_emoji_or_plus_one_reply_counts_like_a_like(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    reply(driver, BEN, "+1", link, ts="1795425000.000200")
    reply(driver, CARLA, ":tada: :fire:", link, ts="1795425000.000300")
    reply(driver, BEN, "nice!", link, ts="1795425000.000400")

    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.LIKE, BEN, ANA): 2, (Kind.LIKE, CARLA, ANA): 1}


def test_replies_to_your_own_link_or_to_a_message_without_links_count_for_nothing(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    reply(driver, ANA, "Adding some context for everyone here", link)
    chatter = share(driver, text="Coffee at ten, anyone joining us?", user=BEN, ts="1795424700.000100")
    reply(driver, CARLA, "Yes please, I will bring the cake", chatter, ts="1795425200.000100")

    assert tally(db) == {(Kind.LINK, ANA, ""): 1}


def test_a_reply_carrying_a_link_is_a_comment_and_a_shared_link(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    reply(driver, BEN, f"Agreed, I wrote about this too <{BLOG}>", link)

    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.COMMENT, BEN, ANA): 1, (Kind.LINK, BEN, ""): 1}


def test_editing_a_reply_re_reads_it_and_deleting_it_removes_the_comment(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    short = reply(driver, BEN, "+1", link)
    assert tally(db)[(Kind.LIKE, BEN, ANA)] == 1

    driver.event(edited(short, text="+1, and the chart in the middle is brilliant"))
    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.COMMENT, BEN, ANA): 1}

    driver.event(deleted(short))
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}


def test_a_thread_broadcast_counts_as_a_reply(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    broadcast = real("bolt_thread_broadcast")
    broadcast.update(
        user=BEN,
        text="Everyone should read this one, it is excellent",
        ts="1795425000.000500",
        event_ts="1795425000.000500",
        thread_ts=link["ts"],
        channel=SOCIAL,
    )
    broadcast["root"].update(ts=link["ts"], thread_ts=link["ts"], user=ANA)

    assert driver.event(broadcast).status == 200
    assert tally(db)[(Kind.COMMENT, BEN, ANA)] == 1


def test_message_subtypes_we_do_not_count_still_get_a_200(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = share(driver)
    replied = real("docs_message_replied")  # hidden subtype some workspaces still send
    replied.update(channel=SOCIAL, channel_type="channel")
    tombstone = edited(link, subtype="tombstone", text="This message was deleted.", user="USLACKBOT")

    assert driver.event(replied).status == 200
    assert ledger(db) != []
    assert driver.event(tombstone).status == 200
    assert ledger(db) == []


# --- redelivery and privacy -------------------------------------------------------------------------


def test_a_redelivered_event_is_never_counted_twice(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = message(ANA, f"New post <{POST}>", T0)
    comment = message(BEN, "Really thoughtful post, thank you", "1795425000.000200", thread_ts=T0)

    for retry in (None, 1, 2, 3):
        assert driver.event(link, event_id="Ev0LINK001", retry_num=retry).status == 200
        assert driver.event(comment, event_id="Ev0REPLY01", retry_num=retry).status == 200
    # Slack incidents have redelivered with a new event_id: the message itself is still counted once.
    assert driver.event(comment, event_id="Ev0REPLY99").status == 200

    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.COMMENT, BEN, ANA): 1}


def test_links_in_private_channels_count_but_never_reach_public_lists(driver: SlackDriver, db, clock) -> None:  # type: ignore[no-untyped-def]
    link = share(driver, channel=PRIVATE)
    reply(driver, BEN, "Nice work, the examples really help", link)
    share(driver, text=f"Public one <{BLOG}>", user=CARLA, ts="1795424500.000100")

    rows = ledger(db)
    assert {(row.kind, row.is_private) for row in rows if row.channel_id == PRIVATE} == {
        (Kind.LINK, True),
        (Kind.COMMENT, True),
    }
    with db.session() as session:
        channel = session.scalars(select(Channel).where(Channel.channel_id == PRIVATE)).one()
        a_day_later = clock.now + timedelta(days=1)  # nobody has answered them: waiting
        public = waiting_links(session, TEAM_ID, a_day_later, 24, public_only=True, limit=10)
    assert channel.is_private
    assert [(item.user_id, item.url) for item in public] == [(CARLA, BLOG)]
