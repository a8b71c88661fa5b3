"""Requests to the bot as Slack sends them: real payload shapes, signed with the real v0 scheme.

`SlackDriver` calls the WSGI app in-process (the same object gunicorn serves), so a test exercises
routing, signature checks, Bolt's dispatch and our listeners exactly as production does.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.slack_stub import TEAM_ID, SlackStub

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's own worked example secret
API_APP_ID = "A0MORESOC1"


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """The v0 signature: hex HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class SlackDriver:
    """Sends signed slash commands, events and interactivity payloads to the WSGI app."""

    wsgi_app: Any
    stub: SlackStub
    team_id: str = TEAM_ID
    secret: str = SIGNING_SECRET
    # What applies the inbox to the ledger (the web process's writer thread, run here in the test's thread).
    writer: Callable[[], Any] | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- transport -------------------------------------------------------------------------------

    def request(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: str | None = None,
        signature: str | None = None,
        method: str = "POST",
        path: str = "/slack/events",
    ) -> Response:
        timestamp = str(int(time.time())) if timestamp is None else timestamp
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "3000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp,
            "HTTP_X_SLACK_SIGNATURE": signature if signature is not None else sign(body, timestamp, self.secret),
        }
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = {k.lower(): v for k, v in response_headers}

        chunks = self.wsgi_app(environ, start_response)
        payload = b"".join(chunks)
        return Response(captured["status"], captured["headers"], payload)

    def settle(self) -> None:
        """Let the bot finish what it acknowledged: every delivery stored in its inbox is applied to the ledger.

        `event` settles after each delivery by default, as a quiet workspace sees it: the writer applies each
        delivery before the next one arrives (the hardest order for the ledger; see test_event_order).
        """
        if self.writer is not None:
            self.writer()

    def get(self, path: str) -> Response:
        return self.request(b"", "text/plain", method="GET", path=path)

    # -- slash commands --------------------------------------------------------------------------

    def command_body(self, text: str, *, user: str, channel: str = "C0SOCIAL01", **extra: str) -> bytes:
        n = next(self._ids)
        form = {
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "team_domain": "acme-social",
            "channel_id": channel,
            "channel_name": "social",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/coach",
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{self.stub.base}/response/{n}",
            "trigger_id": f"{n}.4744562912.803a0bc887a14d10d2c447fce8b6703c",
            **extra,
        }
        return urlencode(form).encode()

    def command(self, text: str, *, user: str = "U0ANA00001", channel: str = "C0SOCIAL01", **extra: str) -> Response:
        body = self.command_body(text, user=user, channel=channel, **extra)
        return self.request(body, "application/x-www-form-urlencoded")

    # -- events ----------------------------------------------------------------------------------

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> bytes:
        envelope = {
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}",
            "event_time": int(float(event.get("event_ts") or event.get("ts") or time.time())),
            "authorizations": [
                {"team_id": self.team_id, "user_id": "U0BOT0001", "is_bot": True, "is_enterprise_install": False}
            ],
            "is_ext_shared_channel": False,
        }
        return json.dumps(envelope).encode()

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        settle: bool = True,
    ) -> Response:
        """Deliver one event; with `settle` (the default) the bot has applied it when this returns."""
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        response = self.request(self.event_body(event, event_id=event_id), "application/json", headers=headers)
        if settle:
            self.settle()
        return response

    # -- interactivity ---------------------------------------------------------------------------

    def interaction(self, payload: dict[str, Any]) -> Response:
        payload = {"team": {"id": self.team_id, "domain": "acme-social"}, "api_app_id": API_APP_ID, **payload}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.request(body, "application/x-www-form-urlencoded")

    def responses_posted(self) -> list[dict[str, Any]]:
        """What the bot sent to response_url (respond()), in order."""
        return [call.args for call in self.stub.calls if call.method.startswith("response/")]
