"""The request path under a burst: More Social's web process against a bare Bolt app, under the same gunicorn.

    python bench/ingest.py                          # 3 rounds of each app, 3,000 events a round, SQLite
    python bench/ingest.py --db postgres            # More Social on PostgreSQL (127.0.0.1:5432, bench_ingest)
    python bench/ingest.py --rounds 1 --events 600  # a quick smoke run
    python bench/ingest.py --check                  # exit 1 when a target is missed
    python bench/ingest.py --keep                   # keep the logs and SQLite files (kept anyway on trouble)

Both apps run under the Procfile's `web` command, read from the Procfile and run by a shell as a platform
would (the bare app with only its WSGI target swapped for 'bench.bare_app:create()'), each on a free port,
its output and access log in a file of a temporary folder, against a local Slack Web API stand-in
(tests/slack_stub.py, in a process of its own). The bare app (bench/bare_app.py) acknowledges every delivery
and INSERTs each message into SQLite before answering: the floor for a Bolt app that persists what it gets.
More Social gets a fresh database each round: a new SQLite file (the web process migrates it), or with
--db postgres the bench_ingest database dropped, created and migrated by `python -m bot migrate`; it is left
in place after the run. Rounds alternate bare, bot, bare, bot, ... so both see the same machine.

The load is one deterministic list (random.Random(--seed)) of signed Events API deliveries and slash commands
in the shapes the bot's tests send (tests/slack_events.py, tests/slack_requests.py), for the tests' team and
members, in an exact mix, shuffled: 40% new messages sharing a unique link, 25% thread replies to an earlier
link by another member, 20% reaction_added on an earlier link, 15% /coach (`me`, `leaderboard` and
`log reply <url>` in turn). Event ids are unique; message ts increase a second apart, up to a minute before
the run. Each round sends the first 50 as a warm-up (not measured; for More Social, until its report shows
their links), then the rest as a burst from --senders threads of this process, each on its own keep-alive
connection, sending its share (every --senders'th delivery) as fast as the answers come back; a request is
signed with Slack's v0 scheme as it is sent. The same list is sent to both apps in every round.

Measured per round and app: ack throughput (burst requests over the time from the first send to the last
answer), ack p50/p99 (send to full response), errors (any answer but 200, or none), and the peak RSS (VmHWM)
of every process of the server's process group, read just before it is stopped; the table shows the biggest.
For More Social also end to end: a poller process reads the bot's own report every 0.2 s
(`bot.services.report.team_report`, period all, the members' `posts` summed: links shared in Slack, since
nothing in the load logs a post) until it shows every link message of the list; the time from the burst's
first send to that read gives processed events/s (burst events over that time), and the time from the last
answer to it is the freshness after the burst. For the bare app the stored rows are counted as a check.

The table shows the medians over rounds, More Social's ratio to the bare app of the same run, and the targets:
ack throughput >= 0.8x bare, ack p99 <= 1.25x bare, end-to-end processed >= 0.5x the bare ack rate, web peak
RSS < 150 MB, no errors. It is a measurement: the exit status is 0 unless --check is given.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.slack_events import ANA, BEN, CARLA, DAN, SOCIAL, message, reaction, rich_text
from tests.slack_requests import SIGNING_SECRET, SlackDriver, sign
from tests.slack_stub import TEAM_ID

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_ingest"
BOT_TOKEN = "xoxb-bench"
BOT_APP = "'bot.wsgi:create()'"
BARE_APP = "'bench.bare_app:create()'"
EVENTS_PATH = "/slack/events"
WARMUP = 50
POLL_SECONDS = 0.2
READY_TIMEOUT = 60.0
WARMUP_TIMEOUT = 60.0
SETTLE_TIMEOUT = 180.0  # after the last answer, how long the report may take to show every link ...
STALL_SECONDS = 15.0  # ... unless it shows no new link for this long
STOP_TIMEOUT = 15.0
# Replies and reactions pick a link at least this many deliveries back, so its message went out a while before.
PARENT_LAG = 48
RECENT_LINKS = 200

MEMBERS = {ANA: "ana", BEN: "ben", CARLA: "carla", DAN: "dan"}
MIX = (("link", 40), ("reply", 25), ("reaction", 20), ("command", 15))
INTROS = ("New thread up:", "Wrote this one on the train", "Our launch post is live", "Worth a read", "Posted!")
REPLIES = (
    "This is great, the second point really lands for me",
    "Left a comment on it, the intro is really strong",
    "Shared it with the design folks, they will love the charts",
    "+1",
    "nice!",
    ":tada:",
)
EMOJI = ("tada", "fire", "eyes", "heart", "clap", "rocket", "100")
COMMANDS = ("me", "leaderboard", "log reply https://x.com/someone/status/{n}")
# Environment a developer may have set that would change what the web process is (Socket Mode, OAuth).
DROPPED_ENV = ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "DATABASE_URL", "BARE_APP_DB")


# --- the load ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    kind: str  # link | reply | reaction | command
    body: bytes
    content_type: str


def generate(count: int, seed: int, stub_base: str, now: float) -> list[Delivery]:
    """`count` deliveries in the load's exact mix, shuffled; the first is a link, so the others have a target."""
    rng = random.Random(seed)
    driver = SlackDriver(wsgi_app=None, stub=SimpleNamespace(base=stub_base))  # type: ignore[arg-type]
    commands = itertools.cycle(COMMANDS)
    order = [kind for kind, percent in MIX[1:] for _ in range(count * percent // 100)]
    order += ["link"] * (count - len(order))
    rng.shuffle(order)
    order.insert(0, order.pop(order.index("link")))
    links: list[tuple[int, dict[str, Any]]] = []  # (position, the message event)
    start = int(now) - count - 60  # one message a second, ending a minute ago
    deliveries = []
    for i, kind in enumerate(order):
        ts = f"{start + i}.{i % 1_000_000:06d}"
        event_id = f"EvBENCH{i:07d}"
        if kind == "command":
            text = next(commands).format(n=900_000 + i)
            body = driver.command_body(text, user=rng.choice(list(MEMBERS)), channel=SOCIAL)
            deliveries.append(Delivery(kind, body, "application/x-www-form-urlencoded"))
            continue
        if kind == "link":
            author = rng.choice(list(MEMBERS))
            url = f"https://x.com/{MEMBERS[author]}/status/{100_000 + i}"
            intro = rng.choice(INTROS)
            event = message(author, f"{intro} <{url}>", ts, blocks=rich_text(intro, url))
            links.append((i, event))
        else:
            early = [event for position, event in links[-RECENT_LINKS:] if position <= i - PARENT_LAG]
            parent = rng.choice(early or [links[0][1]])
            other = rng.choice([member for member in MEMBERS if member != parent["user"]])
            if kind == "reply":
                text = rng.choice(REPLIES)
                event = message(other, text, ts, thread_ts=parent["ts"], blocks=rich_text(text))
                event["parent_user_id"] = parent["user"]
            else:
                event = reaction(other, parent, rng.choice(EMOJI), event_ts=ts)
        deliveries.append(Delivery(kind, driver.event_body(event, event_id=event_id), "application/json"))
    return deliveries


# --- sending -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    kind: str
    sent: float
    answered: float
    status: int  # 0: no answer (the connection failed twice)
    body: bytes
    resent: bool = False  # sent again on a fresh connection after the first one failed


def _send_share(port: int, share: list[Delivery], barrier: threading.Barrier, out: list[Answer]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    barrier.wait()
    for delivery in share:
        sent = time.monotonic()
        for attempt in (1, 2):  # a keep-alive connection the server closed is opened again, once
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": delivery.content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": sign(delivery.body, timestamp, SIGNING_SECRET),
            }
            try:
                connection.request("POST", EVENTS_PATH, delivery.body, headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                if attempt == 2:
                    out.append(Answer(delivery.kind, sent, time.monotonic(), 0, repr(error).encode(), True))
                continue
            out.append(Answer(delivery.kind, sent, time.monotonic(), response.status, body, attempt == 2))
            if response.will_close:
                connection.close()
            break
    connection.close()


def send(port: int, deliveries: list[Delivery], senders: int) -> tuple[float, list[Answer]]:
    """Send the deliveries from `senders` threads (round-robin shares); return the start and every answer."""
    barrier = threading.Barrier(senders + 1)
    outs: list[list[Answer]] = [[] for _ in range(senders)]
    threads = [
        threading.Thread(target=_send_share, args=(port, deliveries[k::senders], barrier, outs[k]), daemon=True)
        for k in range(senders)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join()
    return started, [answer for out in outs for answer in out]


# --- processes -----------------------------------------------------------------------------------------


def web_command() -> str:
    """The Procfile's `web` line, as the platform runs it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == "web":
            return command.strip()
    raise SystemExit("Procfile has no web process")


def bare_command(command: str) -> str:
    if BOT_APP not in command:
        raise SystemExit(f"the Procfile's web line no longer serves {BOT_APP}: update bench/ingest.py")
    return command.replace(BOT_APP, BARE_APP)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop_group(process: subprocess.Popen, timeout: float) -> bool:
    """SIGTERM the process group, SIGKILL it if it lingers; return whether SIGKILL was needed."""
    if process.poll() is not None:
        return False
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True
    except ProcessLookupError:
        return False


class Server:
    """A gunicorn started from a shell command line in its own session, with its output in `log`."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", "exec " + command],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, port: int, path: str, statuses: tuple[int, ...]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the web process exited with {self.process.returncode}:\n{self.tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", path)
                status = connection.getresponse().status
                connection.close()
                if status in statuses:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the web process did not answer GET {path} in {READY_TIMEOUT:.0f} s:\n{self.tail()}")

    def peak_rss_kib(self) -> dict[int, int]:
        """VmHWM of every process in the server's process group (the master and its workers)."""
        peaks = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[2]) != self.process.pid:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[int(entry.name)] = int(line.split()[1])
            except (OSError, IndexError, ValueError):
                continue
        return peaks

    def stop(self) -> bool:
        return _stop_group(self.process, STOP_TIMEOUT)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class Poller:
    """A child process that reads the bot's report every POLL_SECONDS; remembers when counts were first seen."""

    def __init__(self, database_url: str, log: Path) -> None:
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--poll", database_url],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )
        self.latest = (-1, 0.0)
        self._seen: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            count, at = line.split()
            with self._lock:
                self.latest = (int(count), float(at))
                if not self._seen or self._seen[-1][0] != int(count):
                    self._seen.append(self.latest)

    def wait_for(self, count: int, timeout: float) -> float | None:
        """When the report first showed at least `count` links (a monotonic time), or None.

        None after `timeout`, or once the count has not moved for STALL_SECONDS: the bot has stopped applying.
        """
        deadline = time.monotonic() + timeout
        moved = time.monotonic()
        while time.monotonic() < deadline and self.process.poll() is None:
            with self._lock:
                reached = [at for shown, at in self._seen if shown >= count]
                last_change = self._seen[-1][1] if self._seen else 0.0
            if reached:
                return reached[0]
            moved = max(moved, last_change)
            if time.monotonic() - moved > STALL_SECONDS:
                return None
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        _stop_group(self.process, 5)
        self._log.close()


def poll(database_url: str) -> int:
    """In the child: print "<links the report shows> <monotonic time of the read>" every POLL_SECONDS."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.coach.periods import PeriodName
    from bot.config import Settings
    from bot.deps import Deps
    from bot.services.report import ReportError, team_report
    from bot.store.database import Database

    deps = Deps(settings=Settings(database_url=database_url), db=Database.from_url(database_url))
    while True:
        at = time.monotonic()
        try:
            shown = sum(member["posts"] for member in team_report(deps, TEAM_ID, PeriodName.ALL)["members"])
        except ReportError:  # the team is created by its first event
            shown = 0
        except SQLAlchemyError as error:
            print(f"report failed: {error}", file=sys.stderr, flush=True)
            shown = -1
        print(shown, at, flush=True)
        time.sleep(max(0.0, POLL_SECONDS - (time.monotonic() - at)))


def serve_stub() -> int:
    """In the child: the Slack Web API stand-in; prints its URL, serves until stdin closes."""
    from http.server import ThreadingHTTPServer

    from tests.slack_stub import SlackStub

    ThreadingHTTPServer.request_queue_size = 128  # the web processes' workers call it at once
    stub = SlackStub().start()
    print(stub.url, flush=True)
    sys.stdin.read()
    stub.stop()
    return 0


class Stub:
    """The Slack Web API stand-in (tests/slack_stub.py) in a child process, so it never competes for our GIL."""

    def __init__(self, log: Path) -> None:
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--stub"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url:
            raise RuntimeError(f"the Slack stand-in did not start:\n{log.read_text()}")
        self.base = self.url.removesuffix("/api/")

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# --- databases -----------------------------------------------------------------------------------------


def fresh_postgres() -> str:
    """Drop and create bench_ingest, and migrate it the way the release phase does."""
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS bench_ingest WITH (FORCE)")
        admin.execute("CREATE DATABASE bench_ingest")
    env = {**os.environ, "DATABASE_URL": POSTGRES_URL}
    migrated = subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, capture_output=True)
    if migrated.returncode != 0:
        raise RuntimeError(f"python -m bot migrate failed:\n{migrated.stderr.decode(errors='replace')}")
    return POSTGRES_URL


# --- a round -------------------------------------------------------------------------------------------


@dataclass
class Round:
    """What one round of one app measured."""

    app: str
    number: int
    requests: int = 0
    acks_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    rss_kib: dict[int, int] = field(default_factory=dict)
    e2e_s: float | None = None
    processed_per_s: float | None = None
    freshness_s: float | None = None
    notes: list[str] = field(default_factory=list)  # what went wrong besides the answers
    log_errors: int = 0  # ERROR and CRITICAL records in the web process's log
    log_exceptions: Counter[str] = field(default_factory=Counter)  # the last line of each traceback
    killed: bool = False

    @property
    def peak_rss_mb(self) -> float:
        return max(self.rss_kib.values(), default=0) / 1024


def _measure_acks(result: Round, started: float, answers: list[Answer]) -> float:
    latencies = sorted((answer.answered - answer.sent) * 1000 for answer in answers)
    last = max(answer.answered for answer in answers)
    result.requests = len(answers)
    result.acks_per_s = len(answers) / (last - started)
    result.p50_ms = statistics.median(latencies)
    result.p99_ms = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    for answer in answers:
        if answer.status != 200:
            result.errors[f"{answer.kind} {answer.status or 'no answer'}"] += 1
            if len(result.error_samples) < 3:
                result.error_samples.append(f"{answer.kind} {answer.status}: {answer.body[:200]!r}")
    resent = sum(answer.resent for answer in answers)
    if resent:
        result.notes.append(f"{resent} requests sent again on a fresh connection after theirs failed")
    return last


def run_round(app: str, number: int, args: argparse.Namespace, load: list[Delivery], work: Path, stub: Stub) -> Round:
    folder = work / f"{app}-{number}"
    folder.mkdir()
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PORT=str(port),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=stub.url,
    )
    links_warm = sum(delivery.kind == "link" for delivery in load[:WARMUP])
    links_all = sum(delivery.kind == "link" for delivery in load)
    result = Round(app, number)
    poller = None
    if app == "bot":
        database_url = fresh_postgres() if args.db == "postgres" else f"sqlite:///{folder}/bot.db"
        env["DATABASE_URL"] = database_url
        server = Server(web_command(), env, folder / "web.log")
    else:
        env["BARE_APP_DB"] = str(folder / "bare.db")
        server = Server(bare_command(web_command()), env, folder / "web.log")
    try:
        if app == "bot":
            server.wait_ready(port, "/healthz", (200,))
            poller = Poller(database_url, folder / "poller.log")
        else:
            server.wait_ready(port, "/", (200, 404))
        send(port, load[:WARMUP], args.senders)
        if poller is not None and poller.wait_for(links_warm, WARMUP_TIMEOUT) is None:
            result.notes.append(f"the report never showed the warm-up: {poller.latest[0]} of {links_warm} links")
        started, answers = send(port, load[WARMUP:], args.senders)
        last = _measure_acks(result, started, answers)
        if poller is not None:
            done = poller.wait_for(links_all, SETTLE_TIMEOUT)
            if done is None:
                shown, at = poller.latest
                result.notes.append(f"the report showed {shown} of {links_all} links {at - last:.0f} s after the burst")
            else:
                result.e2e_s = done - started
                result.processed_per_s = len(answers) / result.e2e_s
                result.freshness_s = max(0.0, done - last)
        else:
            stored = sqlite3.connect(folder / "bare.db").execute("SELECT count(*) FROM deliveries").fetchone()[0]
            sent = sum(delivery.kind in ("link", "reply") for delivery in load)
            if stored != sent:
                result.notes.append(f"the bare app stored {stored} of {sent} messages")
        result.rss_kib = server.peak_rss_kib()
    finally:
        if poller is not None:
            poller.stop()
        result.killed = server.stop()
    log_text = server.log.read_text(errors="replace")
    result.log_errors = len(re.findall(r"^\S+ \S+ (?:ERROR|CRITICAL) |\[(?:ERROR|CRITICAL)\]", log_text, re.MULTILINE))
    result.log_exceptions.update(exceptions_in(log_text))
    return result


def exceptions_in(log_text: str) -> list[str]:
    """The exception line ending each traceback in a log (the first unindented line after its header)."""
    found, in_traceback = [], False
    for line in log_text.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            found.append(line)
            in_traceback = False
    return found


def describe(result: Round, log_folder: Path) -> str:
    rss = "/".join(f"{kib / 1024:.0f}" for _, kib in sorted(result.rss_kib.items()))
    line = (
        f"round {result.number} {result.app:<4} {result.requests:>6,} req {result.acks_per_s:>8,.0f} acks/s"
        f"  p50 {result.p50_ms:>6.1f} ms  p99 {result.p99_ms:>7.1f} ms  errors {sum(result.errors.values())}"
        f"  RSS {rss} MB"
    )
    if result.e2e_s is not None:
        line += (
            f"  e2e {result.e2e_s:.1f} s ({result.processed_per_s:,.0f} processed/s),"
            f" fresh {result.freshness_s:.1f} s after the last ack"
        )
    notes = list(result.notes)
    if result.errors:
        notes.append("errors: " + ", ".join(f"{what} x{n}" for what, n in sorted(result.errors.items())))
        notes += result.error_samples
    if result.log_errors:
        log = log_folder / f"{result.app}-{result.number}" / "web.log"
        notes.append(f"{result.log_errors} ERROR/CRITICAL records in {log}")
    notes += [f"{n} x {line[:160]}" for line, n in result.log_exceptions.most_common(3)]
    if result.killed:
        notes.append(f"the server was still running {STOP_TIMEOUT:.0f} s after SIGTERM and was killed")
    return "\n".join([line, *(f"    {note}" for note in notes)])


# --- the report ----------------------------------------------------------------------------------------


def _median(values: list[float | None]) -> float | None:
    """The median, or None if any round lacks the figure (it never finished)."""
    if not values or any(value is None for value in values):
        return None
    return statistics.median(value for value in values if value is not None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


@dataclass(frozen=True)
class Line:
    """One line of the table: the two medians, More Social's ratio, and its target with the verdict."""

    name: str
    bare: float | None
    bot: float | None
    digits: int = 0
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None  # None: no target

    def cells(self) -> list[str]:
        def number(value: float | None) -> str:
            return "never" if value is None else f"{value:,.{self.digits}f}"

        verdict = "" if self.passed is None else ("PASS" if self.passed else "FAIL")
        ratio = "" if self.ratio is None else f"{self.ratio:.2f}x"
        bare = "-" if self.name.startswith(("end-to-end", "freshness")) else number(self.bare)
        return [self.name, bare, number(self.bot), ratio, self.target, verdict]


def report(bare: list[Round], bot: list[Round]) -> bool:
    """Print the medians, ratios and targets; return whether every target was met."""

    def medians(name: str) -> tuple[float | None, float | None]:
        return _median([getattr(r, name) for r in bare]), _median([getattr(r, name) for r in bot])

    bare_acks, bot_acks = medians("acks_per_s")
    p50 = medians("p50_ms")
    p99 = medians("p99_ms")
    _, e2e = medians("processed_per_s")
    _, freshness = medians("freshness_s")
    rss = medians("peak_rss_mb")
    errors = (sum(sum(r.errors.values()) for r in bare), sum(sum(r.errors.values()) for r in bot))
    acks_ratio, p99_ratio, e2e_ratio = _ratio(bot_acks, bare_acks), _ratio(p99[1], p99[0]), _ratio(e2e, bare_acks)
    lines = [
        Line("ack throughput (req/s)", bare_acks, bot_acks, 0, acks_ratio, ">= 0.8x bare", (acks_ratio or 0) >= 0.8),
        Line("ack p50 (ms)", *p50, 1, _ratio(p50[1], p50[0])),
        Line("ack p99 (ms)", *p99, 1, p99_ratio, "<= 1.25x bare", p99_ratio is not None and p99_ratio <= 1.25),
        Line("end-to-end processed (ev/s)", None, e2e, 0, e2e_ratio, ">= 0.5x bare ack rate", (e2e_ratio or 0) >= 0.5),
        Line("freshness after burst (s)", None, freshness, 1),
        Line("web peak RSS (MB)", *rss, 0, _ratio(rss[1], rss[0]), "< 150 MB", rss[1] is not None and rss[1] < 150),
        Line("errors (all rounds)", *errors, 0, None, "none", errors[1] == 0),
    ]
    print(f"\nmedians of {len(bot)} round{'s' if len(bot) > 1 else ''}")
    print(f"{'':<28} {'bare':>9} {'bot':>9} {'bot/bare':>9}  {'target':<22} result")
    for line in lines:
        name, bare_cell, bot_cell, ratio, target, verdict = line.cells()
        print(f"{name:<28} {bare_cell:>9} {bot_cell:>9} {ratio:>9}  {target:<22} {verdict}".rstrip())
    if errors[0]:
        print("the bare app answered with errors: the floor itself is in doubt")
    return all(line.passed is not False for line in lines)


def machine() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({usable} usable), load {load}, {platform.platform()},"
        f" Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite", help="More Social's database")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each app, interleaved (default 3)")
    parser.add_argument("--events", type=int, default=3000, help="deliveries in each round's burst (default 3000)")
    parser.add_argument("--senders", type=int, default=16, help="concurrent connections sending (default 16)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the load (default 7)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder: logs and SQLite files")
    parser.add_argument("--stub", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--poll", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stub:
        return serve_stub()
    if args.poll:
        return poll(args.poll)

    command = web_command()
    print(f"command: python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip())
    print(f"machine: {machine()}")
    print(f"web: {command}")
    print(f"     (bare: the same with {BARE_APP})")
    print(
        f"load: {args.rounds} round{'s' if args.rounds > 1 else ''} of each app, {args.events:,} deliveries a burst"
        f" after {WARMUP} warm-up, {args.senders} senders; More Social on {args.db}\n"
    )
    work = Path(tempfile.mkdtemp(prefix="more-social-ingest-"))
    stub = Stub(work / "slack-stub.log")
    troubled = False
    try:
        load = generate(WARMUP + args.events, args.seed, stub.base, time.time())
        rounds: dict[str, list[Round]] = {"bare": [], "bot": []}
        for number in range(1, args.rounds + 1):
            for app in ("bare", "bot"):
                result = run_round(app, number, args, load, work, stub)
                rounds[app].append(result)
                troubled |= bool(
                    result.errors or result.log_errors or result.log_exceptions or result.notes or result.killed
                )
                print(describe(result, work), flush=True)
        met = report(rounds["bare"], rounds["bot"])
    except BaseException:
        troubled = True
        raise
    finally:
        stub.stop()
        if troubled or args.keep:
            print(f"\nlogs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    raise SystemExit(main())
