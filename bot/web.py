"""The HTTP face of the bot: a WSGI app that gunicorn serves (POST /slack/events, GET /healthz).

Bolt's WSGI adapter does the Slack work; this layer adds the health check and refuses requests Bolt
would answer with a 500 (a non-numeric X-Slack-Request-Timestamp, a body that is not UTF-8), so no
hostile or broken request ever gets a 5xx.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.slack.payload_shapes import payload_problem
from bot.store.database import Database

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024  # Slack payloads are far smaller; refuse anything absurd before reading it.
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")

StartResponse = Callable[..., Any]


def _reply(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


class SlackWSGIApp:
    """Route /healthz ourselves and hand /slack/events to Bolt after the sanity checks."""

    def __init__(
        self,
        bolt_app: App,
        db: Database,
        *,
        in_each_process: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.slack = SlackRequestHandler(bolt_app, path=EVENTS_PATH)
        self._in_each_process = in_each_process
        self._on_close = on_close

    def close(self) -> None:
        """Stop what the app started in this process (its ledger writer) and close the database's connections."""
        if self._on_close is not None:
            self._on_close()
        self.db.dispose()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self._in_each_process is not None:
            self._in_each_process()
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            if self.db.ping():
                return _reply(start_response, "200 OK", {"status": "ok", "database": "ok"})
            return _reply(start_response, "503 Service Unavailable", {"status": "unavailable", "database": "down"})
        if path != EVENTS_PATH:
            return _reply(start_response, "404 Not Found", {"error": "not found"})
        if method != "POST":
            return _reply(start_response, "405 Method Not Allowed", {"error": "use POST"})
        refusal = self._refusal(environ)
        if refusal is not None:
            return _reply(start_response, *refusal)
        return self.slack(environ, start_response)

    def _refusal(self, environ: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Answer 401/400/413 for requests that could never be valid Slack requests."""
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        if not _TIMESTAMP.match(timestamp):
            log.info("refused a request with a missing or non-numeric X-Slack-Request-Timestamp")
            return "401 Unauthorized", {"error": "invalid request"}
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return "400 Bad Request", {"error": "bad content length"}
        if length > MAX_BODY_BYTES:
            return "413 Payload Too Large", {"error": "payload too large"}
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "400 Bad Request", {"error": "body is not UTF-8"}
        if problem := payload_problem(body, environ.get("CONTENT_TYPE", "")):
            return "400 Bad Request", {"error": f"not a Slack payload: {problem}"}
        # Hand Bolt a fresh stream holding the bytes we consumed.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return None
