"""The waiting-links query is written for each database's planner (docs/performance.md explains both cases)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store.database import Database
from bot.store.waiting import waiting_links
from tests.statements import statements_sent

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_only_sqlite_is_kept_off_the_thread_and_time_indexes(db: Database) -> None:
    """SQLite picks a slow index for `thread_ts IS NULL` unless the term is wrapped; PostgreSQL, given the
    wrapped term, misjudges how many links wait and sorts them all instead of reading the oldest first."""
    with statements_sent(db) as sent, db.session() as session:
        waiting_links(session, "T0PLAN0001", NOW, 24, public_only=True, limit=1)

    (query,) = sent
    wrapped = ("coalesce(activities.thread_ts", "coalesce(sibling.thread_ts", "coalesce(reply.occurred_at")
    if db.dialect == "sqlite":
        assert all(term in query for term in wrapped)
    else:
        assert "coalesce" not in query.lower()
        assert "activities.thread_ts IS NULL" in query
