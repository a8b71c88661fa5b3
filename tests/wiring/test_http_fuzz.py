"""Property: no request to /slack/events gets a 5xx, and none without a valid signature stores anything."""

from __future__ import annotations

import json
import time
from urllib.parse import quote_plus, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.slack.blocks.home import OPEN_LINK_ACTION, SWITCH_ACTIONS
from bot.slack.blocks.ledger import LOG_MODAL_CALLBACK_ID, OPT_OUT_CANCEL_ACTION, OPT_OUT_CONFIRM_ACTION
from bot.slack.blocks.reminders import SNOOZE_NUDGES_ACTION, STOP_NUDGES_ACTION
from bot.store.database import Database
from bot.store.models import Base
from tests.slack_requests import SlackDriver, sign

CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "application/json; charset=utf-8"]
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40))
JSON_VALUES = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
# Slack's field names with values of any type: what a confused or hostile sender would get wrong.
SLACK_KEYS = st.sampled_from(
    [
        "type",
        "team_id",
        "team",
        "enterprise",
        "event",
        "authorizations",
        "actions",
        "view",
        "user",
        "command",
        "api_app_id",
        "event_id",
        "is_enterprise_install",
        "channel",
        "container",
        "response_url",
        "trigger_id",
    ]
)
SLACKISH_OBJECTS = st.dictionaries(SLACK_KEYS, JSON_VALUES, max_size=6)
BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    SLACKISH_OBJECTS.map(lambda value: json.dumps(value).encode()),
    SLACKISH_OBJECTS.map(lambda value: urlencode({"payload": json.dumps(value)}).encode()),
    st.dictionaries(SLACK_KEYS, st.text(max_size=20), max_size=6).map(lambda form: urlencode(form).encode()),
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _rows(db: Database) -> int:
    with db.session() as session:
        return sum(
            session.scalar(text(f"SELECT count(*) FROM {table.name}")) or 0 for table in Base.metadata.sorted_tables
        )


@FUZZ
@given(
    body=BODIES,
    content_type=CONTENT_TYPES,
    timestamp=st.one_of(st.just("now"), st.text(max_size=14)),
    signature=st.one_of(st.text(max_size=80), st.from_regex(r"v0=[0-9a-f]{64}", fullmatch=True)),
)
def test_unsigned_requests_get_a_4xx_and_store_nothing(
    driver: SlackDriver, db: Database, body: bytes, content_type: str, timestamp: str, signature: str
) -> None:
    timestamp = str(int(time.time())) if timestamp == "now" else timestamp
    response = driver.request(body, content_type, timestamp=timestamp, signature=signature)
    assert response.status in (400, 401), (body, content_type, timestamp, signature, response.status)
    assert _rows(db) == 0


@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES)
def test_signed_requests_of_any_shape_never_get_a_5xx(driver: SlackDriver, body: bytes, content_type: str) -> None:
    timestamp = str(int(time.time()))
    response = driver.request(body, content_type, timestamp=timestamp, signature=sign(body, timestamp))
    assert response.status < 500, (body, content_type, response.status, response.text)


def _envelope(event: dict) -> dict:
    return {
        "token": "x",
        "team_id": "T0ACME001",
        "api_app_id": "A0MORESOC1",
        "event": event,
        "type": "event_callback",
        "event_id": "Ev0FUZZ0001",
        "event_time": 1763900000,
        "authorizations": [{"team_id": "T0ACME001", "user_id": "U0BOT0001", "is_bot": True}],
    }


MESSAGE = {"type": "message", "channel": "C0SOCIAL01", "user": "U0ANA00001", "ts": "1763900000.000100", "text": "hi"}
COMMAND = {
    "team_id": "T0ACME001",
    "channel_id": "C0SOCIAL01",
    "user_id": "U0ANA00001",
    "command": "/coach",
    "text": "me",
}


RESPONSE_URL = "RESPONSEURL"  # the stub's, put in as the request is sent
ACTION_IDS = sorted(
    {OPT_OUT_CONFIRM_ACTION, OPT_OUT_CANCEL_ACTION, OPEN_LINK_ACTION, SNOOZE_NUDGES_ACTION, STOP_NUDGES_ACTION}
    | set(SWITCH_ACTIONS.values())
)


def _block_actions(action_id: str) -> dict:
    return {
        "type": "block_actions",
        "team": {"id": "T0ACME001", "domain": "acme-social"},
        "user": {"id": "U0ANA00001", "team_id": "T0ACME001"},
        "api_app_id": "A0MORESOC1",
        "container": {"type": "message", "channel_id": "C0SOCIAL01", "message_ts": "1763900000.000100"},
        "channel": {"id": "C0SOCIAL01"},
        "response_url": RESPONSE_URL,
        "trigger_id": "1.2.3",
        "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": "x", "action_ts": "1.2"}],
    }


def _view_submission() -> dict:
    return {
        "type": "view_submission",
        "team": {"id": "T0ACME001", "domain": "acme-social"},
        "user": {"id": "U0ANA00001", "team_id": "T0ACME001"},
        "api_app_id": "A0MORESOC1",
        "trigger_id": "1.2.3",
        "view": {
            "id": "V0MODAL01",
            "callback_id": LOG_MODAL_CALLBACK_ID,
            "private_metadata": json.dumps({"channel_id": "C0SOCIAL01"}),
            "state": {"values": {}},
        },
    }


@st.composite
def _one_field_wrong(draw: st.DrawFn) -> tuple[bytes, str]:
    """A real event, slash command, button press or form submission with one field of the wrong type or shape."""
    shape = draw(st.sampled_from(["event", "envelope", "command", "action", "action-field", "view", "view-field"]))
    value = draw(JSON_VALUES)
    if shape.startswith(("action", "view")):
        payload = (
            _block_actions(draw(st.sampled_from(ACTION_IDS))) if shape.startswith("action") else _view_submission()
        )
        inner = (
            payload["actions"][0] if shape == "action-field" else payload["view"] if shape == "view-field" else payload
        )
        inner[draw(st.sampled_from(sorted(inner)))] = value
        return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    if shape == "command":
        form = dict(COMMAND)
        form[draw(st.sampled_from(sorted(form)))] = json.dumps(value) if not isinstance(value, str) else value
        return urlencode(form).encode(), "application/x-www-form-urlencoded"
    event = dict(MESSAGE)
    envelope = _envelope(event)
    if shape == "event":
        event[draw(st.sampled_from([*sorted(MESSAGE), "thread_ts", "subtype", "blocks", "bot_id", "item"]))] = value
    else:
        envelope[draw(st.sampled_from(sorted(envelope)))] = value
    return json.dumps(envelope).encode(), "application/json"


@settings(FUZZ, max_examples=300)
@given(request=_one_field_wrong())
def test_real_payloads_with_one_field_wrong_never_get_a_5xx(driver: SlackDriver, request: tuple[bytes, str]) -> None:
    body, content_type = request
    body = body.replace(RESPONSE_URL.encode(), quote_plus(f"{driver.stub.base}/response/1").encode())
    timestamp = str(int(time.time()))
    response = driver.request(body, content_type, timestamp=timestamp, signature=sign(body, timestamp))
    assert response.status < 500, (body, response.status, response.text)
    driver.settle()
