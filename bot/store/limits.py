"""How long a value the database keeps, read from the model's columns: the one place length limits live.

PostgreSQL refuses a row whose `String(n)` value is longer than n (SQLite keeps it), so a value from Slack is
cut to fit here before it is written, and a member's command that would not fit is refused in words. A value
that is an identity (a reaction's name, a counterpart) is cut stably, with a digest of the whole, so the same
long value always gives the same key and two different ones stay apart.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Column, String

from bot.store.models import Activity, Channel, InboundEvent, Member, Reaction


def _length(column: Column) -> int:
    assert isinstance(column.type, String) and column.type.length, column
    return column.type.length


MEMBER_NAME = _length(Member.__table__.c.name)
MEMBER_TZ = _length(Member.__table__.c.tz)
CHANNEL_NAME = _length(Channel.__table__.c.name)
REACTION_NAME = _length(Reaction.__table__.c.reaction)
COUNTERPART = _length(Activity.__table__.c.counterpart)
SOURCE_KEY = _length(Activity.__table__.c.source_key)  # bot.coach.messages keeps its keys within it

SLACK_ID = _length(Activity.__table__.c.user_id)  # user, channel and team ids
TS = _length(Activity.__table__.c.message_ts)
EVENT_ID = _length(InboundEvent.__table__.c.event_id)

_DIGEST = 16  # hex characters of sha1 kept after a stable cut


def fit(value: str | None, limit: int) -> str | None:
    """`value` cut to `limit` characters (a name shown to people: its start is what matters)."""
    return value if value is None or len(value) <= limit else value[:limit]


def fit_key(value: str, limit: int) -> str:
    """`value` cut to `limit` characters stably: the start, `~` and a digest of the whole value."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST]
    return f"{value[: limit - _DIGEST - 1]}~{digest}"
