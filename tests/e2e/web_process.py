"""The Procfile's processes run for real, as the platform runs them: a shell line in a process group of its own.

`WebProcess` starts the `web` line (gunicorn master and workers), waits for /healthz, and can SIGKILL the
whole group the way a crashed or evicted dyno dies: no signal handler, no atexit, no connection closed
politely. `deliver` is Slack's side of one Events API delivery: signed for real, and 200 or nothing.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from tests.slack_requests import sign

ROOT = Path(__file__).resolve().parents[2]
REQUEST_TIMEOUT = 10.0  # seconds; Slack gives up after 3, but a 2-core machine under a burst is slow


def procfile_command(process: str) -> str:
    """The command of one Procfile process, as written there."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise AssertionError(f"Procfile has no {process} process")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_procfile(process: str, env: Mapping[str, str], timeout: float = 120.0) -> str:
    """Run a one-off Procfile process (the release phase) to completion; its output, or a failure with it."""
    done = subprocess.run(
        ["bash", "-c", procfile_command(process)],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"Procfile {process} exited {done.returncode}:\n{output}"
    return output


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class WebProcess:
    """The Procfile's web line on one port and database; started again after a kill, the same way."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.port = int(self.env["PORT"])
        self.log_dir = log_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self.runs: list[tuple[subprocess.Popen[bytes], Path]] = []

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.runs[-1][0] if self.runs else None

    def start(self, ready_within: float = 60.0) -> None:
        """Start the web line in a new session (so the group is ours to kill) and wait for /healthz."""
        assert self.process is None or self.process.poll() is not None, "the previous web process still runs"
        log_path = self.log_dir / f"web-{len(self.runs) + 1}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                ["bash", "-c", procfile_command("web")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.runs.append((process, log_path))
        self._wait_healthy(process, ready_within)

    def _wait_healthy(self, process: subprocess.Popen[bytes], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the web process exited with {process.returncode} before /healthz answered")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, http.client.HTTPException, OSError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"/healthz did not answer 200 within {seconds:.0f} s")

    def kill(self, gone_within: float = 20.0) -> None:
        """SIGKILL the whole process group, master and workers, and wait until nothing listens on the port."""
        process = self.process
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)  # start_new_session: the group id is the shell's pid
        process.wait(timeout=gone_within)
        deadline = time.monotonic() + gone_within
        while accepts_connections(self.port):  # a worker holds the listening socket until it is gone too
            assert time.monotonic() < deadline, f"port {self.port} still accepts connections after SIGKILL"
            time.sleep(0.05)

    def stop(self) -> None:
        """Teardown: ask each run's group to stop, then SIGKILL whatever is left of it."""
        for process, _ in self.runs:
            _signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def logs(self) -> str:
        """Everything each run of the web process printed, run by run."""
        parts = []
        for number, (_, path) in enumerate(self.runs, start=1):
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"----- web process, run {number} ({path}) -----\n{text}")
        return "\n".join(parts)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group may be gone already
        os.killpg(pgid, sig)


def deliver(
    url: str,
    body: bytes,
    *,
    retry_num: int | None = None,
    retry_reason: str = "",
    content_type: str = "application/json",
) -> int | str:
    """POST one signed request (an Events API delivery unless `content_type` says a form): the HTTP status,
    or why no answer came ("ConnectionRefusedError")."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }
    if retry_num is not None:
        headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
    request = urllib.request.Request(url + "/slack/events", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError as error:
        return type(error.reason).__name__ if isinstance(error.reason, BaseException) else str(error.reason)
    except (http.client.HTTPException, OSError) as error:
        return type(error).__name__


def subprocess_env(**values: str) -> dict[str, str]:
    """A clean environment for the bot's processes: this virtualenv first on PATH, and only what is given."""
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    return {"PATH": path, "PYTHONUNBUFFERED": "1", **values}
