"""How fast standings are on a big ledger: leaderboard, /coach me and the App Home against a plain GROUP BY.

    python bench/queries.py                                   # SQLite only
    python bench/queries.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/queries.py --postgres ... --keep /tmp/qbench    # leave the data built, for ...
    python bench/queries.py --postgres ... --reuse /tmp/qbench   # ... measuring again without rebuilding it

--keep leaves the PostgreSQL database in place too (its name is in the folder's `postgres-database`): drop it
when done.

Builds a year of activity (1,000,000 rows across 5,000 members by default) in a temporary SQLite file through
`bot.store.ledger.insert_activities`, the path every writer takes, so the standings rollups are kept exactly
as in production. With --postgres, a fresh database is created beside the one named (and dropped afterwards)
and the very same rows, ledger and rollups, are copied into it with COPY: the rollups are identical by
construction, and the copy takes a minute instead of the better part of an hour of row-by-row upserts.
Each figure is the median of --repeats runs after one warm-up, beside the baseline
`SELECT user_id, count(*) FROM activities WHERE team_id = ? [AND occurred_at in the period] GROUP BY user_id`
over the same rows, and their ratio. Before measuring, the objects built so far are frozen out of the garbage
collector's way, as the web process does once started (`bot.runtime.settle_startup_objects`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import JSON, make_url, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.coach.kinds import Kind, Source
from bot.coach.periods import PeriodName, period_containing
from bot.config import Settings, normalize_database_url
from bot.deps import Deps
from bot.runtime import settle_startup_objects
from bot.services.home import home_view
from bot.services.standings import leaderboard, me
from bot.services.teams import ensure_team
from bot.slack.blocks.home import build_home
from bot.slack.blocks.leaderboard import build_leaderboard
from bot.slack.blocks.me import build_me
from bot.store.database import Database, make_engine, migrate
from bot.store.ledger import activity_row, insert_activities
from bot.store.models import Base

TEAM = "T0BENCH001"
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday afternoon
SPAN = timedelta(days=365)
CHUNK = 20_000
CHANNELS = ("C0SOCIAL01", "C0MARKET01", "C0LAUNCH01", "G0PRIVATE1")
# Roughly how a team that uses the bot spends its actions (posts and links are a third: a content factory).
KIND_WEIGHTS = {
    Kind.POST: 20,
    Kind.LINK: 12,
    Kind.REPLY: 16,
    Kind.COMMENT: 18,
    Kind.ANSWER: 4,
    Kind.SHARE: 8,
    Kind.LIKE: 18,
    Kind.FOLLOW: 4,
}
BUDGETS = {"leaderboard": 100.0, "/coach me": 100.0, "App Home": 150.0}


def members(n: int) -> list[str]:
    return [f"U{i:08d}" for i in range(n)]


def rows(count: int, people: list[str], seed: int = 7) -> Iterator[list[dict]]:
    """A year of activity, in chunks: each member talks mostly to a circle of teammates, some outsiders."""
    pick = random.Random(seed)
    kinds, kind_weights = list(KIND_WEIGHTS), list(itertools.accumulate(KIND_WEIGHTS.values()))
    # A few members do much more than most (cumulative weights: choices() would re-add them on every call).
    busy = list(itertools.accumulate(pick.paretovariate(1.5) for _ in people))
    circles = {user: pick.sample(people, 30) for user in people}
    start = NOW - SPAN
    chunk: list[dict] = []
    for n in range(count):
        user = pick.choices(people, cum_weights=busy)[0] if n % 4 else people[n % len(people)]
        kind = pick.choices(kinds, cum_weights=kind_weights)[0]
        at = start + timedelta(seconds=pick.randrange(int(SPAN.total_seconds())))
        channel = pick.choice(CHANNELS)
        in_slack = kind in (Kind.LINK, Kind.COMMENT, Kind.LIKE) and pick.random() < 0.7
        counterpart = ""
        if kind not in (Kind.POST, Kind.LINK):
            counterpart = (
                pick.choice(circles[user]) if in_slack or pick.random() < 0.5 else f"x.com/h{pick.randrange(20_000)}"
            )
        thread = f"{int(at.timestamp()) - pick.randrange(1, 86_400)}.000100" if in_slack and counterpart else None
        chunk.append(
            activity_row(
                team_id=TEAM,
                user_id=user,
                kind=kind.value,
                source=(Source.SLACK if in_slack else Source.LOG).value,
                occurred_at=at,
                timezone="UTC",
                source_key=f"bench:{n}",
                platform="slack" if in_slack else "x",
                created_at=at,
                counterpart=counterpart,
                url=f"https://x.com/{user}/status/{n}" if kind in (Kind.POST, Kind.LINK) else None,
                channel_id=channel if in_slack else None,
                message_ts=f"{int(at.timestamp())}.{n % 1_000_000:06d}" if in_slack else None,
                thread_ts=thread,
                is_private=in_slack and channel.startswith("G"),
            )
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load(db: Database, count: int, people: list[str]) -> float:
    started = time.perf_counter()
    with db.session() as session:
        ensure_team(session, TEAM, NOW)
    for done, chunk in enumerate(rows(count, people), start=1):
        with db.session() as session:
            insert_activities(session, chunk)
        if done % 10 == 0:
            print(f"  loaded {done * CHUNK:,} rows", file=sys.stderr, flush=True)
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return time.perf_counter() - started


def median_ms(work: Callable[[], object], repeats: int) -> float:
    work()  # warm-up: connection pool, statement caches
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def baseline(db: Database, period: PeriodName) -> Callable[[], object]:
    calendar = period_containing(period, NOW, "UTC")
    sql = "SELECT user_id, count(*) FROM activities WHERE team_id = :team"
    params: dict[str, object] = {"team": TEAM}
    if period is not PeriodName.ALL:
        sql += " AND occurred_at >= :start AND occurred_at < :end"
        is_sqlite = db.dialect == "sqlite"
        params |= {
            "start": calendar.start.replace(tzinfo=None) if is_sqlite else calendar.start,
            "end": calendar.end.replace(tzinfo=None) if is_sqlite else calendar.end,
        }
    sql += " GROUP BY user_id"

    def run() -> object:
        with db.engine.connect() as connection:
            return connection.execute(text(sql), params).all()

    return run


def measure(name: str, db: Database, people: list[str], repeats: int) -> list[tuple[str, str, float, float]]:
    settle_startup_objects()  # what the web process does once started (bot.runtime.build_wsgi_app)
    deps = Deps(settings=Settings(database_url=str(db.engine.url)), db=db, now=lambda: NOW)
    caller = people[len(people) // 2]
    results = []
    for period in PeriodName:
        base = median_ms(baseline(db, period), repeats)
        board = median_ms(lambda p=period: build_leaderboard(leaderboard(deps, TEAM, p), caller), repeats)
        card = median_ms(lambda p=period: build_me(me(deps, TEAM, caller, p), NOW), repeats)
        results += [("leaderboard", period.value, board, base), ("/coach me", period.value, card, base)]
    week_base = median_ms(baseline(db, PeriodName.WEEK), repeats)
    home = median_ms(lambda: build_home(home_view(deps, TEAM, caller)), repeats)
    results.append(("App Home", "week", home, week_base))
    print(f"\n{name}")
    print(f"  {'what':<12} {'period':<6} {'median ms':>10} {'baseline ms':>12} {'ratio':>6}  budget")
    for what, period_name, ms, base in results:
        verdict = "ok" if ms < BUDGETS[what] else "OVER"
        figures = f"{ms:>10.1f} {base:>12.1f} {ms / base:>5.2f}x"
        print(f"  {what:<12} {period_name:<6} {figures}  {BUDGETS[what]:.0f} ms {verdict}")
    return results


def copy_database(source: Database, target: Database) -> float:
    """Copy every table, ledger and rollups alike, from `source` into the empty, migrated `target` (COPY)."""
    started = time.perf_counter()
    raw = target.engine.raw_connection()
    try:
        with source.engine.connect() as reader, raw.cursor() as cursor:
            for table in Base.metadata.sorted_tables:
                names = [column.name for column in table.columns]
                as_json = [isinstance(column.type, JSON) for column in table.columns]
                columns = ", ".join(f'"{name}"' for name in names)
                with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                    for row in reader.execute(select(table)).yield_per(CHUNK):
                        copy.write_row([json.dumps(v) if j else v for v, j in zip(row, as_json, strict=True)])
        raw.commit()
    finally:
        raw.close()
    with target.engine.begin() as connection:
        connection.execute(text("SELECT setval(pg_get_serial_sequence('activities', 'id'), max(id)) FROM activities"))
    # What autovacuum does to a deployed database soon after a bulk write: statistics, and the visibility map
    # that lets index-only scans skip the heap. Measuring before it has run measures its catching up.
    with target.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL"), help="a PostgreSQL server URL")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", type=Path, help="build the data into this folder and keep it (and the PG database)")
    kept.add_argument("--reuse", type=Path, help="measure the data a --keep run left in this folder, building nothing")
    args = parser.parse_args()
    if args.keep and (args.keep / "bench.db").exists():
        parser.error(f"{args.keep} already holds data: --reuse it, or --keep another folder")
    if args.reuse and not (args.reuse / "bench.db").exists():
        parser.error(f"{args.reuse} holds no data: build it with --keep first")
    people = members(args.members)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.reuse or args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder}/bench.db"
        if not args.reuse:
            migrate(url)
        lite = Database.from_url(url)
        try:
            if not args.reuse:
                seconds = load(lite, args.activities, people)
                print(f"SQLite: loaded {args.activities:,} activities for {len(people):,} members in {seconds:.0f} s")
            measure("SQLite", lite, people, args.repeats)
            if args.postgres:
                run_postgres(args.postgres, lite, people, args.repeats, folder if args.keep or args.reuse else None)
        finally:
            lite.dispose()
    return 0


def run_postgres(server: str, source: Database, people: list[str], repeats: int, kept: Path | None) -> None:
    """Copy the rows into a fresh database and measure there; with `kept`, the database stays for --reuse."""
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    remembered = kept / "postgres-database" if kept else None
    reuse = remembered is not None and remembered.exists()
    name = remembered.read_text().strip() if reuse else f"more_social_bench_{secrets.token_hex(3)}"
    if not reuse:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_database_url(server)).set(database=name).render_as_string(hide_password=False)
    try:
        db = Database.from_url(url)
        try:
            if not reuse:
                migrate(url)
                print(f"\nPostgreSQL: copied the same rows in {copy_database(source, db):.0f} s", flush=True)
                if remembered is not None:
                    remembered.write_text(name)
            measure("PostgreSQL", db, people, repeats)
        finally:
            db.dispose()
    finally:
        if remembered is None or not remembered.exists():  # not kept, or never filled
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
