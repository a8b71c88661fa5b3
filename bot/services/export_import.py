"""Import a Slack workspace export (the .zip or its folder) into the ledger, as the live bot would have counted it.

The whole archive is validated first, so a malformed one is refused with the file named and nothing
written; then it is streamed one day file at a time (memory stays flat however big the export) and
written in batches inside ONE transaction, so an import that fails half-way leaves nothing behind.
Importing the same export twice changes nothing: every row has the source_key live events would give it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.coach.messages import ChannelContext, ParentMessage
from bot.deps import Deps
from bot.services.export_archive import ExportArchive, ExportChannel, ExportError, ExportUser
from bot.services.ingest import LedgerBatch, ThreadParents, oldest_first
from bot.services.teams import ensure_team, team_settings
from bot.store import ingest_queries as q
from bot.store.models import Team

SAMPLE_EXPORT = Path(__file__).resolve().parents[1] / "data" / "sample_export"
SAMPLE_TEAM_ID = "T0SAMPLE"
# Rows buffered before a write: big enough for few round trips, small enough to keep memory flat.
FLUSH_ROWS = 6000

__all__ = ["SAMPLE_EXPORT", "SAMPLE_TEAM_ID", "ExportError", "ImportProgress", "ImportReport", "import_export"]


@dataclass(frozen=True)
class ImportProgress:
    """How far an import has got, after each day file."""

    files_done: int
    files_total: int
    messages: int


@dataclass(frozen=True)
class ImportReport:
    """What an import read and counted; `new_entries` leaves out what an earlier import already stored."""

    team_id: str
    members: int
    channels: int
    files: int
    messages: int
    links: int
    comments: int
    likes: int
    new_entries: int


def only_team_id(deps: Deps) -> str | None:
    """The workspace already in the database when there is exactly one (exports do not name theirs)."""
    with deps.db.session() as session:
        ids = session.scalars(select(Team.id).limit(2)).all()
    return ids[0] if len(ids) == 1 else None


def _member_rows(team_id: str, users: list[ExportUser], deps: Deps) -> list[dict[str, object]]:
    now = deps.now()
    return [
        {
            "team_id": team_id,
            "user_id": user.id,
            "name": user.name,
            "tz": user.tz,
            "is_bot": user.is_bot,
            "is_deleted": user.deleted,
            "updated_at": now,
        }
        for user in users
    ]


def import_export(
    deps: Deps,
    path: Path,
    team_id: str,
    *,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportReport:
    """Validate the export at `path`, then import it for `team_id`; raise ExportError (nothing written) if malformed."""
    now = deps.now()
    with ExportArchive(Path(path)) as archive:
        archive.validate()
        users = archive.users()
        channels = archive.channels()
        day_files = archive.day_files()
        with deps.db.session() as session:
            # Bulk statements (thousands of rows each) cost more to cache than to compile, and a cache full
            # of them grows memory with the export: this transaction compiles without the cache.
            session.connection(execution_options={"compiled_cache": None})
            team = ensure_team(session, team_id, now)
            q.upsert_members(session, _member_rows(team_id, users, deps))
            for channel in channels:
                q.upsert_channel(session, team_id, channel.id, is_private=channel.is_private, name=channel.name)
            batch = LedgerBatch(
                team_id,
                team_settings(team).timezone,
                now,
                bots=q.bot_user_ids(session, team_id),
                opted_out=q.opted_out_user_ids(session, team_id),
            )
            reading: tuple[ExportChannel, ChannelContext, ThreadParents] | None = None
            for done, (channel, member) in enumerate(day_files, start=1):
                if reading is None or reading[0] != channel:
                    context = ChannelContext(channel.id, channel.is_private, team.bot_user_id)
                    reading = (channel, context, ThreadParents(_stored_parent(session, batch, team_id, channel.id)))
                _, context, parents = reading
                messages = oldest_first(archive.messages(channel, member))
                if messages:
                    parents.forget_before(str(messages[0].get("ts")))
                for message in messages:
                    batch.add(message, context, parents)
                if len(batch.rows) >= FLUSH_ROWS:
                    batch.flush(session)
                if on_progress is not None:
                    on_progress(ImportProgress(done, len(day_files), batch.tally.messages))
            batch.flush(session)
    tally = batch.tally
    return ImportReport(
        team_id=team_id,
        members=len(users),
        channels=len(channels),
        files=len(day_files),
        messages=tally.messages,
        links=tally.links,
        comments=tally.comments,
        likes=tally.likes,
        new_entries=tally.new_entries,
    )


def _stored_parent(
    session: Session, batch: LedgerBatch, team_id: str, channel_id: str
) -> Callable[[str], ParentMessage | None]:
    """Look a parent up in the store, inside the import's transaction (rows buffered so far written first)."""

    def lookup(thread_ts: str) -> ParentMessage | None:
        batch.flush(session)
        return q.link_parent(session, team_id, channel_id, thread_ts)

    return lookup
