"""The Procfile's web process and `python -m bot serve`: gunicorn really serves /healthz and signed commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slack_requests import SIGNING_SECRET, SlackDriver, sign
from tests.slack_stub import SlackStub

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _procfile(process: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"Procfile has no {process} process")


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.stderr.read() if process.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def _web_env(port: int, database_url: str, **values: str) -> dict[str, str]:
    """The environment a web process runs with here: this virtualenv first on PATH, one worker, and `values`."""
    return {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "DATABASE_URL": database_url,
        **values,
    }


def _web_command(process: str, port: int) -> list[str]:
    """The Procfile's web line (on the loopback), or `python -m bot serve`."""
    if process == "procfile-web":
        return ["bash", "-c", "exec " + _procfile("web").replace("0.0.0.0", "127.0.0.1")]
    return [sys.executable, "-m", "bot", "serve", "--port", str(port)]


@pytest.fixture(params=["procfile-web", "python-m-bot-serve"])
def server(request, database_url: str, slack: SlackStub, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = _free_port()
    env = _web_env(
        port,
        database_url,
        SLACK_API_URL=slack.url,
        SLACK_BOT_TOKEN="xoxb-0000000000-test-token",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        LOG_LEVEL="WARNING",
    )
    command = _web_command(request.param, port)
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_gunicorn_serves_health_and_a_signed_slash_command(server: str, slack: SlackStub) -> None:
    with urllib.request.urlopen(server + "/healthz", timeout=5) as response:
        assert response.status == 200

    body = SlackDriver(wsgi_app=None, stub=slack).command_body("help", user="U0ANA00001")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }
    status, answer = _post(server + "/slack/events", body, headers)
    assert status == 200
    assert b"/coach log" in answer

    status, _ = _post(server + "/slack/events", body, {**headers, "X-Slack-Signature": "v0=" + "0" * 64})
    assert status == 401
    status, _ = _post(server + "/slack/events", body, {**headers, "X-Slack-Request-Timestamp": "soon"})
    assert status == 401


def test_gunicorn_answers_unsigned_garbage_with_a_4xx(server: str) -> None:
    """Bolt parsed these before checking their signature, and raised out of the WSGI app: gunicorn said 500."""
    import http.client

    fresh = str(int(time.time()))
    for body, content_type in ((b"not json at all", "application/json"), (b"{", "application/json"), (b"", "")):
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": fresh,
            "X-Slack-Signature": "v0=" + "0" * 64,
        }
        status, _ = _post(server + "/slack/events", body, headers)
        assert status == 401, body
        status, _ = _post(server + "/slack/events", body, {**headers, "X-Slack-Signature": sign(body, fresh)})
        assert status == 400, body
    host = server.removeprefix("http://")
    connection = http.client.HTTPConnection(host, timeout=10)
    try:
        connection.request(
            "POST",
            "/slack/events",
            body=b"{",
            headers={"X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": "v0=\x80\xe9"},  # sent as Latin-1
        )
        assert connection.getresponse().status == 401
    finally:
        connection.close()


@pytest.mark.parametrize("process", ["procfile-web", "python-m-bot-serve"])
def test_http_mode_without_a_signing_secret_refuses_to_start(process: str, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SLACK_APP_TOKEN set, SLACK_SIGNING_SECRET not: it used to serve, and answer 200 to anyone."""
    port = _free_port()
    env = _web_env(
        port, database_url, SLACK_BOT_TOKEN="xoxb-0000000000-test-token", SLACK_APP_TOKEN="xapp-1-A0MORESOC1-test"
    )
    command = _web_command(process, port)
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SLACK_SIGNING_SECRET" in result.stderr and "Signing Secret" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_web_process_at_debug_logs_no_note_token_or_secret(database_url: str, slack: SlackStub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """LOG_LEVEL=DEBUG as an operator sets it to chase a problem: the bot's lines, none of Slack's payloads."""
    note, token = "secret-note-text", "xoxb-0000000000-test-token"
    port = _free_port()
    env = _web_env(
        port,
        database_url,
        SLACK_API_URL=slack.url,
        SLACK_BOT_TOKEN=token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        LOG_LEVEL="DEBUG",
    )
    command = _web_command("procfile-web", port)
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        body = SlackDriver(wsgi_app=None, stub=slack).command_body(
            f"log reply https://x.com/ana/status/1 {note}", user="U0ANA00001"
        )
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(body, timestamp),
        }
        status, answer = _post(f"http://127.0.0.1:{port}/slack/events", body, headers)
        assert status == 200 and note.encode() in answer  # the member sees their note; the log does not
    finally:
        process.terminate()
        try:
            _, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    assert " INFO bot." in stderr  # the bot's own lines are written
    for secret in (note, token, SIGNING_SECRET):
        assert secret not in stderr
