"""`python -m bot` / `more-social`: run the bot and its operator commands.

`load_dotenv()` runs here and only here, so importing any bot module never reads the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from dotenv import find_dotenv, load_dotenv

from bot.config import ConfigError, Settings, configure_logging, load_settings

log = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace, Settings], int]


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Socket Mode when SLACK_APP_TOKEN is set (no public URL needed), otherwise serve HTTP."""
    if settings.socket_mode:
        return run_socket_mode(settings)
    return cmd_serve(args, settings)


def run_socket_mode(settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.clock import clock_ticker
    from bot.runtime import build_bolt_app, settle_startup_objects, start_ledger_writer

    app, deps = build_bolt_app(settings)
    settle_startup_objects()
    # No clock or web process in Socket Mode deployments: the clock and the ledger writer run in threads beside
    # the connection, which only stores each delivery in the inbox before acknowledging it.
    writer = start_ledger_writer(deps, app.client)
    ticker = clock_ticker(deps, app.client)
    ticker.start()
    log.info("More Social is connecting to Slack over Socket Mode")
    try:
        SocketModeHandler(app, settings.slack_app_token).start()
    finally:
        ticker.stop()
        writer.stop()
    return 0


def cmd_worker(_args: argparse.Namespace, settings: Settings) -> int:
    """Apply the inbox to the ledger until stopped (the Procfile's optional worker process).

    Every web process already runs a writer; on PostgreSQL extra workers share the inbox with them (a delivery
    is applied by exactly one). On SQLite only one writer runs at a time: a worker waits for its turn.
    """
    import signal

    from bot.runtime import build_bolt_app
    from bot.services.inbox import LedgerWriter
    from bot.slack.after_ledger import after_ledger

    app, deps = build_bolt_app(settings)
    writer = LedgerWriter(deps, after_ledger(deps, app.client), name="worker")
    signal.signal(signal.SIGTERM, lambda *_: writer.stop(timeout=0))
    log.info("More Social's ledger writer is starting")
    try:
        writer.run_until_stopped()
    finally:
        writer.stop()
    return 0


def cmd_inbox(args: argparse.Namespace, settings: Settings) -> int:
    """List the deliveries parked after failing MAX_ATTEMPTS times; --retry gives them another round."""
    from bot.deps import Deps
    from bot.runtime import open_database
    from bot.services import inbox

    db = open_database(settings)
    deps = Deps(settings=settings, db=db)
    try:
        if args.retry is not None:
            count = inbox.retry_parked(deps, args.retry)
            print(f"{count} parked deliver{'y' if count == 1 else 'ies'} will be tried again by the ledger writer.")
            return 0
        status = inbox.status(deps)
        parked = inbox.parked_deliveries(deps)
    finally:
        db.dispose()
    print(f"Waiting to be applied: {status.waiting}. Parked after failing {inbox.MAX_ATTEMPTS} times: {status.parked}.")
    for stored in parked:
        received = stored.received_at.isoformat() if stored.received_at else "?"
        kind = stored.payload.get("event", {}).get("type") if isinstance(stored.payload, dict) else None
        print(f"  {stored.team_id} {stored.event_id} {kind or '?'} received {received}: {stored.last_error or '?'}")
    if parked:
        print("Fix what they tripped on, then run: python -m bot inbox --retry [EVENT_ID ...]")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve POST /slack/events and GET /healthz with gunicorn (Bolt's dev server is single-threaded)."""
    from bot.serve import serve

    settings.require_slack(serving_http=True)
    port = getattr(args, "port", None) or settings.port
    return serve(settings, port)


def cmd_migrate(_args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.database import migrate

    migrate(settings.database_url)
    print("Database is up to date.")
    return 0


def cmd_doctor(_args: argparse.Namespace, settings: Settings) -> int:
    from bot.doctor import run_doctor

    return run_doctor(settings, out=sys.stdout)


def cmd_clock(_args: argparse.Namespace, settings: Settings) -> int:
    """Tick every minute: reminders, nudges and the weekly summary (the Procfile's clock process)."""
    from bot.clock import run_clock

    return run_clock(settings)


def cmd_run_due(args: argparse.Namespace, settings: Settings) -> int:
    """Do what was due at --at once (catching up after an outage); print each message sent."""
    from bot.clock import describe, run_due_at

    outcomes = run_due_at(settings, args.at)
    for outcome in outcomes:
        print(describe(outcome))
    if not outcomes:
        print(f"Nothing was due at {args.at.isoformat()} (or it was sent already).")
    return 0


def aware_instant(text: str) -> datetime:
    """Parse --at: an ISO 8601 instant with its offset, so nobody runs the clock in the server's zone by accident."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} isn't an ISO 8601 timestamp; write it like 2026-11-23T09:00:00+01:00"
        ) from None
    if instant.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone; add its offset, like 2026-11-23T09:00:00+01:00 (or Z for UTC)"
        )
    return instant


def cmd_import_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.import_export import run_import_export
    from bot.services.export_archive import MIB, ArchiveLimits

    limits = ArchiveLimits(
        max_uncompressed_bytes=args.max_uncompressed_mb * MIB, max_entries=args.max_entries, max_ratio=args.max_ratio
    )
    return run_import_export(
        settings, path=args.path, sample=args.sample, team=args.team, out=sys.stdout, err=sys.stderr, limits=limits
    )


def positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """An argparse type: a number of `kind` above zero, or a message saying what to write."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} isn't {what} above 0")
        return value

    return parse


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """Print a team's tallies for a period (no Slack credentials needed)."""
    import json

    from bot.coach.periods import PeriodName
    from bot.deps import Deps
    from bot.runtime import open_database
    from bot.services.report import ReportError, report_text, team_report

    db = open_database(settings)
    try:
        report = team_report(Deps(settings=settings, db=db), args.team, PeriodName(args.period))
    except ReportError as error:
        print(error, file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.format == "json" else report_text(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from bot.services.export_archive import MIB, ArchiveLimits

    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="More Social: a Slack bot that coaches a team to reply, comment and answer more than it posts.",
    )
    parser.set_defaults(handler=cmd_run)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the Slack HTTP endpoints with gunicorn")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 3000)")
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="upgrade the database schema to the newest version").set_defaults(
        handler=cmd_migrate
    )
    commands.add_parser(
        "doctor", help="check configuration, database, migrations and the Slack token's scopes"
    ).set_defaults(handler=cmd_doctor)

    commands.add_parser(
        "clock", help="run reminders, nudges and the weekly summary, ticking every minute"
    ).set_defaults(handler=cmd_clock)
    commands.add_parser(
        "worker", help="apply stored Slack events to the ledger until stopped (web processes do it too)"
    ).set_defaults(handler=cmd_worker)
    inbox = commands.add_parser("inbox", help="list the Slack events parked after failing, or retry them")
    inbox.add_argument(
        "--retry", nargs="*", metavar="EVENT_ID", help="retry these parked events (all of them when none is named)"
    )
    inbox.set_defaults(handler=cmd_inbox)
    run_due = commands.add_parser("run-due", help="do what was due at one instant, once (catch up after an outage)")
    run_due.add_argument(
        "--at", required=True, type=aware_instant, metavar="ISO8601", help="the instant, e.g. 2026-11-23T09:00:00+01:00"
    )
    run_due.set_defaults(handler=cmd_run_due)

    import_export = commands.add_parser(
        "import-export", help="import a Slack workspace export (.zip or folder), or --sample to try the bot offline"
    )
    import_export.add_argument("path", nargs="?", help="the export's .zip or unpacked folder")
    import_export.add_argument("--sample", action="store_true", help="import the sample export that ships with the bot")
    import_export.add_argument(
        "--team",
        help="workspace id (T...) to import into (default: T0SAMPLE for --sample, else the one the export names "
        "in team.json or its users' team_id, else the only one stored)",
    )
    caps = ArchiveLimits()
    import_export.add_argument(
        "--max-uncompressed-mb",
        type=positive(int),
        default=caps.max_uncompressed_bytes // MIB,
        metavar="MB",
        help="refuse a zip that unpacks to more than this (default: %(default)s)",
    )
    import_export.add_argument(
        "--max-entries",
        type=positive(int),
        default=caps.max_entries,
        metavar="N",
        help="refuse a zip of more files than this (default: %(default)s)",
    )
    import_export.add_argument(
        "--max-ratio",
        type=positive(float),
        default=caps.max_ratio,
        metavar="X",
        help="refuse a zip, or a file of 1 MB or more in it, packed over X times smaller (default: %(default)s)",
    )
    import_export.set_defaults(handler=cmd_import_export)
    report = commands.add_parser("report", help="print a team's tallies and ranks for a period")
    report.add_argument("--team", help="workspace id (T...); optional when the database holds one team")
    report.add_argument("--period", choices=("week", "month", "all"), default="week", help="default: week")
    report.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
    report.set_defaults(handler=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv(find_dotenv(usecwd=True))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(os.environ)
        configure_logging(settings)
        return args.handler(args, settings)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
