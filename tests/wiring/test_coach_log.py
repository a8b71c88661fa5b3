"""`/coach log <kind> [url] [note]` and `/coach help` through signed requests to the real app."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services.teams import ensure_team
from bot.store.database import Database
from bot.store.models import Activity, Member
from tests.conftest import Clock
from tests.slack_requests import SlackDriver
from tests.slack_stub import TEAM_ID, SlackStub

ANA, BEN = "U0ANA00001", "U0BEN00001"


def activities(db: Database) -> list[Activity]:
    with db.session() as session:
        return list(session.scalars(select(Activity).order_by(Activity.id)))


def ephemeral_text(response) -> str:  # type: ignore[no-untyped-def]
    """The immediate answer as the member reads it: a 200 with an ephemeral message."""
    assert response.status == 200, response.text
    body = response.json()
    assert body["response_type"] == "ephemeral"
    return body["text"]


def test_log_records_the_action_and_answers_with_the_week_in_one_line(driver: SlackDriver, db: Database) -> None:
    text = ephemeral_text(driver.command("log reply https://x.com/ana/status/1 thanked her for the tip"))

    assert text.startswith("Logged your *reply* on X (x.com/ana): “thanked her for the tip”.")
    assert "This week: *1 given*, 0 posts" in text
    assert "\n" not in text
    [row] = activities(db)
    assert (row.team_id, row.user_id, row.kind, row.source) == (TEAM_ID, ANA, "reply", "log")
    assert (row.platform, row.counterpart, row.url) == ("x", "x.com/ana", "https://x.com/ana/status/1")
    assert row.note == "thanked her for the tip"
    assert row.url_key == "https://x.com/ana/status/1"
    assert row.source_key.startswith(f"log:{ANA}:reply:")


def test_the_answer_is_in_the_http_response_itself(driver: SlackDriver, slack: SlackStub) -> None:
    """Answering in the ack keeps it inside Slack's 3 seconds: nothing goes through response_url."""
    response = driver.command("log comment https://blog.example.com/launch")
    assert "Logged your *comment* on blog.example.com." in ephemeral_text(response)
    assert driver.responses_posted() == []
    assert slack.messages() == []


def test_slack_wrapped_links_are_unwrapped_and_mentions_in_the_note_become_plain_text(
    driver: SlackDriver, db: Database
) -> None:
    text = ephemeral_text(
        driver.command("log reply <https://x.com/ana/status/1|x.com/ana/status/1> thanked <@U0BEN00001|ben> &amp; co")
    )
    [row] = activities(db)
    assert row.url == "https://x.com/ana/status/1"
    assert row.note == "thanked @ben & co"
    assert "“thanked @ben &amp; co”" in text  # shown escaped in mrkdwn, never a live mention


def test_markup_in_a_note_is_echoed_escaped(driver: SlackDriver, db: Database) -> None:
    text = ephemeral_text(driver.command("log post loved &lt;b&gt;this&lt;/b&gt; <!channel>"))
    assert activities(db)[0].note == "loved <b>this</b> @channel"
    assert "<" not in text and ">" not in text and "&lt;b&gt;" in text


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("Tweet", "post"),
        ("RT", "share"),
        ("retweet", "share"),
        ("FAV", "like"),
        ("Followed", "follow"),
        ("Answer", "answer"),
    ],
)
def test_the_words_people_type_for_a_kind_work_in_any_case(
    driver: SlackDriver, db: Database, typed: str, kind: str
) -> None:
    ephemeral_text(driver.command(f"log {typed}"))
    assert [row.kind for row in activities(db)] == [kind]


