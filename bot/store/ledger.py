"""Writing and removing ledger rows: the single path every activity takes into and out of the database.

Logged actions, live Slack events, history backfill and export import all insert through
`insert_activities`, so dedupe (the unique (team_id, source_key) index) and anything kept on write
live in one place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.models import Activity
from bot.store.rollups import FACT_COLUMNS, apply_rows

# A batch this size keeps a bulk insert under SQLite's 32,766 bound-parameter limit.
INSERT_BATCH = 1500


def activity_row(
    *,
    team_id: str,
    user_id: str,
    kind: str,
    source: str,
    occurred_at: datetime,
    timezone: str,
    source_key: str,
    platform: str,
    created_at: datetime,
    counterpart: str = "",
    url: str | None = None,
    url_key: str | None = None,
    note: str | None = None,
    channel_id: str | None = None,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    is_private: bool = False,
) -> dict[str, Any]:
    """Build one row, with `day` and `hour` local to the team's time zone (daily caps, bursts)."""
    local = occurred_at.astimezone(ZoneInfo(timezone))
    return {
        "team_id": team_id,
        "user_id": user_id,
        "kind": kind,
        "source": source,
        "occurred_at": occurred_at,
        "day": local.date(),
        "hour": local.hour,
        "counterpart": counterpart,
        "url": url,
        "url_key": url_key,
        "platform": platform,
        "note": note,
        "channel_id": channel_id,
        "message_ts": message_ts,
        "thread_ts": thread_ts,
        "is_private": is_private,
        "source_key": source_key,
        "created_at": created_at,
    }


def insert_activities(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows, skipping any already stored (same team and source_key); return how many were new.

    Only the rows really inserted (RETURNING) reach the standings rollups, so a redelivery changes nothing.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Activity.__table__)
        .on_conflict_do_nothing(index_elements=["team_id", "source_key"])
        .returning(Activity.team_id, *FACT_COLUMNS)
    )
    new: dict[str, list[Sequence[Any]]] = defaultdict(list)
    for start in range(0, len(rows), INSERT_BATCH):
        for row in session.execute(statement, list(rows[start : start + INSERT_BATCH])):
            new[row[0]].append(row[1:])
    for team_id, facts in new.items():
        apply_rows(session, team_id, facts, +1)
    return sum(map(len, new.values()))


def delete_activities(session: Session, team_id: str, *conditions: ColumnElement[bool]) -> int:
    """Delete the team's rows matching every condition, and take them out of the rollups; return how many went."""
    deleted = session.execute(
        delete(Activity).where(Activity.team_id == team_id, *conditions).returning(*FACT_COLUMNS)
    ).all()
    apply_rows(session, team_id, deleted, -1)
    return len(deleted)


def delete_activity_ids(session: Session, team_id: str, ids: Iterable[int]) -> int:
    ids = list(ids)
    if not ids:
        return 0
    return delete_activities(session, team_id, Activity.id.in_(ids))
