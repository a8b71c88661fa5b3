"""The pure parts of watching Slack: which events are worth storing, thread memory, backfill wording, progress."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coach.messages import ParentMessage, links_in
from bot.import_export import ProgressBar
from bot.services.export_import import ImportProgress
from bot.services.history import BackfillReport
from bot.services.ingest import ThreadParents, event_action, oldest_first, without_members
from bot.slack.blocks.history import (
    build_backfill_busy,
    build_backfill_done,
    build_backfill_failed,
    build_backfill_started,
)
from tests.slack_events import ANA, BEN, BOT, deleted, edited, joined, message, reaction, real

LINK = "<https://x.com/ana/status/1>"


@pytest.mark.parametrize(
    ("event", "action"),
    [
        (message(ANA, f"Mine {LINK}", "1.000001"), "message"),
        (message(BEN, "Great read, thank you", "2.000001", thread_ts="1.000001"), "message"),
        (message(ANA, "hello team", "1.000001"), None),  # no link, not a reply: nothing to count
        (message(BOT, f"Mine {LINK}", "1.000001"), None),
        (real("bolt_bot_profile_message"), None),
        (real("bolt_classic_bot_message"), None),
        (real("viewer_channel_join"), None),
        (edited(message(ANA, LINK, "1.000001"), text="no link"), "message_changed"),
        (deleted(message(ANA, LINK, "1.000001")), "message_deleted"),
        (reaction(BEN, message(ANA, LINK, "1.000001")), "reaction_added"),
        (reaction(BEN, message(ANA, LINK, "1.000001"), removed=True), "reaction_removed"),
        (joined(BOT), "bot_joined"),
        (joined(BEN), None),
        (real("bolt_member_left_channel"), None),
    ],
)
def test_only_events_that_can_change_the_ledger_are_stored(event, action) -> None:  # type: ignore[no-untyped-def]
    assert event_action(event, BOT) == action


def test_thread_parents_are_remembered_then_looked_up_once_when_forgotten() -> None:
    lookups: list[str] = []

    def stored(thread_ts: str) -> ParentMessage | None:
        lookups.append(thread_ts)
        return ParentMessage(ANA, thread_ts, has_links=True) if thread_ts == "1000.000001" else None

    parents = ThreadParents(stored)
    parents.remember("1000.000001", ANA)
    parents.remember("2000.000001", None)  # a thread parent without links
    reply = {"ts": "3000.000001", "thread_ts": "1000.000001"}

    assert parents.parent_of(reply) == ParentMessage(ANA, "1000.000001", has_links=True)
    assert parents.parent_of({"ts": "3000.000002", "thread_ts": "2000.000001"}) is None
    assert parents.parent_of({"ts": "1000.000001", "thread_ts": "1000.000001"}) is None  # a parent is no reply
    assert lookups == []

    parents.forget_before(str(1000 + 31 * 86400))
    assert parents.parent_of(reply) == ParentMessage(ANA, "1000.000001", has_links=True)
    assert parents.parent_of(reply) == ParentMessage(ANA, "1000.000001", has_links=True)
    assert parents.parent_of({"ts": "9.1", "thread_ts": "5.1"}) is None
    assert lookups == ["1000.000001", "5.1"]


def test_oldest_first_puts_parents_before_replies_and_tolerates_bad_timestamps() -> None:
    messages = [{"ts": "20.5"}, {"ts": "3.000001"}, {"ts": None}, {"ts": "100.1"}]

    assert [m["ts"] for m in oldest_first(messages)] == [None, "3.000001", "20.5", "100.1"]


def test_backfill_answers_are_brief_and_say_what_happens_next() -> None:
    started = build_backfill_started("C0SOCIAL01", 14)
    report = BackfillReport("C0SOCIAL01", 1, messages=1, links=1, comments=0, likes=2, new_entries=0)

    assert started.text.startswith("On it: I'm reading the last 14 days of <#C0SOCIAL01> in the background.")
    assert started.blocks[0]["text"]["text"] == started.text
    assert build_backfill_busy("C1").text == "I'm already reading <#C1>; I'll tell you here when it's done."
    assert build_backfill_done(report).text == (
        "Done with <#C0SOCIAL01>: I read 1 message from the last day and found 1 shared link, "
        "0 comments and 2 likes. All of it was already counted."
    )
    assert "I'm not in <#C1> yet" in build_backfill_failed("C1", "not_in_channel").text
    assert "run `/coach backfill` again in a few minutes" in build_backfill_failed("C1", "ratelimited").text
    assert "(Slack said `fatal_error`)" in build_backfill_failed("C1", "fatal_error").text


def test_the_progress_bar_shows_files_messages_and_speed() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, width=10, every=0)

    bar(ImportProgress(files_done=5, files_total=10, messages=1234))
    bar(ImportProgress(files_done=10, files_total=10, messages=2500))

    first, last = out.getvalue().split("\r")[1:]
    assert first.startswith("[#####.....] 5/10 files  1,234 messages  ")
    assert last.startswith("[##########] 10/10 files  2,500 messages  ") and last.endswith(" msg/s\n")


# --- what is kept of a teammate's message once a member opted out ------------------------------------------

_SLACK_ID = st.from_regex(r"U[0-9A-Z]{8,10}", fullmatch=True)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(message=st.dictionaries(st.text(max_size=8), _JSON, max_size=5), forgotten=st.sets(_SLACK_ID, max_size=3))
def test_a_kept_message_never_names_a_forgotten_member(message: dict, forgotten: set[str]) -> None:
    mentioned = {**message, "text": " ".join(f"<@{user_id}>" for user_id in forgotten), "parent_user_id": "x"}
    if forgotten:
        mentioned["parent_user_id"] = next(iter(forgotten))
    kept = without_members(mentioned, frozenset(forgotten))
    assert not any(user_id in json.dumps(kept) for user_id in forgotten)
    if not forgotten:
        assert kept == mentioned


def test_a_kept_message_keeps_its_links_and_its_author() -> None:
    reply = message(BEN, f"<@{ANA}> agreed {LINK}", "2.000001", thread_ts="1.000001")
    reply["parent_user_id"] = ANA
    kept = without_members(reply, frozenset({ANA}))
    assert kept["user"] == BEN and links_in(kept) == links_in(reply)
    assert ANA not in json.dumps(kept)


def test_ids_that_are_no_slack_id_are_left_alone() -> None:
    """A value that could break the JSON it is replaced in is no Slack id: nothing to forget there."""
    odd = {"text": 'say "hi"\\ there'}
    assert without_members(odd, frozenset({'"', "\\", 'i"'})) == {"text": 'say "hi"\\ there'}
