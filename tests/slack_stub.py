"""A local HTTP server that plays the Slack Web API, the way Slack's own SDK tests itself.

It records every call (method, arguments, headers) so tests read like transcripts of what a person
would see in Slack, answers the methods the bot uses with Slack-shaped payloads, and fails on demand
(429 with Retry-After, 5xx) to exercise the retry handlers. Like Slack, it can fail after doing the work
(post the message, then answer 500 or drop the connection), and it keeps what chat.postMessage posted as
each channel's history, served by conversations.history. Nothing inside Bolt or slack-sdk is mocked.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

TEAM_ID = "T0ACME001"
TEAM_NAME = "Acme Social"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
GRANTED_SCOPES = (
    "channels:history,groups:history,channels:read,groups:read,reactions:read,"
    "chat:write,commands,users:read,im:write,files:write"
)


@dataclass
class Call:
    """One Web API call as the stub received it."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Failure:
    status: int | None  # None: the connection is closed without an answer
    retry_after: int | None = None
    body: dict[str, Any] = field(default_factory=lambda: {"ok": False, "error": "ratelimited"})
    after_processing: bool = False  # the call is carried out (a message posted) before the failure


Responder = Callable[[dict[str, Any]], dict[str, Any]]


def _json_arg(value: Any) -> Any:
    """A form-encoded argument that holds JSON (metadata, blocks), decoded."""
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def _decode_args(content_type: str, raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8") if raw else ""
    if "json" in content_type:
        return json.loads(text) if text else {}
    args: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
    for key in ("blocks", "view", "attachments", "files"):
        value = args.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            args[key] = json.loads(value)
    return args


class SlackStub:
    """The fake Slack. `url` is what SLACK_API_URL points at in tests."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.responders: dict[str, Responder] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes files_upload_v2 sent to its upload_url
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel -> messages, oldest first
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not raw and "?" in self.path:  # slack-sdk sends a GET method's arguments in the query string
                    raw = self.path.split("?", 1)[1].encode()
                method = self.path.rsplit("/api/", 1)[-1].split("?", 1)[0].strip("/")
                if "/api/" not in self.path:
                    method = self.path.strip("/")  # response_url and file upload targets
                status, headers, body = stub._answer(method, self.headers.get("Content-Type", ""), raw, self.headers)
                if status is None:  # a connection reset after the request was read: no answer at all
                    self.close_connection = True
                    return
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SlackStub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    # -- scripting -------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        *,
        after_processing: bool = False,
    ) -> None:
        """Make the next `times` calls of `method` fail (429 carries Retry-After, as Slack's do).

        `after_processing` carries the call out first, as a Slack 5xx sometimes does: the message is posted.
        """
        body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
        for _ in range(times):
            self.failures[method].append(
                Failure(status, retry_after if status == 429 else None, body, after_processing=after_processing)
            )

    def drop_next(self, method: str, *, after_processing: bool) -> None:
        """Close the connection instead of answering the next call of `method`, after carrying it out or not."""
        self.failures[method].append(Failure(None, after_processing=after_processing))

    def respond(self, method: str, responder: Responder) -> None:
        """Answer `method` with `responder(args)` instead of the default."""
        self.responders[method] = responder

    def add_user(self, user_id: str, **fields: Any) -> None:
        self.users[user_id] = {"id": user_id, "team_id": TEAM_ID, **fields}

    # -- reading the transcript ------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def messages(self) -> list[dict[str, Any]]:
        """Everything posted with chat.postMessage, as the arguments the bot sent."""
        return [call.args for call in self.calls_to("chat.postMessage")]

    def channel_history(self, channel: str) -> list[dict[str, Any]]:
        """What people see in `channel`: the messages that were posted there, oldest first."""
        with self._lock:
            return list(self.history[channel])

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- answering -------------------------------------------------------------------------------

    def _answer(self, method: str, content_type: str, raw: bytes, headers: Any) -> tuple[int | None, dict, dict]:
        if method.startswith("upload/"):
            with self._lock:
                self.uploads[method.removeprefix("upload/")] = raw
        args = _decode_args(content_type, raw)
        if "token" not in args and headers.get("Authorization"):
            args["token"] = headers.get("Authorization", "").removeprefix("Bearer ")
        with self._lock:
            self.calls.append(Call(method, args, dict(headers.items())))
            failure = self.failures[method].popleft() if self.failures[method] else None
        responder = self.responders.get(method) or getattr(self, "_" + method.replace(".", "_"), None)
        if failure is not None:
            if failure.after_processing and responder:
                responder(args)
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, extra, failure.body
        body = responder(args) if responder else {"ok": True}
        extra = {"x-oauth-scopes": GRANTED_SCOPES} if method == "auth.test" else {}
        return 200, extra, body

    def next_ts(self) -> str:
        return f"1763900000.{next(self._ts):06d}"

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://acme-social.slack.com/",
            "team": TEAM_NAME,
            "user": "more_social",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user", "")
        user = self.users.get(user_id)
        if user is None:
            user = {"id": user_id, "team_id": TEAM_ID, "name": user_id.lower(), "tz": "Europe/Madrid"}
        return {
            "ok": True,
            "user": {
                "is_bot": False,
                "deleted": False,
                "is_admin": False,
                "is_owner": False,
                "is_primary_owner": False,
                "real_name": user.get("name", user_id),
                **user,
            },
        }

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self.next_ts()
        channel = str(args.get("channel"))
        message: dict[str, Any] = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": args.get("text")}
        message.update({"ts": ts, **{k: _json_arg(args[k]) for k in ("blocks", "metadata") if k in args}})
        with self._lock:
            self.history[channel].append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages, newest first; metadata only when asked for, as Slack does.

        The stub's ts are counters, not the tests' clock, so `oldest` is not applied: every message is newer.
        """
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            posted = list(self.history[str(args.get("channel"))])
        messages = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in reversed(posted)]
        return {"ok": True, "messages": messages, "has_more": False}

    def _chat_postEphemeral(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self.next_ts()}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), str(args.get("message_ts", "")).replace(".", "")
        return {"ok": True, "channel": channel, "permalink": f"https://acme-social.slack.com/archives/{channel}/p{ts}"}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.replace(",", "")[1:]}}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        return {"ok": True, "channel": {"id": channel, "name": channel.lower(), "is_private": channel.startswith("G")}}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0MODAL01", **(args.get("view") or {})}}

    def _users_conversations(self, _args: dict[str, Any]) -> dict[str, Any]:
        """No private channels shared with the bot; tests that need some answer with `respond`."""
        return {"ok": True, "channels": [], "response_metadata": {"next_cursor": ""}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0HOME001", **(args.get("view") or {})}}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "upload_url": f"{self.base}/upload/F0FILE0001", "file_id": "F0FILE0001"}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "files": [{"id": "F0FILE0001", "title": "export"}]}
