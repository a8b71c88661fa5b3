"""What the logs hold at LOG_LEVEL=DEBUG: ids and counts, never a member's note, message text or a secret."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import text

from bot.app import create_app
from bot.config import Settings, configure_logging
from bot.deps import Deps
from bot.services.inbox import drain_pending
from bot.slack.after_ledger import after_ledger
from bot.store.database import Database
from bot.web import SlackWSGIApp
from tests.slack_requests import SIGNING_SECRET, SlackDriver
from tests.slack_stub import SlackStub

NOTE = "secret-note-text"
MESSAGE = "secret-message-text"


@pytest.fixture
def written() -> io.StringIO:
    """What the bot's log handler wrote."""
    return io.StringIO()


@pytest.fixture
def debug_driver(deps: Deps, slack: SlackStub, written: io.StringIO) -> Iterator[SlackDriver]:
    """The bot as the web process builds it at LOG_LEVEL=DEBUG: logging configured first, then the Bolt app.

    The root logger's handlers (pytest's) are set aside, so configure_logging installs the bot's own handler,
    writing to `written` instead of stderr; everything is put back afterwards.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    for handler in handlers:
        root.removeHandler(handler)
    configure_logging(replace(deps.settings, log_level="DEBUG"), written)
    ours = root.handlers[:]
    try:
        bolt_app = create_app(replace(deps, settings=replace(deps.settings, log_level="DEBUG")))
        yield SlackDriver(
            SlackWSGIApp(bolt_app, deps.db, signing_secret=SIGNING_SECRET),
            slack,
            writer=lambda: drain_pending(deps, after_ledger(deps, bolt_app.client)),
        )
    finally:
        for handler in ours:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        logging.getLogger("alembic").setLevel(logging.NOTSET)


def test_debug_logs_hold_no_note_message_text_or_secret(
    debug_driver: SlackDriver,
    settings: Settings,
    written: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Slack's libraries log the note and the message text at DEBUG; the bot's handler writes none of it."""
    assert debug_driver.command(f"log reply https://x.com/ana/status/1 {NOTE}").status == 200
    message = {
        "type": "message",
        "channel": "C0SOCIAL01",
        "user": "U0ANA00001",
        "ts": "1763900000.000100",
        "text": f"{MESSAGE} <https://x.com/ana/status/2>",
        "channel_type": "channel",
    }
    assert debug_driver.event(message).status == 200
    assert debug_driver.command("me").status == 200
    logging.getLogger("bot.test_logs").debug("member %s asked for their week", "U0ANA00001")
    lines = written.getvalue()
    # Alive: DEBUG lines reached the root logger from Slack's libraries, and the bot's own DEBUG lines are written.
    assert any(record.name.startswith("slack_") and record.levelno == logging.DEBUG for record in caplog.records)
    assert "DEBUG bot.test_logs: member U0ANA00001 asked for their week" in lines
    for secret in (NOTE, MESSAGE, settings.slack_bot_token, SIGNING_SECRET):
        assert secret not in lines


def test_a_failed_write_logs_its_traceback_without_the_members_note(
    driver: SlackDriver, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLAlchemy's errors print the statement's parameters (the note) unless the engine hides them."""
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE activities RENAME TO activities_away"))
    try:
        response = driver.command(f"log reply https://x.com/ana/status/1 {NOTE}")
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE activities_away RENAME TO activities"))
    assert response.status == 200 and "Sorry" in response.text
    failures = [record for record in caplog.records if record.exc_info]
    assert failures, "the failure was not logged: the test would prove nothing"
    logged = "\n".join(logging.Formatter().format(record) for record in failures)
    assert "activities" in logged  # the statement is there, to debug with
    assert NOTE not in logged


def test_debug_logs_hold_no_note_from_the_log_form(
    debug_driver: SlackDriver, slack: SlackStub, written: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    """The form's confirmation goes out through chat.postEphemeral, whose body slack_sdk logs at DEBUG."""
    from tests.wiring.test_coach_modal import open_form, submission

    view = open_form(debug_driver, slack)
    response = debug_driver.interaction(submission(view, "comment", "https://www.linkedin.com/in/ana/", NOTE))
    assert response.status == 200
    assert any(NOTE in record.getMessage() for record in caplog.records if record.name.startswith("slack_"))
    assert NOTE not in written.getvalue()


def test_a_wrongly_signed_request_is_refused_without_logging_its_body(
    debug_driver: SlackDriver, written: io.StringIO
) -> None:
    """Bolt logs the whole body of a request whose signature fails, at INFO: the bot refuses it before Bolt sees it."""
    body = debug_driver.command_body(f"log reply https://x.com/ana/status/1 {NOTE}", user="U0ANA00001")
    response = debug_driver.request(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert response.status == 401
    assert "refused a request with a stale timestamp or a wrong signature" in written.getvalue()
    assert NOTE not in written.getvalue()
