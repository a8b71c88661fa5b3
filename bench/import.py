"""Benchmark `python -m bot import-export`: generate synthetic Slack exports and import them.

    python bench/import.py                      # 100,000 and 1,000,000 messages, SQLite
    python bench/import.py --messages 1000000   # one size (repeat the option for several)
    python bench/import.py --zip                # import the .zip instead of the folder
    python bench/import.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench

Each size is generated into a temporary folder (streamed to disk, a day file at a time), then imported by
a fresh child process into an empty database, so the peak memory reported is the import's alone: the
importing process's max RSS, and that of its biggest reading process (a big export is read by two,
see bot/services/export_reader.py). Flat peak memory across sizes is the point: the import must
stream, not load the export.

The messages look like a busy workspace's: most carry rich_text blocks and a user_profile, as Slack
writes them; about a third of top-level messages share links (some only in blocks), a quarter start
threads with substantive and "+1" replies, link messages collect emoji from several people, and bots
and joins are mixed in.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = 12
PRIVATE_CHANNELS = 2
USERS = 300
BOTS = 6
DAY_ZERO = datetime(2024, 1, 1, tzinfo=UTC)
LINKS = (
    "https://x.com/{u}/status/{n}",
    "https://www.linkedin.com/posts/{u}_activity-{n}",
    "https://blog.example.com/{u}/post-{n}?utm_source=slack",
    "https://www.youtube.com/watch?v={n}",
    "https://mastodon.social/@{u}/{n}",
)
CHATTER = (
    "Morning all, coffee first then the content calendar",
    "Who is on the newsletter this week?",
    "Great call today, thanks everyone",
    "Reminder: the launch retro is at 3",
    "I'll draft the thread and share it here before lunch",
)
REPLIES_SUBSTANTIVE = (
    "This is great, the second point really lands for me",
    "Left a comment on it, the intro is really strong",
    "Shared it with the design folks, they will love the charts",
    "Nice angle, I would add an example from the last campaign",
)
REPLIES_LIGHT = ("+1", "nice!", ":tada:", ":fire: :fire:", "love it")
EMOJI = ("tada", "fire", "eyes", "heart", "clap", "rocket", "100")


def _user(rng: random.Random) -> str:
    return f"U{rng.randrange(USERS):08d}"


def _profile(user: str) -> dict:
    return {
        "avatar_hash": "g" + user[-6:],
        "image_72": f"https://avatars.slack-edge.com/2024-01-01/{user}_72.png",
        "first_name": user,
        "real_name": f"Person {user}",
        "display_name": user.lower(),
        "team": "T0BENCH01",
        "name": user.lower(),
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def _human(user: str, text: str, ts: str, links: list[str], *, in_blocks_only: bool = False) -> dict:
    elements: list[dict] = [{"type": "text", "text": text + " "}]
    elements += [{"type": "link", "url": url} for url in links]
    shown = text if in_blocks_only else " ".join([text, *(f"<{url}>" for url in links)])
    return {
        "client_msg_id": f"{ts.replace('.', '')}-{user}",
        "type": "message",
        "text": shown,
        "user": user,
        "ts": ts,
        "team": "T0BENCH01",
        "user_team": "T0BENCH01",
        "source_team": "T0BENCH01",
        "user_profile": _profile(user),
        "blocks": [
            {
                "type": "rich_text",
                "block_id": ts[-5:],
                "elements": [{"type": "rich_text_section", "elements": elements}],
            }
        ],
    }


def _day(rng: random.Random, day: int, count: int, serial: Iterator[int]) -> list[dict]:
    """One channel-day of messages, about `count` of them, threads kept within the day."""
    start = int((DAY_ZERO + timedelta(days=day)).timestamp())
    messages: list[dict] = []
    while len(messages) < count:
        n = next(serial)
        ts = f"{start + rng.randrange(0, 80000)}.{n % 1_000_000:06d}"
        roll = rng.random()
        if roll < 0.03:
            messages.append(
                {"type": "message", "subtype": "bot_message", "bot_id": "B0BENCH01", "text": "Deploy ok", "ts": ts}
            )
            continue
        if roll < 0.04:
            user = _user(rng)
            messages.append(
                {"type": "message", "subtype": "channel_join", "user": user, "text": f"<@{user}> has joined", "ts": ts}
            )
            continue
        author = _user(rng)
        links = (
            [rng.choice(LINKS).format(u=author.lower(), n=n + k) for k in range(rng.choice((1, 1, 1, 2)))]
            if roll < 0.35
            else []
        )
        message = _human(author, rng.choice(CHATTER), ts, links, in_blocks_only=bool(links) and rng.random() < 0.2)
        messages.append(message)
        if links and rng.random() < 0.5:
            message["reactions"] = [
                {"name": name, "users": users, "count": len(users)}
                for name in rng.sample(EMOJI, rng.randint(1, 3))
                for users in [sorted({_user(rng) for _ in range(rng.randint(1, 4))})]
            ]
        if rng.random() < 0.25:
            replies = []
            for k in range(rng.randint(1, 6)):
                replier = _user(rng)
                reply_ts = f"{int(ts.split('.')[0]) + 60 * (k + 1)}.{next(serial) % 1_000_000:06d}"
                text = rng.choice(REPLIES_SUBSTANTIVE if rng.random() < 0.6 else REPLIES_LIGHT)
                reply = _human(replier, text, reply_ts, [])
                reply.update(thread_ts=ts, parent_user_id=author)
                replies.append(reply)
            message.update(thread_ts=ts, reply_count=len(replies), reply_users=sorted({r["user"] for r in replies}))
            messages.extend(replies)
    return messages


def generate(root: Path, total: int, seed: int = 7) -> int:
    """Write a synthetic export of about `total` messages under `root`; return how many were written."""
    rng = random.Random(seed)
    users = [
        {
            "id": f"U{n:08d}",
            "team_id": "T0BENCH01",
            "name": f"user{n}",
            "real_name": f"Person {n}",
            "tz": "Europe/Madrid",
            "is_bot": n < BOTS,
        }
        for n in range(USERS)
    ]
    channels = [{"id": f"C{n:08d}", "name": f"channel-{n:02d}"} for n in range(CHANNELS - PRIVATE_CHANNELS)]
    groups = [{"id": f"G{n:08d}", "name": f"private-{n:02d}", "is_private": True} for n in range(PRIVATE_CHANNELS)]
    root.mkdir(parents=True)
    (root / "users.json").write_text(json.dumps(users))
    (root / "channels.json").write_text(json.dumps(channels))
    (root / "groups.json").write_text(json.dumps(groups))
    per_day = 250
    days = max(1, total // (per_day * CHANNELS))
    serial = iter(range(1, 10**12))
    written = 0
    for channel in channels + groups:
        folder = root / channel["name"]
        folder.mkdir()
        for day in range(days):
            if written >= total:
                break
            messages = _day(rng, day, min(per_day, total - written), serial)
            written += len(messages)
            name = (DAY_ZERO + timedelta(days=day)).strftime("%Y-%m-%d")
            (folder / f"{name}.json").write_text(json.dumps(messages, indent=1))
    return written


def zip_export(root: Path) -> Path:
    target = root.with_suffix(".zip")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return target


def import_once(export: Path, database_url: str) -> None:
    """Run in the child: import the export and print its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    from bot.config import Settings
    from bot.deps import Deps
    from bot.import_export import bulk_database
    from bot.services.export_import import import_export
    from bot.store.database import migrate

    settings = Settings(database_url=database_url)
    migrate(database_url)
    deps = Deps(settings=settings, db=bulk_database(settings))  # what `python -m bot import-export` opens
    started = time.perf_counter()
    report = import_export(deps, export, "T0BENCH01")
    seconds = time.perf_counter() - started
    deps.db.dispose()
    figures = {
        "messages": report.messages,
        "rows": report.new_entries,
        "seconds": seconds,
        "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "reader_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,  # the biggest finished child
    }
    print(json.dumps(figures))


