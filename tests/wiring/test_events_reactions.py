"""Emoji on shared links through signed reaction_added / reaction_removed events."""

from __future__ import annotations

from bot.coach.kinds import Kind
from tests.slack_events import ANA, BEN, CARLA, PRIVATE, edited, ledger, message, reaction, tally, unfurled
from tests.slack_requests import SlackDriver

POST = "https://www.linkedin.com/posts/ana_listening-first-7260000000000000001-abcd"
T0 = "1795424400.000100"


def shared(driver: SlackDriver, channel: str = "C0SOCIAL01") -> dict:
    link = message(ANA, f"Wrote this up <{POST}>", T0, channel=channel)
    assert driver.event(link).status == 200
    return link


def react(driver: SlackDriver, user: str, on: dict, name: str = "tada", *, removed: bool = False) -> None:
    assert driver.event(reaction(user, on, name, removed=removed)).status == 200


def test_a_reaction_on_a_teammates_link_is_a_like_given_and_received(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = shared(driver)
    react(driver, BEN, link)

    like = next(row for row in ledger(db) if row.kind == Kind.LIKE)
    assert (like.user_id, like.counterpart, like.thread_ts, like.message_ts) == (BEN, ANA, T0, T0)
    assert like.occurred_at.timestamp() == float(T0) + 30  # the reaction's own time


def test_one_like_per_member_per_message_however_many_emoji(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = shared(driver)
    for name in ("tada", "fire", "heart"):
        react(driver, BEN, link, name)
    react(driver, CARLA, link, "eyes")

    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.LIKE, BEN, ANA): 1, (Kind.LIKE, CARLA, ANA): 1}


def test_removing_the_last_emoji_takes_the_like_back(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = shared(driver)
    react(driver, BEN, link, "tada")
    react(driver, BEN, link, "fire")

    react(driver, BEN, link, "tada", removed=True)
    assert tally(db)[(Kind.LIKE, BEN, ANA)] == 1  # the fire is still there

    react(driver, BEN, link, "fire", removed=True)
    assert tally(db) == {(Kind.LINK, ANA, ""): 1}


def test_reactions_on_your_own_link_or_on_chatter_count_for_nothing(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = shared(driver)
    chatter = message(BEN, "Lunch at noon?", "1795424500.000100")
    driver.event(chatter)

    react(driver, ANA, link)
    react(driver, CARLA, chatter)
    file_reaction = reaction(CARLA, link)
    file_reaction["item"] = {"type": "file", "file": "F0FILE0001"}
    assert driver.event(file_reaction).status == 200

    assert tally(db) == {(Kind.LINK, ANA, ""): 1}


def test_reactions_survive_the_unfurl_and_edits(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = shared(driver)
    react(driver, BEN, link)

    driver.event(unfurled(link))
    driver.event(edited(link, text=f"Wrote this up, fixed a typo <{POST}>"))

    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.LIKE, BEN, ANA): 1}


def test_a_redelivered_reaction_counts_once(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = shared(driver)
    added = reaction(BEN, link)
    for retry in (None, 1, 2):
        assert driver.event(added, event_id="Ev0REACT01", retry_num=retry).status == 200

    assert tally(db)[(Kind.LIKE, BEN, ANA)] == 1


def test_a_reaction_in_a_private_channel_is_private_too(driver: SlackDriver, db) -> None:  # type: ignore[no-untyped-def]
    link = shared(driver, channel=PRIVATE)
    react(driver, BEN, link)

    assert [row.is_private for row in ledger(db)] == [True, True]
