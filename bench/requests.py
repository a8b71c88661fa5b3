"""What one request costs in process, one thread: More Social's WSGI app against the bare Bolt app.

    python bench/requests.py                 # SQLite in a temporary folder
    python bench/requests.py --db postgres   # More Social on PostgreSQL (127.0.0.1:5432, bench_requests)

No HTTP server and no other load: each request goes straight to the WSGI app, signed as Slack signs it, with
the tests' Web API stand-in (tests/slack_stub.py) on a local port. It prints the median time to acknowledge
a link message, a thread reply and each measured `/coach` command, and what the ledger writer spends per event
on what the messages stored (`drain_pending`, after the acks). bench/ingest.py measures the whole process
under a burst; this says which request the burst's time goes to.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bench.bare_app import Deliveries, build_app
from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps
from bot.services.inbox import drain_pending
from bot.slack.after_ledger import after_ledger
from bot.store.database import Database, migrate
from bot.web import SlackWSGIApp
from tests.slack_events import ANA, BEN, message, rich_text
from tests.slack_requests import SIGNING_SECRET, SlackDriver
from tests.slack_stub import SlackStub

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_requests"
LINKS = 400
REPLIES = 300
COMMANDS = 100
MEASURED_COMMANDS = ("me", "leaderboard", "log reply https://x.com/someone/status/{n}")


def median_ms(request: Callable[[int], object], times: int) -> float:
    took = []
    for n in range(times):
        start = time.perf_counter()
        request(n)
        took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took)


def fresh_postgres() -> str:
    for sql in ("DROP DATABASE IF EXISTS bench_requests", "CREATE DATABASE bench_requests"):
        subprocess.run(["psql", POSTGRES_ADMIN_URL, "-q", "-c", sql], check=True)
    return POSTGRES_URL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-requests-")
    url = fresh_postgres() if args.db == "postgres" else f"sqlite:///{folder}/bot.db"
    migrate(url)
    stub = SlackStub().start()
    try:
        settings = Settings(
            database_url=url, slack_api_url=stub.url, slack_bot_token="xoxb-bench", slack_signing_secret=SIGNING_SECRET
        )
        deps = Deps(settings=settings, db=Database.from_url(url), now=lambda: datetime.now(UTC))
        bolt_app = create_app(deps)
        bot = SlackDriver(SlackWSGIApp(bolt_app, deps.db, signing_secret=SIGNING_SECRET), stub)
        deliveries = Deliveries(f"{folder}/bare.db")
        deliveries.create_table()
        bare = SlackDriver(SlackRequestHandler(build_app(SIGNING_SECRET, "xoxb-bench", stub.url, deliveries)), stub)
        start = int(time.time()) - LINKS - REPLIES - 600
        parents: list[str] = []

        def link(driver: SlackDriver, n: int) -> None:
            ts, url = f"{start + n}.000100", f"https://x.com/ana/status/{n}"
            parents.append(ts)
            driver.event(message(ANA, f"New post <{url}>", ts, blocks=rich_text("New post", url)), settle=False)

        def reply(driver: SlackDriver, n: int) -> None:
            ts = f"{start + LINKS + n}.000200"
            driver.event(message(BEN, "nice one", ts, thread_ts=parents[n]), settle=False)

        print(f"{'request':<34}{'bare ms':>9}{'bot ms':>9}")
        rows: list[tuple[str, float, float]] = []
        for name, count, send in (("link message", LINKS, link), ("thread reply", REPLIES, reply)):
            bare_ms = median_ms(lambda n, send=send: send(bare, n), count)
            if send is link:
                parents.clear()  # the replies answer the bot's own copies of the links
            bot_ms = median_ms(lambda n, send=send: send(bot, n), count)
            began = time.perf_counter()
            drain_pending(deps, after_ledger(deps, bolt_app.client))
            rows.append((f"{name}: ack", bare_ms, bot_ms))
            rows.append((f"{name}: applied, per event", 0.0, (time.perf_counter() - began) * 1000 / count))
        for text in MEASURED_COMMANDS:
            bare_ms = median_ms(lambda n, text=text: bare.command(text.format(n=n), user=BEN), COMMANDS)
            bot_ms = median_ms(lambda n, text=text: bot.command(text.format(n=n), user=BEN), COMMANDS)
            rows.append((f"/coach {text.split(' ')[0]}", bare_ms, bot_ms))
        for name, bare_ms, bot_ms in rows:
            print(f"{name:<34}{(f'{bare_ms:.2f}' if bare_ms else '-'):>9}{bot_ms:>9.2f}")
    finally:
        stub.stop()


if __name__ == "__main__":
    main()
