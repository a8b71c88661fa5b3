"""The ledger's Block Kit builders, read as a member would see them."""

from __future__ import annotations

import json

import pytest

from bot.coach.commands import MAX_NOTE_LENGTH
from bot.coach.kinds import LOGGABLE_KINDS, Kind, Platform
from bot.coach.urls import MAX_URL_LENGTH
from bot.services.ledger import LoggedAction, LogResult, OptOutPreview, UndoResult, WeekBalance
from bot.slack.blocks.ledger import (
    FIELD_BLOCKS,
    KIND_ACTION,
    KIND_BLOCK,
    LOG_MODAL_CALLBACK_ID,
    NOTE_ACTION,
    NOTE_BLOCK,
    OPT_OUT_CANCEL_ACTION,
    OPT_OUT_CONFIRM_ACTION,
    URL_ACTION,
    URL_BLOCK,
    LogForm,
    build_export_comment,
    build_export_sent,
    build_log_modal,
    build_logged,
    build_nothing_to_export,
    build_opt_out_cancelled,
    build_opt_out_confirmation,
    build_opted_in,
    build_opted_out,
    build_undone,
    describe_action,
    describe_balance,
    read_log_form,
)

REPLY = LoggedAction(Kind.REPLY, "https://x.com/ana/status/1", Platform.X, "x.com/ana", "thanked her")
BALANCE = WeekBalance(given=3, pushed=1, target_ratio=4.0)


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        (REPLY, "your *reply* on X (x.com/ana): “thanked her”"),
        (LoggedAction(Kind.SHARE, "https://x.com/i/status/1", Platform.X, "x.com", ""), "your *share* on X"),
        (
            LoggedAction(Kind.COMMENT, "https://blog.example.com/a", Platform.BLOG, "blog.example.com", ""),
            "your *comment* on blog.example.com",
        ),
        (
            LoggedAction(Kind.FOLLOW, "https://mastodon.social/@ana", Platform.MASTODON, "mastodon.social/@ana", ""),
            "your *follow* on Mastodon (mastodon.social/@ana)",
        ),
        (LoggedAction(Kind.LIKE, None, Platform.NONE, "", ""), "your *like*"),
    ],
)
def test_an_action_is_described_in_the_members_terms(action: LoggedAction, shown: str) -> None:
    assert describe_action(action) == shown


def test_a_note_is_escaped_shortened_and_kept_on_one_line() -> None:
    note = "loved <this> & @channel\nsecond line " + "x" * 200
    shown = describe_action(LoggedAction(Kind.POST, None, Platform.NONE, "", note))
    assert "<" not in shown and ">" not in shown
    assert "&lt;this&gt; &amp; @channel second line" in shown
    assert "\n" not in shown
    assert shown.endswith("…”") and len(shown) < 120


@pytest.mark.parametrize(
    ("balance", "shown"),
    [
        (WeekBalance(0, 0, 4.0), "Nothing counted for you this week yet."),
        (WeekBalance(2, 0, 4.0), "This week: *2 given*, 0 posts — giving first, which is exactly the idea."),
        (WeekBalance(8, 2, 4.0), "This week: *8 given*, 2 posts — a lovely balance."),
        (
            WeekBalance(3, 1, 4.0),
            "This week: *3 given*, 1 post — 1 more reply or comment on someone else's posts would balance it nicely.",
        ),
        (
            WeekBalance(10, 3, 4.0, capped_light=2),
            "This week: *10 given*, 3 posts (the daily cap leaves out 2 likes and follows) — "
            "2 more replies or comments on someone else's posts would balance it nicely.",
        ),
        (WeekBalance(55, 50, 1.1), "This week: *55 given*, 50 posts — a lovely balance."),  # 1.1 * 50 > 55 in floats
    ],
)
def test_the_week_balance_is_numbers_with_a_kind_next_step(balance: WeekBalance, shown: str) -> None:
    assert describe_balance(balance) == shown


def test_a_new_log_is_confirmed_in_one_line_with_a_way_to_take_it_back() -> None:
    message = build_logged(LogResult(REPLY, True, BALANCE))
    assert message.text == (
        "Logged your *reply* on X (x.com/ana): “thanked her”. This week: *3 given*, 1 post — "
        "1 more reply or comment on someone else's posts would balance it nicely."
    )
    section, hint = message.blocks
    assert section["text"]["text"] == message.text
    assert "`/coach undo`" in hint["elements"][0]["text"]


def test_a_repeated_log_says_it_counts_once() -> None:
    text = build_logged(LogResult(REPLY, False, BALANCE)).text
    assert text.startswith("You'd already logged your *reply* on X (x.com/ana)")
    assert "so it counts once" in text


