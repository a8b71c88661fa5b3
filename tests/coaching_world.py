"""A small workspace for the clock's tests: members, links shared and replies, stored through the real ledger.

Rows go in the way ingestion writes them (`activity_row` + `insert_activities`, the same kinds, keys and
thread_ts conventions), so the store queries under test read exactly what production stores.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.coach.kinds import Kind
from bot.coach.settings import TeamSettings
from bot.store.database import Database
from bot.store.ledger import activity_row, insert_activities
from bot.store.models import Delivery, Member, Team
from bot.store.upsert import insert_or_update
from tests.slack_stub import TEAM_ID

SOCIAL = "C0SOCIAL01"
LAUNCH = "C0LAUNCH01"
PRIVATE = "G0PRIVATE1"
ANA, BEN, CARLA, DAN = "U0ANA00001", "U0BEN00001", "U0CARLA001", "U0DAN00001"
INSTALLED = datetime(2026, 11, 1, 9, tzinfo=UTC)


def ts_of(instant: datetime) -> str:
    """The Slack ts of a message sent at `instant`."""
    return f"{instant.timestamp():.6f}"


@dataclass
class World:
    db: Database
    team_id: str = TEAM_ID
    timezone: str = "UTC"
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def team(self, settings: TeamSettings | None = None, *, first_channel: str | None = SOCIAL) -> World:
        """Create the workspace (installed on 1 November) with these settings."""
        settings = settings or TeamSettings()
        self.timezone = settings.timezone
        with self.db.session() as session:
            session.add(
                Team(id=self.team_id, first_channel_id=first_channel, settings=settings.to_dict(), created_at=INSTALLED)
            )
        return self

    def member(self, user_id: str, **fields: Any) -> None:
        row = {"team_id": self.team_id, "user_id": user_id, "updated_at": datetime.now(UTC), **fields}
        with self.db.session() as session:
            insert_or_update(
                session, Member, row, ["team_id", "user_id"], [k for k in row if k not in ("team_id", "user_id")]
            )

    def _store(self, **row: Any) -> None:
        with self.db.session() as session:
            insert_activities(
                session,
                [activity_row(team_id=self.team_id, timezone=self.timezone, created_at=row["occurred_at"], **row)],
            )

    def link(
        self, user_id: str, at: datetime, *, channel: str = SOCIAL, url: str | None = None, private: bool = False
    ) -> str:
        """`user_id` shares a link in `channel` at `at`; return the message ts."""
        ts = ts_of(at)
        url = url or f"https://blog.example.com/post-{next(self._ids)}"
        self._store(
            user_id=user_id,
            kind=Kind.LINK.value,
            source="slack",
            occurred_at=at,
            source_key=f"link:{channel}:{ts}:{url}",
            platform="blog",
            url=url,
            url_key=url,
            channel_id=channel,
            message_ts=ts,
            is_private=private,
        )
        return ts

    def reply(
        self,
        user_id: str,
        link_ts: str,
        link_author: str,
        at: datetime,
        *,
        channel: str = SOCIAL,
        substantive: bool = True,
        private: bool = False,
    ) -> None:
        """`user_id` replies in the thread of the link message `link_ts` (a short reply counts as a like)."""
        ts = ts_of(at)
        self._store(
            user_id=user_id,
            kind=(Kind.COMMENT if substantive else Kind.LIKE).value,
            source="slack",
            occurred_at=at,
            source_key=f"reply:{channel}:{ts}",
            platform="slack",
            counterpart=link_author,
            channel_id=channel,
            message_ts=ts,
            thread_ts=link_ts,
            is_private=private,
        )

    def logged(self, user_id: str, kind: Kind, at: datetime, counterpart: str = "") -> None:
        """`user_id` logs something done elsewhere with /coach log."""
        self._store(
            user_id=user_id,
            kind=kind.value,
            source="log",
            occurred_at=at,
            source_key=f"log:{user_id}:{next(self._ids)}",
            platform="x",
            counterpart=counterpart,
        )

    def delivery(self, key: str) -> Delivery | None:
        with self.db.session() as session:
            return session.scalars(
                select(Delivery).where(Delivery.team_id == self.team_id, Delivery.key == key)
            ).one_or_none()

    def deliveries(self) -> list[Delivery]:
        with self.db.session() as session:
            return list(session.scalars(select(Delivery).order_by(Delivery.id)))

    def member_row(self, user_id: str) -> Member | None:
        with self.db.session() as session:
            return session.get(Member, (self.team_id, user_id))

    def settings(self) -> TeamSettings:
        with self.db.session() as session:
            team = session.get(Team, self.team_id)
            assert team is not None
            return TeamSettings.from_dict(team.settings)
