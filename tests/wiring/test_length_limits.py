"""Values longer than their columns, through signed requests: a command is refused in words, Slack's data is cut.

PostgreSQL refuses a `String(n)` value longer than n, so these are the tests to run with TEST_DATABASE_URL:
on SQLite they hold as well, but only PostgreSQL would have lost the row.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.coach.kinds import Kind
from bot.services.export_import import import_export
from bot.slack.events.channels import BACKFILLS
from bot.store.database import Database
from bot.store.limits import CHANNEL_NAME, COUNTERPART, EVENT_ID, MEMBER_NAME, REACTION_NAME, SLACK_ID, TS, fit_key
from bot.store.models import Activity, Channel, InboundEvent, Member, Reaction, Team
from tests.slack_events import ANA, BEN, BOT, SOCIAL, deleted, edited, joined, ledger, message, reaction, tally
from tests.slack_requests import SlackDriver
from tests.slack_stub import SlackStub
from tests.wiring.test_coach_modal import open_form, submission

_ID_FIELDS = ("user", "channel", "item_user", "parent_user_id", "ts", "thread_ts", "deleted_ts", "event_ts")
POST = "https://www.linkedin.com/posts/ana_listening-first-7260000000000000001-abcd"
T0 = "1795424400.000100"
LONG_EMOJI = "party-" * 40  # 240 characters: a custom emoji name no column of 100 holds


def rows(db: Database, model: type) -> list[Any]:
    with db.session() as session:
        return list(session.scalars(select(model)))


@pytest.mark.parametrize(
    "url",
    [
        "https://x.com/" + "a" * (COUNTERPART + 1),  # an account longer than the counterpart column
        "https://" + "sub." * 70 + "example.com/post",  # a host that long
    ],
)
def test_a_logged_link_too_long_to_keep_is_refused_naming_the_limit(
    driver: SlackDriver, db: Database, slack: SlackStub, url: str
) -> None:
    response = driver.command(f"log reply {url} thanked them")

    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert f"up to {COUNTERPART}" in body["text"] and "shorter link" in body["text"]
    assert rows(db, Activity) == [] and slack.messages() == []


def test_a_long_emoji_name_is_kept_cut_and_still_counts_once(driver: SlackDriver, db: Database) -> None:
    link = message(ANA, f"Wrote this up <{POST}>", T0)
    assert driver.event(link).status == 200

    assert driver.event(reaction(BEN, link, LONG_EMOJI)).status == 200
    assert driver.event(reaction(BEN, link, LONG_EMOJI + "x")).status == 200  # another, with the same start

    assert tally(db) == {(Kind.LINK, ANA, ""): 1, (Kind.LIKE, BEN, ANA): 1}
    names = sorted(row.reaction for row in rows(db, Reaction))
    assert names == sorted({fit_key(LONG_EMOJI, REACTION_NAME), fit_key(LONG_EMOJI + "x", REACTION_NAME)})
    assert all(len(name) == REACTION_NAME for name in names)

    # The cut is stable: removing both emoji finds both rows, and the like goes.
    assert driver.event(reaction(BEN, link, LONG_EMOJI, removed=True)).status == 200
    assert driver.event(reaction(BEN, link, LONG_EMOJI + "x", removed=True)).status == 200
    assert [row.kind for row in ledger(db)] == [Kind.LINK]


def test_long_names_from_users_info_and_conversations_info_are_kept_cut(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    slack.add_user(ANA, is_admin=True, name="a" * 300, real_name="Ana " * 100, tz="Europe/" + "x" * 100)
    slack.respond("conversations.history", lambda _args: {"ok": True, "messages": [], "has_more": False})
    slack.respond(
        "conversations.info",
        lambda args: {"ok": True, "channel": {"id": args["channel"], "name": "social-" * 60, "is_private": False}},
    )

    response = driver.command(f"backfill <#{SOCIAL}|social> 7", user=ANA)
    BACKFILLS.join(timeout=30)

    assert response.status == 200
    assert f"reading the last 7 days of <#{SOCIAL}>" in response.json()["text"]
    [member] = [row for row in rows(db, Member) if row.user_id == ANA]
    assert member.name == ("Ana " * 100)[:MEMBER_NAME] and member.tz is None and member.is_admin
    [channel] = rows(db, Channel)
    assert channel.name == ("social-" * 60)[:CHANNEL_NAME]
    assert channel.history_imported_at is not None
    [done] = driver.responses_posted()
    assert done["text"].startswith(f"Done with <#{SOCIAL}>")


def test_an_event_id_too_long_for_its_column_is_kept_cut_and_its_retry_counted_once(
    driver: SlackDriver, db: Database
) -> None:
    link = message(ANA, f"Wrote this up <{POST}>", T0)
    event_id = "Ev" + "0" * (EVENT_ID * 2)

    assert driver.event(link, event_id=event_id).status == 200
    assert driver.event(link, event_id=event_id, retry_num=1).status == 200

    assert tally(db) == {(Kind.LINK, ANA, ""): 1}
    [stored] = rows(db, InboundEvent)
    assert stored.event_id == fit_key(event_id, EVENT_ID)


@pytest.mark.parametrize(
    "event",
    [
        message(ANA, f"<{POST}>", T0, channel="C" * 100),
        message(ANA, f"<{POST}>", "1795424400." + "1" * 100),
        message("U" * 100, f"<{POST}>", T0),
        message(BEN, "a reply long enough to count as a comment", "1795424401.000100", thread_ts="9" * 100),
    ],
    ids=["channel", "ts", "user", "thread_ts"],
)
def test_an_event_whose_ids_are_longer_than_slacks_changes_nothing(
    driver: SlackDriver, db: Database, event: dict[str, Any]
) -> None:
    # 400 when the edge sees an id no Slack id looks like (bot.slack.payload_shapes), else 200 and dropped
    assert driver.event(event).status in (200, 400)

    assert rows(db, InboundEvent) == [] and rows(db, Activity) == []


@pytest.mark.parametrize(
    "text",
    [
        f"backfill <#C{'A' * 100}|social> 3",
        f"settings summary-channel <#C{'A' * 100}|social>",
        f"settings reminder-channel <#C{'B' * 100}>",
        f"settings admins add <@U{'A' * 100}|ana>",
    ],
    ids=["backfill", "summary-channel", "reminder-channel", "admins"],
)
def test_an_id_longer_than_slacks_in_a_command_is_refused_naming_the_limit(
    driver: SlackDriver, slack: SlackStub, db: Database, text: str
) -> None:
    slack.add_user(ANA, is_admin=True)

    response = driver.command(text, user=ANA)
    BACKFILLS.join(timeout=30)

    assert response.status == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert f"at most {SLACK_ID}" in body["text"]
    assert not any("A" * 50 in str(team.settings) or "B" * 50 in str(team.settings) for team in rows(db, Team))
    assert rows(db, Channel) == [] and slack.calls_to("conversations.history") == []


def test_an_export_with_long_names_and_emoji_imports_them_cut(deps, db: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "export"
    (root / "social").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "social"}]))
    users = [{"id": "U1", "real_name": "Ana " * 100, "tz": "Europe/" + "x" * 100}, {"id": "U2", "name": "ben"}]
    (root / "users.json").write_text(json.dumps(users))
    link = {
        "type": "message",
        "user": "U1",
        "text": "<https://x.com/ana/status/1>",
        "ts": T0,
        "reactions": [{"name": LONG_EMOJI, "users": ["U2"], "count": 1}],
    }
    (root / "social" / "2026-11-23.json").write_text(json.dumps([link]))

    import_export(deps, root, "T0EXPORT1")

    assert tally(db) == {(Kind.LINK, "U1", ""): 1, (Kind.LIKE, "U2", "U1"): 1}
    assert [row.reaction for row in rows(db, Reaction)] == [fit_key(LONG_EMOJI, REACTION_NAME)]
    [ana] = [row for row in rows(db, Member) if row.user_id == "U1"]
    assert (ana.name, ana.tz) == (("Ana " * 100)[:MEMBER_NAME], None)


def test_the_log_form_with_a_link_too_long_to_keep_says_so_privately_and_stores_nothing(
    driver: SlackDriver, slack: SlackStub, db: Database
) -> None:
    view = open_form(driver, slack)
    response = driver.interaction(submission(view, "reply", "https://x.com/" + "a" * (COUNTERPART + 1)))

    assert response.status == 200
    [call] = slack.calls_to("chat.postEphemeral")
    assert f"up to {COUNTERPART}" in call.args["text"] and call.args["user"] == ANA
    assert rows(db, Activity) == []


def _event_shapes() -> dict[str, dict[str, Any]]:
    link = message(ANA, f"Wrote this up <{POST}>", T0)
    return {
        "message": link,
        "reply": message(BEN, "a reply long enough to count as a comment", "1795424401.000100", thread_ts=T0),
        "reaction": reaction(BEN, link, "tada"),
        "edit": edited(link, text=f"Wrote this up again <{POST}>"),
        "deletion": deleted(link),
        "bot joined": joined(BOT),
    }


def _parts(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The event and the mappings in it whose ids are stored: item, message, previous message."""
    return [event, *(event[key] for key in ("item", "message", "previous_message") if isinstance(event.get(key), dict))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.sampled_from(sorted(_event_shapes())),
    choice=st.data(),
    extra=st.integers(1, 5_000),
    filler=st.sampled_from(["A", "1", "é", "😀", "'; DROP TABLE activities; --", "<@U1|"]),
)
def test_any_event_with_an_id_or_ts_longer_than_slacks_changes_nothing(
    driver: SlackDriver, db: Database, shape: str, choice: st.DataObject, extra: int, filler: str
) -> None:
    event = copy.deepcopy(_event_shapes()[shape])
    fields = [(part, name) for part in _parts(event) for name in _ID_FIELDS if isinstance(part.get(name), str)]
    part, name = choice.draw(st.sampled_from(fields))
    limit = TS if name.endswith("ts") else SLACK_ID
    if part is event and name in ("ts", "event_ts"):
        filler = "1"  # the driver dates the delivery by it, as Slack's event_time
    part[name] = (part[name] + filler * (limit + extra))[: limit + extra]

    # 400 when the edge sees an id no Slack id looks like (bot.slack.payload_shapes), else 200 and dropped
    assert driver.event(event).status in (200, 400)

    assert rows(db, InboundEvent) == [] and rows(db, Activity) == [] and rows(db, Channel) == []


