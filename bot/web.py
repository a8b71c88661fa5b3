"""The HTTP face of the bot: a WSGI app that gunicorn serves (POST /slack/events, GET /healthz).

Bolt does the Slack work; this layer adds the health check and checks each request before Bolt reads it.
Bolt parses the body before it verifies the signature, so unsigned garbage (`{`, `not json at all`) used to
raise out of it as a 500: here the v0 signature is verified first (401), and only then is the body parsed,
once, into the request Bolt dispatches (400 when a signed body does not parse). No hostile or broken
request ever gets a 5xx.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier

from bot.slack.payload_shapes import payload_problem
from bot.store.database import Database

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024  # Slack payloads are far smaller; refuse anything absurd before reading it.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

StartResponse = Callable[..., Any]
UNAUTHORIZED = ("401 Unauthorized", {"error": "invalid request"})
UNPARSEABLE = ("400 Bad Request", {"error": "the body is not a Slack payload"})


def _reply(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


class SlackWSGIApp:
    """Route /healthz ourselves; verify and parse each POST /slack/events, then hand it to Bolt."""

    def __init__(
        self,
        bolt_app: App,
        db: Database,
        *,
        signing_secret: str,
        in_each_process: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.bolt_app = bolt_app
        self.verifier = SignatureVerifier(signing_secret)  # refuses an empty secret
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
        request = self._verified_request(environ)
        if isinstance(request, tuple):
            return _reply(start_response, *request)
        try:
            bolt_response = self.bolt_app.dispatch(request)
        except Exception:
            # Listeners' errors reach the app's error handler; this is Bolt itself failing on a signed payload of
            # a shape it does not expect (an event that is null), before any listener or after the handler.
            log.exception("Bolt could not dispatch a signed request of type %r", _type_of(request.body))
            return _reply(start_response, *UNPARSEABLE)
        response = WsgiHttpResponse(bolt_response.status, bolt_response.headers, bolt_response.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    def _verified_request(self, environ: dict[str, Any]) -> BoltRequest | tuple[str, dict[str, Any]]:
        """The request Bolt should dispatch, or the 401/400/413 answer for one Slack could not have sent.

        Whatever the body, a request without a fresh, correct v0 signature gets a 401 before anything parses
        it; a body that is not UTF-8 cannot be checked (nor sent by Slack) and gets a 400.
        """
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        # hmac.compare_digest raises on a str that is not ASCII, and header values may be any Latin-1 text.
        if not _TIMESTAMP.fullmatch(timestamp) or not signature or not signature.isascii():
            log.info("refused a request without a numeric X-Slack-Request-Timestamp or an X-Slack-Signature")
            return UNAUTHORIZED
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return "400 Bad Request", {"error": "bad content length"}
        if length > MAX_BODY_BYTES:
            return "413 Payload Too Large", {"error": "payload too large"}
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "400 Bad Request", {"error": "body is not UTF-8"}
        if not self.verifier.is_valid(body, timestamp, signature):
            log.info("refused a request with a stale timestamp or a wrong signature")
            return UNAUTHORIZED
        try:
            request = _bolt_request(body, environ)
        except Exception as error:  # whatever the body makes the parser raise, it is not a Slack payload
            # Bolt reads the body's fields while it builds the request: a signed body of the wrong shape
            # (`[]`, a team that is a number, JSON nested past the recursion limit) fails there, outside any
            # listener and its error handler. No traceback: a hostile sender must not fill the log.
            log.info("refused a signed request whose body does not parse (%s)", type(error).__name__)
            return UNPARSEABLE
        if not body or not isinstance(request.body, dict) or not request.body:
            log.info("refused a signed request with an empty body, or one that is not an object")
            return UNPARSEABLE
        if problem := payload_problem(request.body):
            log.info("refused a signed request of a shape Slack never sends: %s", problem)
            return "400 Bad Request", {"error": f"not a Slack payload: {problem}"}
        return request


def _type_of(body: dict[str, Any]) -> str:
    """The payload's type, for a log line: ids and kinds, never the payload itself."""
    kind = body.get("type") or body.get("command")
    return kind[:40] if isinstance(kind, str) else type(kind).__name__


def _bolt_request(body: str, environ: dict[str, Any]) -> BoltRequest:
    """Parse the verified body into the request Bolt dispatches, as Bolt does, but for one slip of Bolt's.

    Bolt takes any form body that contains the word "payload" for an interactivity payload and, finding no
    `payload` field, reads it as empty: a slash command such as `/coach log reply <url> payload docs` reached no
    listener. Such a body is read as the form it is.
    """
    request = BoltRequest(
        body=body, query=environ.get("QUERY_STRING", ""), headers=WsgiHttpRequest(environ).get_headers()
    )
    if not request.body and body and request.content_type != "application/json" and not body.startswith("{"):
        form = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" not in form:
            request.body = form
            request.context = build_context(BoltContext(), form)
    return request
