"""SLACK_API_URL is the only Slack the bot talks to, and the WSGI app serves a signed command over real HTTP."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.store.database import Database
from bot.store.models import Activity
from bot.web import SlackWSGIApp
from bot.wsgi import create
from tests import conftest
from tests.slack_requests import SIGNING_SECRET, SlackDriver, sign
from tests.slack_stub import SlackStub


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def served_app(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The gunicorn entry point's app (`bot.wsgi:create()`), configured from the environment, on a loopback port."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SLACK_API_URL", settings.slack_api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", settings.slack_bot_token or "")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    app: SlackWSGIApp = create()
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        app.close()


def test_slack_api_url_is_the_only_slack_host_called(driver: SlackDriver, slack: SlackStub) -> None:
    conftest.blocked_connections.clear()

    assert driver.command("help").status == 200
    assert driver.command("log reply https://x.com/ana/status/1").status == 200
    assert driver.command("export").status == 200

    [auth] = slack.calls_to("auth.test")  # Bolt authorizes once, through the stub, with the bot token
    assert auth.args["token"] == "xoxb-0000000000-test-token"
    assert {"conversations.open", "files.getUploadURLExternal", "files.completeUploadExternal"} <= {
        call.method for call in slack.calls
    }
    assert conftest.blocked_connections == []


def test_wsgi_serves_a_signed_slash_command_end_to_end(served_app: str, slack: SlackStub, db: Database) -> None:
    driver = SlackDriver(wsgi_app=None, stub=slack)
    body = driver.command_body("log reply https://x.com/ana/status/1 thanked her", user="U0ANA00001")
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        f"{served_app}/slack/events",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(body, timestamp),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        status, answer = response.status, response.read().decode()

    assert status == 200
    assert '"response_type": "ephemeral"' in answer
    assert "Logged your *reply* on X (x.com/ana)" in answer
    with db.session() as session:
        assert [(a.user_id, a.kind, a.note) for a in session.scalars(select(Activity))] == [
            ("U0ANA00001", "reply", "thanked her")
        ]
    assert [call.args["token"] for call in slack.calls_to("auth.test")] == ["xoxb-0000000000-test-token"]

    unsigned = urllib.request.Request(f"{served_app}/slack/events", data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=10)
    assert refused.value.code == 401