@pytest.mark.parametrize(
    ("url", "platform"),
    [
        ("https://twitter.com/ana/status/1", "x"),
        ("https://www.linkedin.com/in/ana/recent-activity", "linkedin"),
        ("https://m.facebook.com/ana/posts/1", "facebook"),
        ("https://www.instagram.com/p/abc/", "instagram"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube"),
        ("https://www.tiktok.com/@ana/video/1", "tiktok"),
        ("https://mastodon.social/@ana/111", "mastodon"),
        ("https://ana.example.org/2026/11/hello", "blog"),
    ],
)
def test_the_platform_comes_from_the_links_host(driver: SlackDriver, db: Database, url: str, platform: str) -> None:
    ephemeral_text(driver.command(f"log comment {url}"))
    assert [row.platform for row in activities(db)] == [platform]


def test_logging_the_same_kind_and_link_twice_counts_once_and_says_so(driver: SlackDriver, db: Database) -> None:
    ephemeral_text(driver.command("log reply https://x.com/ana/status/1"))
    again = ephemeral_text(driver.command("log Reply <https://X.com/ana/status/1?utm_source=share|x.com/ana>"))

    assert again.startswith("You'd already logged your *reply* on X (x.com/ana), so it counts once.")
    assert "*1 given*" in again
    assert len(activities(db)) == 1


def test_dedupe_is_per_member_and_per_kind(driver: SlackDriver, db: Database) -> None:
    ephemeral_text(driver.command("log reply https://x.com/ana/status/1"))
    ephemeral_text(driver.command("log like https://x.com/ana/status/1"))
    ephemeral_text(driver.command("log reply https://x.com/ana/status/1", user=BEN))
    assert sorted((row.user_id, row.kind) for row in activities(db)) == [(ANA, "like"), (ANA, "reply"), (BEN, "reply")]


def test_each_log_without_a_link_is_its_own_action(driver: SlackDriver, db: Database) -> None:
    ephemeral_text(driver.command("log answer"))
    second = ephemeral_text(driver.command("log answer"))
    assert second.startswith("Logged your *answer*.")
    assert "*2 given*" in second
    assert len(activities(db)) == 2


def test_the_balance_is_given_against_pushed_this_calendar_week(
    driver: SlackDriver, db: Database, clock: Clock
) -> None:
    clock.advance(days=-1)  # Sunday: last week
    ephemeral_text(driver.command("log post https://x.com/me/status/0"))
    clock.advance(days=1)
    ephemeral_text(driver.command("log post https://x.com/me/status/1"))
    text = ephemeral_text(driver.command("log reply https://x.com/ana/status/2"))
    assert "This week: *1 given*, 1 post — 3 more replies or comments on someone else's posts would balance it" in text

    for n in range(3, 6):
        text = ephemeral_text(driver.command(f"log comment https://blog{n}.example.com/post"))
    assert "This week: *4 given*, 1 post — a lovely balance." in text


def test_likes_past_the_daily_cap_count_in_the_log_as_they_do_in_coach_me(driver: SlackDriver) -> None:
    for n in range(3):
        ephemeral_text(driver.command(f"log post https://x.com/me/status/{n}"))
    for n in range(12):
        text = ephemeral_text(driver.command(f"log like https://x.com/friend{n}/status/{n}"))

    assert text.endswith(
        "This week: *10 given*, 3 posts (the daily cap leaves out 2 likes and follows) — "
        "2 more replies or comments on someone else's posts would balance it nicely."
    )
    assert "lovely" not in text
    card = ephemeral_text(driver.command("me"))
    assert "Given: 10 (12 likes); 2 likes and follows beyond the daily cap don't count" in card
    assert "Ratio: 3.3:1 · target 4:1" in card
    assert "2 more replies or comments bring you to 4:1" in card


def test_the_member_row_is_created_on_first_contact(driver: SlackDriver, db: Database) -> None:
    ephemeral_text(driver.command("log like"))
    with db.session() as session:
        member = session.scalars(select(Member)).one()
    assert (member.team_id, member.user_id, member.opted_out) == (TEAM_ID, ANA, False)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("log dance https://x.com/ana/status/1", "I don't know the kind “dance”"),
        ("log reply <ftp://x.com/a|x.com/a>", "links need to start with http:// or https://"),
        ("log reply https://localhost", "doesn't look like a web address"),
        ("log reply https://x.com/" + "a" * 2050, "links can be at most 2048"),
        ("log reply https://x.com/ana/status/1 " + "n" * 501, "notes can be up to 500"),
        ("log <@U0BEN00001|ben> https://x.com/ana/status/1", "is a mention, not a kind"),
        ("log reply <#C0SOCIAL01|social>", "is a channel, not a link"),
        ("lgo reply", "Did you mean `/coach log`?"),
        # Attempted links that are not http(s) with a host: refused, never kept as a note.
        ("log post javascript:alert(1)", "links need to start with http:// or https://"),
        ("log post mailto:a@b.c", "links need to start with http:// or https://"),
        ("log post data:text/html,&lt;b&gt;", "links need to start with http:// or https://"),
        ("log reply https:/x.com/a", "doesn't look like a web address"),
        ("log like https:x.com/a", "doesn't look like a web address"),
        ("log follow ://x.com", "links need to start with http:// or https://"),
        ("log share x.com/ana/status/1 nice thread", "links need to start with http:// or https://"),
        ("log post www.example.com/launch", "links need to start with http:// or https://"),
        ("log post JavaScript:alert(1) with a note", "links need to start with http:// or https://"),
        ("reply https://x.com/ana/status/1", "To log that, start with `log`"),
    ],
)
def test_bad_input_gets_a_kind_ephemeral_answer_and_stores_nothing(
    driver: SlackDriver, db: Database, slack: SlackStub, text: str, says: str
) -> None:
    answer = ephemeral_text(driver.command(text))
    assert says in answer
    assert "/coach" in answer  # shows the right form or where to find it
    assert activities(db) == []
    assert slack.messages() == []