def test_undo_shows_what_was_removed() -> None:
    text = build_undone(UndoResult(REPLY, WeekBalance(0, 0, 4.0))).text
    assert text == "Took back your *reply* on X (x.com/ana): “thanked her”. Nothing counted for you this week yet."


def test_the_opt_out_prompt_asks_with_a_danger_button_and_a_cancel() -> None:
    message = build_opt_out_confirmation(OptOutPreview(opted_out=False, activity_count=12))
    assert "I'll delete the 12 actions I have for you" in message.text
    assert "`/coach optin`" in message.text
    confirm, cancel = message.blocks[-1]["elements"]
    assert (confirm["action_id"], confirm["style"], confirm["text"]["text"]) == (
        OPT_OUT_CONFIRM_ACTION,
        "danger",
        "Yes, delete my data",
    )
    assert (cancel["action_id"], cancel["text"]["text"]) == (OPT_OUT_CANCEL_ACTION, "Cancel")
    assert "style" not in cancel


def test_the_opt_out_prompt_without_data_still_asks_and_someone_already_out_just_hears_so() -> None:
    nothing = build_opt_out_confirmation(OptOutPreview(opted_out=False, activity_count=0))
    assert "I don't have any actions for you yet" in nothing.text and len(nothing.blocks) == 2
    already = build_opt_out_confirmation(OptOutPreview(opted_out=True, activity_count=0))
    assert already.text.startswith("You're already opted out") and len(already.blocks) == 1
    leftovers = build_opt_out_confirmation(OptOutPreview(opted_out=True, activity_count=1))
    assert "the 1 action I have" in leftovers.text and len(leftovers.blocks) == 2


def test_opt_out_and_in_answers() -> None:
    assert build_opted_out(1).text.startswith("Done. I deleted 1 action of yours and I won't count you")
    assert build_opted_out(0).text.startswith("Done. You're opted out: I won't count you")
    assert "nothing was deleted" in build_opt_out_cancelled().text
    assert build_opted_in(True).text.startswith("Welcome back!")
    assert build_opted_in(False).text.startswith("You're already in")


def test_export_messages_count_the_actions() -> None:
    assert build_export_sent(2).text == "I sent you a DM with your data: 2 actions as a CSV file."
    assert "the 1 action I have for you" in build_export_comment(1).text
    assert "nothing to export" in build_nothing_to_export().text


def test_the_log_form_offers_every_loggable_kind_and_remembers_the_channel() -> None:
    view = build_log_modal("C0SOCIAL01")
    assert view["callback_id"] == LOG_MODAL_CALLBACK_ID
    assert len(view["title"]["text"]) <= 24  # Slack's limit for a modal title
    assert [block["block_id"] for block in view["blocks"]] == [KIND_BLOCK, URL_BLOCK, NOTE_BLOCK]
    assert set(FIELD_BLOCKS.values()) == {KIND_BLOCK, URL_BLOCK, NOTE_BLOCK}
    options = view["blocks"][0]["element"]["options"]
    assert [option["value"] for option in options] == [kind.value for kind in LOGGABLE_KINDS]
    assert all(len(option["description"]["text"]) <= 75 for option in options)
    assert str(MAX_NOTE_LENGTH) in view["blocks"][2]["hint"]["text"]
    # Slack enforces these in the form itself; the submission is still validated on our side.
    assert view["blocks"][1]["element"]["max_length"] == MAX_URL_LENGTH == 2048
    assert view["blocks"][2]["element"]["max_length"] == MAX_NOTE_LENGTH == 500
    assert json.loads(view["private_metadata"]) == {"channel_id": "C0SOCIAL01"}


def test_the_submitted_form_is_read_back_as_typed() -> None:
    view = build_log_modal("C0SOCIAL01")
    view["state"] = {
        "values": {
            KIND_BLOCK: {KIND_ACTION: {"type": "static_select", "selected_option": {"value": "answer"}}},
            URL_BLOCK: {URL_ACTION: {"type": "plain_text_input", "value": " https://x.com/a/status/1 "}},
            NOTE_BLOCK: {NOTE_ACTION: {"type": "plain_text_input", "value": None}},
        }
    }
    assert read_log_form(view) == LogForm("answer", " https://x.com/a/status/1 ", None, "C0SOCIAL01")


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"state": None, "private_metadata": "not json"},
        {"state": {"values": {KIND_BLOCK: "junk"}}, "private_metadata": "[1, 2]"},
        {"state": {"values": {KIND_BLOCK: {KIND_ACTION: {"selected_option": {"value": 7}}}}}},
    ],
)
def test_a_mangled_submission_reads_as_an_empty_form(view: dict) -> None:
    assert read_log_form(view) == LogForm("", None, None, None)