LONG_ID = "U" + "X" * (SLACK_ID + 8)  # no Slack id is that long, and no id column holds it


def test_an_export_message_or_emoji_from_an_id_longer_than_slacks_changes_nothing(  # type: ignore[no-untyped-def]
    deps, db: Database, tmp_path
) -> None:
    root = tmp_path / "export"
    (root / "social").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "social"}]))
    (root / "users.json").write_text(json.dumps([{"id": "U1", "name": "ana"}, {"id": "U2", "name": "ben"}]))
    day = [
        {"type": "message", "user": LONG_ID, "text": "<https://x.com/long/status/1>", "ts": "1795424400.000100"},
        {
            "type": "message",
            "user": "U1",
            "text": "<https://x.com/ana/status/1>",
            "ts": "1795424401.000100",
            "reactions": [{"name": "tada", "users": [LONG_ID, "U2"], "count": 2}],
        },
    ]
    (root / "social" / "2026-11-23.json").write_text(json.dumps(day))

    import_export(deps, root, "T0EXPORT1")

    assert tally(db) == {(Kind.LINK, "U1", ""): 1, (Kind.LIKE, "U2", "U1"): 1}
    assert [row.user_id for row in rows(db, Reaction)] == ["U2"]


@pytest.mark.parametrize("listing", ["users.json", "channels.json"])
def test_an_export_listing_an_id_longer_than_slacks_is_refused_naming_it(  # type: ignore[no-untyped-def]
    deps, db: Database, tmp_path, listing: str
) -> None:
    from bot.services.export_import import ExportError

    root = tmp_path / "export"
    (root / "social").mkdir(parents=True)
    channels = [{"id": "C1", "name": "social"}] + (
        [{"id": LONG_ID, "name": "news"}] if listing == "channels.json" else []
    )
    users = [{"id": "U1", "name": "ana"}] + ([{"id": LONG_ID, "name": "long"}] if listing == "users.json" else [])
    (root / "channels.json").write_text(json.dumps(channels))
    (root / "users.json").write_text(json.dumps(users))
    (root / "social" / "2026-11-23.json").write_text("[]")

    with pytest.raises(ExportError, match=rf"{listing}: item 1's id is longer than any Slack id"):
        import_export(deps, root, "T0EXPORT1")
    assert rows(db, Member) == [] and rows(db, Channel) == []
