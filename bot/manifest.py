"""Read manifest.yml: the scopes, events and commands the app asks Slack for (doctor and tests use it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

MANIFEST_PATH = Path(__file__).resolve().parents[1] / "manifest.yml"


@dataclass(frozen=True)
class ManifestFacts:
    bot_scopes: frozenset[str]
    bot_events: frozenset[str]
    commands: frozenset[str]


def load_manifest(path: Path = MANIFEST_PATH) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def manifest_facts(manifest: dict) -> ManifestFacts:
    return ManifestFacts(
        bot_scopes=frozenset(manifest["oauth_config"]["scopes"]["bot"]),
        bot_events=frozenset(manifest["settings"]["event_subscriptions"]["bot_events"]),
        commands=frozenset(c["command"] for c in manifest["features"].get("slash_commands", [])),
    )
