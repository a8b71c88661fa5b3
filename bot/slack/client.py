"""The one way the bot builds Slack Web API clients: our API host, and retries that honour Retry-After."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

# slack-sdk only retries connection errors by default; a 429 (with Retry-After) or a 5xx from Slack is
# a normal day on a busy workspace, so every client retries those too.
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2
CLIENT_TIMEOUT_SECONDS = 10


def retry_handlers() -> list:
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES),
    ]


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    """Return a WebClient on SLACK_API_URL with the bot token (or `token`) and our retry handlers."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=CLIENT_TIMEOUT_SECONDS,
        retry_handlers=retry_handlers(),
    )
