"""`python -m bot import-export PATH|--sample [--team T]`: a workspace export into the ledger, with a progress bar.

The bar goes to stderr and only when it is a terminal, so scripts and tests stay quiet; the summary goes
to stdout. A malformed export is refused with the file at fault named, and nothing is written.
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
    ExportError,
    ImportProgress,
    ImportReport,
    import_export,
    only_team_id,
)
from bot.store.database import Database

WHICH_TEAM = (
    "Which workspace is this export from? Slack exports don't say, so add --team with your workspace id "
    "(it starts with T; users.json lists it as team_id), e.g. python -m bot import-export export.zip --team T0123ABCD"
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


def run_import_export(
    settings: Settings, *, path: str | None, sample: bool, team: str | None, out: TextIO, err: TextIO
) -> int:
    if bool(path) == sample:
        print("Give the export to import (a .zip or its folder), or --sample for ours.", file=err)
        return 2
    deps = Deps(settings=settings, db=bulk_database(settings))
    try:
        team_id = team or (SAMPLE_TEAM_ID if sample else only_team_id(deps))
        if team_id is None:
            print(WHICH_TEAM, file=err)
            return 2
        started = time.monotonic()
        try:
            report = import_export(
                deps,
                SAMPLE_EXPORT if sample else Path(path or ""),
                team_id,
                on_progress=ProgressBar(err) if err.isatty() else None,
            )
        except ExportError as error:
            print(f"Nothing was imported: {error}", file=err)
            return 1
        print(summary(report, time.monotonic() - started), file=out)
        return 0
    finally:
        deps.db.dispose()
