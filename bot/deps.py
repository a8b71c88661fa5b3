"""What the Slack surfaces, services and the clock are given to work with, passed explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.config import Settings
from bot.store.database import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """Settings, the database and the clock; tests pass a fixed `now` to travel in time."""

    settings: Settings
    db: Database
    now: Callable[[], datetime] = field(default=utc_now)
