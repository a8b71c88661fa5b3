"""`python -m bot doctor`: a first-run helper that says what works and what to fix, in plain words."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from slack_sdk.errors import SlackApiError

from bot.config import WHERE_TO_GET, Settings
from bot.manifest import MANIFEST_PATH, load_manifest, manifest_facts
from bot.slack.client import make_web_client
from bot.store.database import Database, migration_status

OK, WARN, FAIL = "ok  ", "warn", "FAIL"


def run_doctor(settings: Settings, out: TextIO) -> int:
    """Print one line per check; return 1 if anything must be fixed before the bot can run."""
    failures = 0

    def report(status: str, message: str) -> None:
        nonlocal failures
        failures += status == FAIL
        print(f"[{status}] {message}", file=out)

    mode = "Socket Mode (SLACK_APP_TOKEN is set)" if settings.socket_mode else "HTTP (POST /slack/events)"
    report(OK, f"configuration read; run mode: {mode}; Slack API: {settings.slack_api_url}")
    for name, value in (
        ("SLACK_BOT_TOKEN", settings.slack_bot_token),
        ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
    ):
        if value:
            report(OK, f"{name} is set")
        elif name == "SLACK_SIGNING_SECRET" and settings.socket_mode:
            report(OK, f"{name} is not needed in Socket Mode")
        else:
            report(FAIL, f"{name} is not set: {WHERE_TO_GET[name]}")

    db = Database.from_url(settings.database_url)
    try:
        current, head = migration_status(db.engine)
    except Exception as error:  # any driver error means the same thing to the operator
        report(FAIL, f"database {db.engine.url.render_as_string(hide_password=True)} does not answer: {error}")
    else:
        report(OK, f"database {db.engine.url.render_as_string(hide_password=True)} answers")
        if current == head:
            report(OK, f"database schema is up to date ({head})")
            _check_inbox(settings, db, report)
        else:
            report(
                FAIL,
                f"database schema is at {current or 'nothing'}, newest is {head}: run `python -m bot migrate`",
            )
    finally:
        db.dispose()

    if settings.slack_bot_token:
        _check_token(settings, report)
    return 1 if failures else 0


def _check_inbox(settings: Settings, db: Database, report: Callable[[str, str], None]) -> None:
    """Slack events waiting for the ledger writer, and those parked after failing (a person must look)."""
    from bot.deps import Deps
    from bot.services import inbox

    status = inbox.status(Deps(settings=settings, db=db))
    waiting = f"{status.waiting} Slack event(s) waiting to be applied"
    if status.oldest_waiting is not None:
        waiting += f", the oldest received {status.oldest_waiting.isoformat(timespec='seconds')}"
    report(OK, waiting)
    if status.parked:
        report(
            WARN,
            f"{status.parked} Slack event(s) parked after failing {inbox.MAX_ATTEMPTS} times: "
            "`python -m bot inbox` lists them, `python -m bot inbox --retry` tries them again",
        )
    else:
        report(OK, "no Slack events parked")


def _check_token(settings: Settings, report: Callable[[str, str], None]) -> None:
    client = make_web_client(settings)
    try:
        response = client.auth_test()
    except SlackApiError as error:
        report(
            FAIL,
            f"auth.test refused the bot token ({error.response.get('error')}): {WHERE_TO_GET['SLACK_BOT_TOKEN']}",
        )
        return
    except Exception as error:
        report(FAIL, f"could not reach Slack at {settings.slack_api_url}: {error}")
        return
    report(OK, f"bot token works: {response.get('user')} in {response.get('team')} ({response.get('team_id')})")
    granted = {s.strip() for s in (response.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
    wanted = manifest_facts(load_manifest(MANIFEST_PATH)).bot_scopes if MANIFEST_PATH.exists() else frozenset()
    missing = sorted(wanted - granted)
    if not granted:
        report(WARN, "Slack did not list the token's scopes; cannot compare them with manifest.yml")
    elif missing:
        report(FAIL, f"the bot token lacks scopes from manifest.yml: {', '.join(missing)} — reinstall the app")
    else:
        report(OK, "the bot token has every scope manifest.yml asks for")