@pytest.mark.parametrize(
    "note", ["re:invent was great", "Node.js/Deno notes", "e.g. and/or", "ratio 3:1 today", "tip: ask first"]
)
def test_a_note_without_a_link_is_still_a_note(driver: SlackDriver, db: Database, note: str) -> None:
    assert ephemeral_text(driver.command(f"log post {note}")).startswith("Logged your *post*")
    [row] = activities(db)
    assert (row.url, row.note) == (None, note)


@pytest.mark.parametrize("text", ["help", "", "  "])
def test_help_and_an_empty_coach_show_usage_with_examples(driver: SlackDriver, text: str) -> None:
    answer = ephemeral_text(driver.command(text))
    for usage in ("log &lt;kind&gt; [link] [note]", "undo", "export", "optout", "optin"):
        assert f"`/coach {usage}`" in answer
    assert "e.g. `/coach log reply https://x.com/ana/status/1 thanked her for the tip`" in answer


def test_an_opted_out_member_is_told_how_to_opt_back_in_and_nothing_is_stored(
    driver: SlackDriver, db: Database, clock: Clock
) -> None:
    with db.session() as session:
        ensure_team(session, TEAM_ID, clock())
        session.add(Member(team_id=TEAM_ID, user_id=ANA, opted_out=True))
    answer = ephemeral_text(driver.command("log reply https://x.com/ana/status/1"))
    assert "opted out" in answer and "`/coach optin`" in answer
    assert activities(db) == []


def test_an_old_log_stays_out_of_the_week_after(driver: SlackDriver, clock: Clock) -> None:
    ephemeral_text(driver.command("log reply https://x.com/ana/status/1"))
    clock.advance(days=7)
    text = ephemeral_text(driver.command("log post"))
    assert "This week: *0 given*, 1 post" in text


def test_a_nul_in_a_note_is_dropped_so_postgresql_can_store_it(driver: SlackDriver, db: Database) -> None:
    text = ephemeral_text(driver.command("log post launch\x00day"))
    assert text.startswith("Logged your *post*: “launchday”.")
    assert [row.note for row in activities(db)] == ["launchday"]
