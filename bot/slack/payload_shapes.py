"""Refuse, at the edge, a signed request whose payload Slack could never have sent: wrong types where Bolt looks.

Bolt builds its context from the body before any listener or error handler runs (a `team` that is a number
raises there, a 500), and our listeners read Slack's documented shapes. A body with a list where Slack sends
an object, or a number where it sends an id, is not a Slack payload: it gets a 400 and changes nothing.
Only the fields Bolt and our listeners read are checked; anything else passes as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.store.limits import SLACK_ID

# Keys that, when present, hold a string (or null) wherever they appear at the top of a payload.
_TOP_STRINGS = ("type", "team_id", "api_app_id", "event_id", "enterprise_id", "trigger_id", "response_url", "token")
_TOP_OBJECTS = ("team", "user", "channel", "container", "view", "enterprise", "event", "message")
# The events we subscribe to, and the fields of each that hold strings.
_EVENT_STRINGS = {
    "message": ("subtype", "user", "channel", "ts", "thread_ts", "event_ts", "text", "channel_type", "bot_id"),
    "reaction_added": ("user", "reaction", "item_user", "event_ts"),
    "reaction_removed": ("user", "reaction", "item_user", "event_ts"),
    "member_joined_channel": ("user", "channel", "channel_type", "inviter", "team"),
    "app_home_opened": ("user", "channel", "tab"),
}
_MESSAGE_STRINGS = ("subtype", "user", "ts", "thread_ts", "text", "bot_id", "parent_user_id", "deleted_ts")
_ID_KEYS = ("team_id", "user_id", "channel_id", "enterprise_id", "api_app_id", "id", "user", "channel", "item_user")
_SLACK_ID = re.compile(rf"[A-Za-z0-9_.-]{{0,{SLACK_ID}}}")
_INTERACTIONS = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action")
_LISTS = ("blocks", "attachments", "files", "authorizations", "actions")


def payload_problem(payload: Mapping[str, Any]) -> str | None:
    """Say what is wrong with the parsed payload's shape, or None if Bolt and our listeners can read it."""
    return _top_problem(dict(payload))


def _wrong(container: Mapping[str, Any], keys: tuple[str, ...], kind: type | tuple[type, ...]) -> str | None:
    for key in keys:
        value = container.get(key)
        if value is not None and not isinstance(value, kind):
            return key
    return None


def _long_id(container: Any, prefix: str = "") -> str | None:
    """An id no Slack id looks like (too long for our columns, control characters): a key that holds one."""
    if not isinstance(container, dict):
        return None
    for key in _ID_KEYS:
        value = container.get(key)
        if isinstance(value, str) and not _SLACK_ID.fullmatch(value):
            return prefix + key
    return None


def _top_problem(payload: dict[str, Any]) -> str | None:
    for name in ("", "team", "user", "channel", "container", "event", "view"):
        holder = payload if not name else payload.get(name)
        if key := _long_id(holder, f"{name}." if name else ""):
            return f"{key} is not a Slack id"
    if isinstance(payload.get("event"), dict) and (key := _long_id(payload["event"].get("item"), "event.item.")):
        return f"{key} is longer than a Slack id"
    if key := _wrong(payload, _TOP_STRINGS, str):
        return f"{key} is not a string"
    if key := _wrong(payload, _TOP_OBJECTS, dict):
        return f"{key} is not an object"
    if "actions" in payload and not (isinstance(payload["actions"], list) and payload["actions"]):
        return "actions is not a list of actions"  # Bolt reads the first one
    if key := next((k for k in ("view", "event") if k in payload and not isinstance(payload[k], dict)), None):
        return f"{key} is not an object"
    if key := _wrong(payload, _LISTS, list):
        return f"{key} is not a list"
    if any(not isinstance(item, dict) for name in _LISTS for item in payload.get(name) or []):
        return "a list holds something other than objects"
    for name in ("user", "team", "channel", "container", "view"):
        if isinstance(payload.get(name), dict) and (key := _wrong(payload[name], ("id", "team_id"), str)):
            return f"{name}.{key} is not a string"
    if payload.get("type") in _INTERACTIONS and not (
        isinstance(payload.get("user"), dict) and payload["user"].get("id")
    ):
        return "an interaction without the user who acted"
    if key := _wrong(payload, ("event_time",), (int, float)):
        return f"{key} is not a number"
    for action in payload.get("actions") or []:
        if key := _wrong(action, ("action_id", "block_id", "value", "type"), str):
            return f"actions.{key} is not a string"
    if isinstance(payload.get("view"), dict) and (problem := _view_problem(payload["view"])):
        return problem
    if isinstance(payload.get("event"), dict):
        return _event_problem(payload["event"])
    if payload.get("type") == "event_callback":
        return "event_callback without an event"
    return None


def _view_problem(view: dict[str, Any]) -> str | None:
    if key := _wrong(view, ("callback_id", "private_metadata", "external_id", "hash"), str):
        return f"view.{key} is not a string"
    state = view.get("state")
    if state is None:
        return None
    if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
        return "view.state is not an object of values"
    for block in state.get("values", {}).values():
        if not isinstance(block, dict) or any(not isinstance(element, dict) for element in block.values()):
            return "view.state.values is not an object of objects"
        for element in block.values():
            if _wrong(element, ("value", "type"), str) or _wrong(element, ("selected_option",), dict):
                return "a view input's value has the wrong type"
            option = element.get("selected_option")
            if isinstance(option, dict) and _wrong(option, ("value",), str):
                return "a selected option's value is not a string"
    return None


def _event_problem(event: dict[str, Any]) -> str | None:
    kind = event.get("type")
    if not isinstance(kind, str):
        return "event.type is not a string"
    if key := _wrong(event, ("user", "channel", "team"), (str, dict)):  # Bolt reads these as an id or an object
        return f"event.{key} is neither an id nor an object"
    if key := _wrong(event, _EVENT_STRINGS.get(kind, ()), str):
        return f"event.{key} is not a string"
    if kind.startswith("reaction_"):
        item = event.get("item")
        if item is not None and (not isinstance(item, dict) or _wrong(item, ("type", "channel", "ts"), str)):
            return "event.item is not a message reference"
    if kind == "message":
        for name in ("message", "previous_message"):
            inner = event.get(name)
            if inner is None:
                continue
            if not isinstance(inner, dict):
                return f"event.{name} is not an object"
            if key := _wrong(inner, _MESSAGE_STRINGS, str):
                return f"event.{name}.{key} is not a string"
        for container in (event, *(event.get(n) for n in ("message", "previous_message") if event.get(n))):
            if key := _wrong(container, ("blocks", "attachments", "files"), list):
                return f"{key} is not a list"
    return None
