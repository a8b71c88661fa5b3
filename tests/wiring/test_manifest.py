"""manifest.yml is valid for Slack and agrees with the listeners the app registers."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from bot.manifest import MANIFEST_PATH, load_manifest, manifest_facts
from tests.slack_requests import SlackDriver

SCHEMA = Path(__file__).parent.parent / "fixtures" / "slack_manifest.schema.1.0.0.json"

# A minimal real-shaped inner event for each subscription (message.* arrive as type "message").
SAMPLE_EVENTS = {
    "app_home_opened": {
        "type": "app_home_opened",
        "user": "U0ANA00001",
        "channel": "D0ANA00001",
        "tab": "home",
        "event_ts": "1763900000.000100",
    },
    "app_uninstalled": {"type": "app_uninstalled", "event_ts": "1763900000.000100"},
    "member_joined_channel": {
        "type": "member_joined_channel",
        "user": "U0BEN00001",
        "channel": "C0SOCIAL01",
        "channel_type": "C",
        "team": "T0ACME001",
        "inviter": "U0ANA00001",
        "event_ts": "1763900000.000100",
    },
    "message.channels": {
        "type": "message",
        "channel": "C0SOCIAL01",
        "user": "U0ANA00001",
        "text": "hello team",
        "ts": "1763900000.000100",
        "channel_type": "channel",
        "event_ts": "1763900000.000100",
    },
    "message.groups": {
        "type": "message",
        "channel": "G0PRIVATE1",
        "user": "U0ANA00001",
        "text": "hello",
        "ts": "1763900000.000200",
        "channel_type": "group",
        "event_ts": "1763900000.000200",
    },
    "reaction_added": {
        "type": "reaction_added",
        "user": "U0BEN00001",
        "reaction": "tada",
        "item_user": "U0ANA00001",
        "item": {"type": "message", "channel": "C0SOCIAL01", "ts": "1763900000.000100"},
        "event_ts": "1763900001.000100",
    },
    "reaction_removed": {
        "type": "reaction_removed",
        "user": "U0BEN00001",
        "reaction": "tada",
        "item_user": "U0ANA00001",
        "item": {"type": "message", "channel": "C0SOCIAL01", "ts": "1763900000.000100"},
        "event_ts": "1763900002.000100",
    },
    "user_change": {
        "type": "user_change",
        "user": {"id": "U0DAN00001", "team_id": "T0ACME001", "name": "dan", "deleted": True, "is_bot": False},
        "cache_ts": 1763900000,
        "event_ts": "1763900000.000300",
    },
    "tokens_revoked": {
        "type": "tokens_revoked",
        "tokens": {"oauth": [], "bot": ["U0BOT0001"]},
        "event_ts": "1763900000.000100",
    },
}


def test_manifest_is_valid_against_slacks_published_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    schema.pop("_source", None)
    jsonschema.validate(load_manifest(MANIFEST_PATH), schema)


def test_manifest_asks_for_the_coach_command_and_the_smallest_scopes() -> None:
    facts = manifest_facts(load_manifest())
    assert facts.commands == {"/coach"}
    assert facts.bot_scopes == {
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
        "reactions:read",
        "chat:write",
        "commands",
        "users:read",
        "im:write",
        "files:write",
    }
    manifest = load_manifest()
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_every_subscribed_event_has_a_listener(driver: SlackDriver) -> None:
    """Bolt answers an unmatched event with 404, which Slack counts as a failure and retries."""
    subscribed = manifest_facts(load_manifest()).bot_events
    assert subscribed == set(SAMPLE_EVENTS)
    for name in sorted(subscribed):
        response = driver.event(dict(SAMPLE_EVENTS[name]))
        assert response.status == 200, f"{name} got {response.status}: {response.text}"
