"""Events API payloads for the ingestion tests, built from real Slack shapes (tests/fixtures/*_payloads.json).

Each builder copies a real payload and fills in our team's people, channels and timestamps, so a test
reads like what happened in Slack ("Ana shares a link, Ben replies") while the shape stays Slack's own.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store.database import Database
from bot.store.models import Activity
from tests.slack_stub import BOT_USER_ID, TEAM_ID

FIXTURES = Path(__file__).parent / "fixtures"
_MESSAGES = json.loads((FIXTURES / "messages_slack_payloads.json").read_text())["items"]
_EVENTS = json.loads((FIXTURES / "events_slack_payloads.json").read_text())["items"]

ANA, BEN, CARLA, DAN = "U0ANA00001", "U0BEN00001", "U0CAR00001", "U0DAN00001"
BOT = BOT_USER_ID
SOCIAL = "C0SOCIAL01"
PRIVATE = "G0PRIVATE1"


def real(name: str) -> dict[str, Any]:
    """A deep copy of one real payload, by its name in the fixture files."""
    item = _MESSAGES.get(name) or _EVENTS[name]
    return copy.deepcopy(item["data"])


def rich_text(text: str, *urls: str) -> list[dict[str, Any]]:
    """Blocks as Slack's composer writes them: a rich_text section with text and link elements."""
    elements: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for url in urls:
        elements += [{"type": "text", "text": " "}, {"type": "link", "url": url}]
    return [{"type": "rich_text", "block_id": "b1", "elements": [{"type": "rich_text_section", "elements": elements}]}]


def message(
    user: str,
    text: str,
    ts: str,
    *,
    channel: str = SOCIAL,
    thread_ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A member's message (bolt's real message.channels event), in a public or private channel."""
    event = real("bolt_plain_message")
    event.update(
        user=user,
        text=text,
        ts=ts,
        event_ts=ts,
        channel=channel,
        team=TEAM_ID,
        channel_type="group" if channel.startswith("G") else "channel",
        blocks=blocks if blocks is not None else rich_text(text),
        client_msg_id=f"msg-{ts}",
    )
    if thread_ts is not None:
        event.update(thread_ts=thread_ts, parent_user_id="U0PARENT01")
    return event


def edited(original: dict[str, Any], *, text: str | None = None, **changes: Any) -> dict[str, Any]:
    """message_changed for `original` (bolt's real shape), with the message's new text and fields."""
    event = real("bolt_message_changed")
    inner = {key: value for key, value in original.items() if key not in ("channel", "event_ts", "channel_type")}
    previous = copy.deepcopy(inner)
    if text is not None:
        inner.update(text=text, blocks=rich_text(text))
    inner.update(changes)
    inner["edited"] = {"user": original["user"], "ts": _later(original["ts"])}
    edit_ts = _later(original["ts"], 7)
    event.update(
        message=inner,
        previous_message=previous,
        channel=original["channel"],
        ts=edit_ts,
        event_ts=edit_ts,
        channel_type=original["channel_type"],
    )
    return event


def unfurled(original: dict[str, Any]) -> dict[str, Any]:
    """The later message_changed that adds Slack's link preview (a real unfurl attachment) to `original`."""
    attachments = real("viewer_user_link_with_unfurl_attachment")["attachments"]
    event = edited(original, attachments=attachments)
    del event["message"]["edited"]  # an unfurl is not an edit by the author
    return event


def deleted(original: dict[str, Any]) -> dict[str, Any]:
    """message_deleted for `original` (bolt's real shape)."""
    event = real("bolt_message_deleted")
    event_ts = _later(original["ts"], 9)
    event.update(
        previous_message={k: v for k, v in original.items() if k not in ("channel", "event_ts", "channel_type")},
        channel=original["channel"],
        deleted_ts=original["ts"],
        ts=event_ts,
        event_ts=event_ts,
        channel_type=original["channel_type"],
    )
    return event


def reaction(
    user: str, on: dict[str, Any], name: str = "tada", *, removed: bool = False, event_ts: str | None = None
) -> dict[str, Any]:
    """reaction_added / reaction_removed (Slack's documented shape) by `user` on the message `on`."""
    event = real("docs_reaction_added")
    event.update(
        type="reaction_removed" if removed else "reaction_added",
        user=user,
        reaction=name,
        item_user=on["user"],
        item={"type": "message", "channel": on["channel"], "ts": on["ts"]},
        event_ts=event_ts or _later(on["ts"], 30),
    )
    return event


def joined(user: str, channel: str = SOCIAL, *, inviter: str = ANA) -> dict[str, Any]:
    """member_joined_channel (Slack's documented shape)."""
    event = real("docs_member_joined_channel")
    event.update(user=user, channel=channel, channel_type="G" if channel.startswith("G") else "C", team=TEAM_ID)
    event.update(inviter=inviter, event_ts="1794268800.000900")
    event.pop("enterprise", None)
    return event


def _later(ts: str, seconds: int = 1) -> str:
    whole, _, fraction = ts.partition(".")
    return f"{int(whole) + seconds}.{fraction or '000000'}"


def ledger(db: Database) -> list[Activity]:
    """Every ledger row, oldest first."""
    with db.session() as session:
        return list(session.scalars(select(Activity).order_by(Activity.occurred_at, Activity.id)))


def tally(db: Database) -> Counter[tuple[str, str, str]]:
    """(kind, who, engaged with whom) for every ledger row: what the standings are computed from."""
    return Counter((row.kind, row.user_id, row.counterpart) for row in ledger(db))
