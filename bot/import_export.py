"""`python -m bot import-export PATH|--sample [--team T] [--max-...]`: a workspace export into the ledger.

The progress bar goes to stderr and only when it is a terminal, so scripts and tests stay quiet; the summary
goes to stdout. A malformed export is refused with the file at fault named (exit 1); a zip past a cap, or an
export that does not say which workspace it is from, is refused saying which option settles it (exit 2).
Either way nothing is written.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from sqlalchemy import make_url

from bot.config import Settings
from bot.deps import Deps
from bot.runtime import open_database
from bot.services.export_import import (
    SAMPLE_EXPORT,
    SAMPLE_TEAM_ID,
    ArchiveLimitError,
    ArchiveLimits,
    ExportError,
    ImportProgress,
    ImportReport,
    SeveralTeamsError,
    export_team_id,
    import_export,
    only_team_id,
)
from bot.store.database import Database

# The import-export option that raises each of ArchiveLimits' caps.
LIMIT_OPTIONS = {
    "max_uncompressed_bytes": "--max-uncompressed-mb",
    "max_entries": "--max-entries",
    "max_ratio": "--max-ratio",
}
NAMES_NO_TEAM = (
    "This export doesn't say which workspace it is from (no team_id in users.json, no team.json): add --team "
    "with your workspace id, which starts with T, e.g. python -m bot import-export export.zip --team T0123ABCD"
)


class ProgressBar:
    """A one-line bar: day files done of total, messages read, messages per second."""

    def __init__(self, stream: TextIO, width: int = 30, every: float = 0.1) -> None:
        self._stream = stream
        self._width = width
        self._every = every
        self._started = time.monotonic()
        self._shown = 0.0

    def __call__(self, progress: ImportProgress) -> None:
        now = time.monotonic()
        finished = progress.files_done == progress.files_total
        if not finished and now - self._shown < self._every:
            return
        self._shown = now
        filled = self._width * progress.files_done // max(progress.files_total, 1)
        rate = progress.messages / max(now - self._started, 1e-9)
        self._stream.write(
            f"\r[{'#' * filled}{'.' * (self._width - filled)}] {progress.files_done:,}/{progress.files_total:,} files"
            f"  {progress.messages:,} messages  {rate:,.0f} msg/s"
        )
        if finished:
            self._stream.write("\n")
        self._stream.flush()


def bulk_database(settings: Settings) -> Database:
    """The database, opened for one long bulk write.

    SQLite's driver keeps the last 128 prepared statements per connection; keeping rollups on write batches
    rows into multi-row statements that are megabytes of them, so an import keeps none and its memory stays
    flat however big the export.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        url = url.update_query_dict({"cached_statements": "0"})
    return open_database(replace(settings, database_url=url.render_as_string(hide_password=False)))


def summary(report: ImportReport, seconds: float) -> str:
    news = f"{report.new_entries:,} new entries" if report.new_entries else "nothing new (already imported)"
    return (
        f"Imported {report.messages:,} messages from {report.files:,} day files in {report.channels:,} channels "
        f"into workspace {report.team_id} in {seconds:.1f}s: {report.links:,} shared links, "
        f"{report.comments:,} comments, {report.likes:,} likes; {news}. "
        f"See the standings with: python -m bot report --team {report.team_id} --period all"
    )


def several_teams(error: SeveralTeamsError) -> str:
    return f"Nothing was imported: {error}; say which one to import into with --team, e.g. --team {error.team_ids[0]}"


def past_a_cap(error: ArchiveLimitError) -> str:
    return (
        f"Nothing was imported: {error}, so it may be a zip bomb; "
        f"if you trust this export, raise the cap with {LIMIT_OPTIONS[error.limit]}"
    )


def run_import_export(
    settings: Settings,
    *,
    path: str | None,
    sample: bool,
    team: str | None,
    out: TextIO,
    err: TextIO,
    limits: ArchiveLimits | None = None,
) -> int:
    """Import the export for `team`, else the workspace it names, else the only one stored; return the exit code."""
    if bool(path) == sample:
        print("Give the export to import (a .zip or its folder), or --sample for ours.", file=err)
        return 2
    export = SAMPLE_EXPORT if sample else Path(path or "")
    deps = Deps(settings=settings, db=bulk_database(settings))
    try:
        started = time.monotonic()
        team_id = team or (SAMPLE_TEAM_ID if sample else export_team_id(export, limits) or only_team_id(deps))
        if team_id is None:
            print(NAMES_NO_TEAM, file=err)
            return 2
        report = import_export(
            deps, export, team_id, on_progress=ProgressBar(err) if err.isatty() else None, limits=limits
        )
    except ArchiveLimitError as error:
        print(past_a_cap(error), file=err)
        return 2
    except SeveralTeamsError as error:
        print(several_teams(error), file=err)
        return 2
    except ExportError as error:
        print(f"Nothing was imported: {error}", file=err)
        return 1
    finally:
        deps.db.dispose()
    print(summary(report, time.monotonic() - started), file=out)
    return 0
