"""Reading an export into ledger rows, here or in other processes: no database, only the day files."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot
from bot.coach.kinds import Kind
from bot.services.export_archive import ExportArchive, ExportChannel, ExportError
from bot.services.export_reader import (
    COUNTERPART,
    USER,
    ReadingPlan,
    read_day_files,
    reading_processes,
    split_by_channel,
)
from bot.store.ledger import BULK_COLUMNS, SHARED_COLUMNS

SAMPLE = Path(bot.__file__).parent / "data" / "sample_export"
MALFORMED = Path(__file__).parents[1] / "fixtures" / "export_malformed"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KIND = BULK_COLUMNS.index("kind")


def plan_for(path: Path, *, driver: str | None = None, opted_out: frozenset[str] = frozenset()) -> ReadingPlan:
    with ExportArchive(path) as archive:
        day_files = tuple(archive.day_files())
    return ReadingPlan(path, day_files, "T0READ001", "Europe/Madrid", NOW, None, frozenset(), opted_out, driver)


def export(root: Path, days: dict[str, list[dict]]) -> Path:
    (root / "social").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "social"}]))
    for day, messages in days.items():
        (root / "social" / f"{day}.json").write_text(json.dumps(messages))
    return root


LINK = {"type": "message", "user": "U1", "text": "<https://blog.example.com/a>", "ts": "1795474800.000100"}  # 23:00 UTC


def reply(user: str, text: str, ts: str, thread_ts: str) -> dict:
    return {"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": thread_ts, "parent_user_id": "U1"}


def test_rows_come_in_bulk_column_order_with_local_day_and_hour(tmp_path: Path) -> None:
    comment = reply("U2", "This is the clearest explanation I have read", "1795478400.000200", LINK["ts"])
    plan = plan_for(export(tmp_path, {"2026-11-23": [comment, LINK]}))

    (day,) = read_day_files(plan)

    rows = [dict(zip(BULK_COLUMNS, row, strict=True)) for row in day.rows]
    assert [(row["kind"], row["user_id"], row["counterpart"]) for row in rows] == [
        ("link", "U1", ""),
        ("comment", "U2", "U1"),
    ]
    assert (rows[0]["day"].isoformat(), rows[0]["hour"]) == ("2026-11-24", 0)  # midnight in Madrid
    assert (day.messages, day.links, day.comments, day.likes, day.replies) == (2, 1, 1, 0, [])


def test_a_reply_to_a_parent_the_reader_never_saw_is_left_for_the_store_to_place(tmp_path: Path) -> None:
    parent_elsewhere = "1790000000.000100"
    messages = [
        LINK,
        reply("U2", "+1", "1795478400.000200", parent_elsewhere),
        {**LINK, "ts": "1795478400.000300", "text": "<https://x.com/ana/status/9>"},
    ]
    plan = plan_for(export(tmp_path, {"2026-11-23": messages}))

    (day,) = read_day_files(plan)

    (waiting,) = day.replies
    assert (waiting.position, waiting.thread_ts, waiting.kind) == (1, parent_elsewhere, Kind.LIKE)
    assert (waiting.row[USER], waiting.row[COUNTERPART]) == ("U2", "")
    assert [row[KIND] for row in day.rows] == ["link", "link"]
    assert day.likes == 0  # counted once placed


def test_members_who_opted_out_leave_no_row_and_no_reaction(tmp_path: Path) -> None:
    liked = {**LINK, "reactions": [{"name": "tada", "users": ["U2", "U3"], "count": 2}]}
    plan = plan_for(export(tmp_path, {"2026-11-23": [liked]}), opted_out=frozenset({"U3"}))

    (day,) = read_day_files(plan)

    assert [(row[KIND], row[USER]) for row in day.rows] == [("link", "U1"), ("like", "U2")]
    assert day.reactions == [("T0READ001", "C1", LINK["ts"], "U2", "tada")]


def test_rows_for_a_bulk_write_are_encoded_for_the_driver(tmp_path: Path) -> None:
    path = export(tmp_path, {"2026-11-23": [LINK]})

    (plain,) = read_day_files(plan_for(path))
    (encoded,) = read_day_files(plan_for(path, driver="sqlite+pysqlite"))

    occurred, day = BULK_COLUMNS.index("occurred_at"), BULK_COLUMNS.index("day")
    assert plain.rows[0][occurred] == datetime(2026, 11, 23, 23, 0, 0, 100, tzinfo=UTC)
    assert (encoded.rows[0][occurred], encoded.rows[0][day]) == ("2026-11-23 23:00:00.000100", "2026-11-24")
    # On SQLite what the whole write shares is written into the INSERT, not into every row.
    assert len(plain.rows[0]) == len(BULK_COLUMNS) > len(encoded.rows[0]) == len(BULK_COLUMNS) - len(SHARED_COLUMNS)


def test_channels_are_split_whole_and_in_order_between_readers() -> None:
    plan = plan_for(SAMPLE)

    parts = split_by_channel(plan, 2)

    assert len(parts) == 2
    for part in parts:  # each of its channels whole, in order
        for channel in {channel for channel, _ in part.day_files}:
            assert [f for f in part.day_files if f[0] == channel] == [f for f in plan.day_files if f[0] == channel]
    assert sorted(m for part in parts for _, m in part.day_files) == sorted(m for _, m in plan.day_files)
    assert len(split_by_channel(plan, 8)) == 3  # never more readers than channels


def test_other_processes_read_what_this_one_reads() -> None:
    plan = plan_for(SAMPLE, driver="sqlite+pysqlite")
    here = list(read_day_files(plan))

    with reading_processes(2) as readers:
        there = list(readers.read(plan))

    assert rows_of(there) == rows_of(here)
    assert sum(day.messages for day in there) == sum(day.messages for day in here) == 77


def rows_of(days: list) -> list:  # type: ignore[type-arg]
    return sorted(row for day in days for row in day.rows)


def test_readers_left_without_a_channel_stop_and_the_others_read_everything() -> None:
    plan = plan_for(SAMPLE, driver="sqlite+pysqlite")  # three channels

    with reading_processes(5) as readers:
        there = list(readers.read(plan))

    assert rows_of(there) == rows_of(list(read_day_files(plan)))
    assert sum(day.messages for day in there) == 77


def test_readers_started_and_never_given_a_plan_are_stopped() -> None:
    with reading_processes(2) as readers:
        started = list(readers._readers)
        assert all(reader.is_alive() for reader in started)

    assert not any(reader.is_alive() for reader in started)


def test_a_malformed_day_file_read_elsewhere_is_refused_with_its_name() -> None:
    with (
        pytest.raises(ExportError, match=r"social/2026-11-11\.json: bad JSON"),
        reading_processes(2) as readers,
    ):
        list(readers.read(plan_for(MALFORMED)))


def test_a_reader_that_fails_says_why() -> None:
    missing = ExportChannel("C404", "nowhere", is_private=False)
    plan = replace(plan_for(SAMPLE), day_files=((missing, "elsewhere/2026-11-11.json"),))

    with pytest.raises(ExportError, match="is not a day file of #nowhere"), reading_processes(1) as readers:
        list(readers.read(plan))
    with pytest.raises(RuntimeError, match="reader process"), reading_processes(1) as readers:
        list(readers.read(replace(plan_for(SAMPLE), driver="nosuchdatabase")))
