"""The one way the bot builds Slack Web API clients: our API host, and retries that honour Retry-After.

Two retry policies, both slack-sdk's own handlers, configured:

- `retry_handlers()`, on every client: for calls that may safely run twice (reads, views.publish, opening a
  DM). A 429 (with Retry-After), a 500/503 or a dropped connection is a normal day on a busy workspace.
- `send_once_retry_handlers()`, on `sending_client`: for a call that must not run twice, posting a message.
  Only what Slack provably did not process is retried: a 429 (Slack refused it, and says when to come back)
  and a connection that failed before the whole request was written. A 5xx, or a connection lost after the
  request went out, may come after Slack posted the message; resending it blindly is how duplicates happen,
  so the caller gets the error and decides (bot.services.deliveries checks the channel's history first).
"""

from __future__ import annotations

from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2
CLIENT_TIMEOUT_SECONDS = 10


def retry_handlers() -> list[RetryHandler]:
    """Retries for calls that may safely run twice."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def send_once_retry_handlers() -> list[RetryHandler]:
    """Retries for a call that must not run twice: only when Slack cannot have processed it.

    slack-sdk's ConnectionErrorRetryHandler also retries ConnectionResetError and RemoteDisconnected by
    default, and those are raised while reading the answer, after the request was sent. urllib wraps in
    URLError only what fails while connecting or writing the request (refused, DNS, TLS, a reset or timeout
    mid-write), when Slack never got a whole request, so URLError is the one kind retried here. An HTTP
    error answer is a URLError too, but that handler never retries one that came with a response.
    """
    return [
        ConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES, error_types=[URLError]),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
    ]


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """Return a WebClient on SLACK_API_URL with the bot token (or `token`) and our retry handlers."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=CLIENT_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )


def sending_client(client: WebClient) -> WebClient:
    """Return `client` (same host, token, timeout, proxy) with the send-once retries, for posting messages."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers={name: value for name, value in client.headers.items() if name != "User-Agent"},
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=send_once_retry_handlers(),
    )
