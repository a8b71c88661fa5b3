"""Which failures each retry policy resends: slack-sdk's own handlers, asked the question they answer."""

from __future__ import annotations

import socket
from http.client import RemoteDisconnected
from urllib.error import HTTPError, URLError

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState

from bot.config import Settings
from bot.slack.client import make_web_client, retry_handlers, send_once_retry_handlers, sending_client

REQUEST = HttpRequest(method="POST", url="http://127.0.0.1/api/chat.postMessage", headers={})


def retried(handlers: list[RetryHandler], *, status: int | None = None, error: Exception | None = None) -> bool:
    response = None if status is None else HttpResponse(status_code=status, headers={"Retry-After": ["0"]})
    return any(
        handler.can_retry(state=RetryState(), request=REQUEST, response=response, error=error) for handler in handlers
    )


BEFORE_THE_REQUEST_WAS_WRITTEN = [
    URLError(ConnectionRefusedError(111, "Connection refused")),
    URLError(socket.gaierror(-2, "Name or service not known")),
    URLError(ConnectionResetError(104, "Connection reset by peer")),  # urllib wraps what fails while writing
]
AFTER_THE_REQUEST_WENT_OUT = [
    RemoteDisconnected("Remote end closed connection without response"),
    ConnectionResetError(104, "Connection reset by peer"),
    TimeoutError("The read operation timed out"),
]


def test_a_429_is_retried_by_both_policies() -> None:
    assert retried(retry_handlers(), status=429)
    assert retried(send_once_retry_handlers(), status=429)


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_is_retried_only_where_running_twice_is_harmless(status: int) -> None:
    assert retried(retry_handlers(), status=status)
    assert not retried(send_once_retry_handlers(), status=status)


@pytest.mark.parametrize("error", BEFORE_THE_REQUEST_WAS_WRITTEN, ids=repr)
def test_a_connection_that_failed_before_the_request_was_written_is_retried(error: Exception) -> None:
    assert retried(send_once_retry_handlers(), error=error)


@pytest.mark.parametrize("error", AFTER_THE_REQUEST_WENT_OUT, ids=repr)
def test_a_connection_lost_after_the_request_went_out_is_not_resent(error: Exception) -> None:
    assert not retried(send_once_retry_handlers(), error=error)


def test_a_dropped_connection_is_retried_where_running_twice_is_harmless() -> None:
    assert all(retried(retry_handlers(), error=error) for error in AFTER_THE_REQUEST_WENT_OUT[:2])


def test_an_http_error_answer_is_not_mistaken_for_a_connection_error() -> None:
    answer = HTTPError(REQUEST.url, 500, "Internal Server Error", None, None)  # type: ignore[arg-type]
    response = HttpResponse(status_code=500, headers={})
    handlers = send_once_retry_handlers()
    assert not any(
        handler.can_retry(state=RetryState(), request=REQUEST, response=response, error=answer) for handler in handlers
    )


def test_the_sending_client_talks_to_the_same_slack_with_the_same_token(settings: Settings) -> None:
    client = make_web_client(settings)
    sender = sending_client(client)
    assert isinstance(sender, WebClient)
    assert (sender.base_url, sender.token, sender.timeout) == (client.base_url, client.token, client.timeout)
    assert [type(h) for h in sender.retry_handlers] == [type(h) for h in send_once_retry_handlers()]
    assert [type(h) for h in client.retry_handlers] == [type(h) for h in retry_handlers()]