def _fresh_database(base: str | None, folder: Path, size: int) -> tuple[str, callable]:  # type: ignore[valid-type]
    if not base:
        return f"sqlite:///{folder}/bench-{size}.db", lambda: None
    from sqlalchemy import create_engine, make_url, text

    name = f"more_social_bench_{size}_{os.getpid()}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, action="append", help="export size (repeatable); default 100k and 1M")
    parser.add_argument("--zip", action="store_true", help="import the zipped export instead of the folder")
    parser.add_argument(
        "--database-url", help="PostgreSQL server URL to benchmark on (default: a temporary SQLite file)"
    )
    parser.add_argument("--child", nargs=2, metavar=("EXPORT", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import_once(Path(args.child[0]), args.child[1])
        return 0
    sizes = args.messages or [100_000, 1_000_000]
    print(
        f"{'messages':>10} {'ledger rows':>12} {'export MB':>10} {'seconds':>8} {'messages/s':>11}"
        f" {'peak RSS MB':>12} {'reader RSS MB':>14}"
    )
    for size in sizes:
        work = Path(tempfile.mkdtemp(prefix="more-social-bench-"))
        try:
            written = generate(work / "export", size)
            export = zip_export(work / "export") if args.zip else work / "export"
            megabytes = sum(p.stat().st_size for p in ([export] if export.is_file() else export.rglob("*.json"))) / 1e6
            url, drop = _fresh_database(args.database_url, work, size)
            try:
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(export), url], check=True, capture_output=True, text=True
                )
            finally:
                drop()
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            rate = figures["messages"] / figures["seconds"]
            print(
                f"{written:>10,} {figures['rows']:>12,} {megabytes:>10,.0f} {figures['seconds']:>8.1f}"
                f" {rate:>11,.0f} {figures['peak_kib'] / 1024:>12,.0f} {figures['reader_kib'] / 1024:>14,.0f}"
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
