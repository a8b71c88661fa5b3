"""Zip bombs and lying zips are refused before they are unpacked, or a chunk into it, in little memory."""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services import export_archive
from bot.services.export_archive import (
    MAX_FILE_VALUES,
    ArchiveLimitError,
    ArchiveLimits,
    ExportArchive,
    ExportChannel,
    ExportError,
    SeveralTeamsError,
)
from tests.unit.test_export_archive import SAMPLE, minimal_export, zip_folder
from tests.zip_bombs import DAY_FILE, MIB, bomb, declare_sizes, many_files, peak_memory, repeated_messages, zeros

SOCIAL = ExportChannel("C1", "social", is_private=False)
# However big the bomb, reading it may cost no more than this: its 200 MB unpacked would not fit.
MODEST_PEAK = 64 * MIB


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """The 200 MB day files, zipped: built once, each a few hundred KB on disk."""
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "zeros": bomb(folder / "zeros.zip", filler=zeros),
        "messages": bomb(folder / "messages.zip", filler=repeated_messages),
    }


def read_all(path: Path, limits: ArchiveLimits | None = None) -> None:
    with ExportArchive(path, limits) as archive:
        archive.users()
        for channel, member in archive.day_files():
            archive.messages(channel, member)


@pytest.mark.parametrize("filler", ["zeros", "messages"])
def test_a_small_zip_that_unpacks_to_200_mb_is_refused_from_its_directory(bombs, filler):
    assert bombs[filler].stat().st_size < MIB

    with peak_memory() as peak, pytest.raises(ArchiveLimitError) as refused:
        read_all(bombs[filler])

    assert refused.value.limit == "max_ratio"
    assert str(refused.value).startswith(f"{bombs[filler].name}: {DAY_FILE} unpacks to 200 MB from ")
    assert str(refused.value).endswith("more than the cap of 200 times")
    assert peak[0] < MODEST_PEAK


def test_with_the_ratio_cap_raised_a_bomb_of_zeros_is_refused_at_its_first_chunk(bombs):
    with peak_memory() as peak, pytest.raises(ExportError, match=r"first 1,048,576 bytes do not start a JSON list"):
        read_all(bombs["zeros"], ArchiveLimits(max_ratio=10_000))

    assert peak[0] < MODEST_PEAK


@pytest.mark.parametrize(
    ("limits", "limit", "message"),
    [
        (
            ArchiveLimits(max_ratio=10_000, max_uncompressed_bytes=100 * MIB),
            "max_uncompressed_bytes",
            r"zeros\.zip unpacks to 200 MB, more than the cap of 100 MB",
        ),
        (ArchiveLimits(max_entries=2), "max_entries", r"zeros\.zip holds 3 files, more than the cap of 2"),
    ],
    ids=["uncompressed size", "entries"],
)
def test_each_cap_is_checked_before_anything_is_unpacked(bombs, limits, limit, message):
    with peak_memory() as peak, pytest.raises(ArchiveLimitError, match=message) as refused:
        ExportArchive(bombs["zeros"], limits)

    assert refused.value.limit == limit
    assert peak[0] < MODEST_PEAK


def test_a_zip_that_declares_its_day_file_small_is_unpacked_no_further_than_declared(bombs, tmp_path):
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bombs["messages"].read_bytes())
    declare_sizes(lying, DAY_FILE, file_size=1000)  # under every cap: only unpacking can tell

    with ExportArchive(lying) as archive:
        with peak_memory() as peak, pytest.raises(ExportError, match=rf"{DAY_FILE}: cannot be unpacked \(Bad CRC-32"):
            archive.messages(SOCIAL, DAY_FILE)
        assert archive.users()[0].id == "U1"  # the files that tell the truth still read

    assert peak[0] < MODEST_PEAK


def test_a_zip_that_declares_its_day_file_packed_large_is_measured_by_the_room_it_has(bombs, tmp_path):
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bombs["zeros"].read_bytes())
    declare_sizes(lying, DAY_FILE, compress_size=200 * MIB)  # packed as large as it unpacks: a ratio of 1

    with pytest.raises(ArchiveLimitError, match=rf"{DAY_FILE} unpacks to 200 MB from \d") as refused:
        ExportArchive(lying)

    assert refused.value.limit == "max_ratio"


def test_small_files_may_pack_well_and_a_real_export_passes_every_cap(tmp_path):
    root = tmp_path / "export"
    (root / "social").mkdir(parents=True)
    (root / "channels.json").write_text(json.dumps([{"id": "C1", "name": "social"}]))
    (root / "social" / "2026-11-11.json").write_bytes(b"[" + b" " * (MIB - 100) + b"]")  # packs a thousand times

    with ExportArchive(zip_folder(root, tmp_path / "small.zip")) as archive:
        assert archive.messages(SOCIAL, "social/2026-11-11.json") == []
    read_all(zip_folder(SAMPLE, tmp_path / "sample.zip"), ArchiveLimits(max_ratio=20, max_entries=30))


def test_an_unpacked_folder_is_not_held_to_the_zip_caps():
    read_all(SAMPLE, ArchiveLimits(max_uncompressed_bytes=1, max_entries=1, max_ratio=1))


def test_the_errors_cross_from_a_reading_process_as_they_were_raised():
    for error in (
        ArchiveLimitError("big.zip holds 3 files, more than the cap of 2", "max_entries"),
        SeveralTeamsError(("T1", "T2")),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and copy.__dict__ == error.__dict__


def forbid_reading_the_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, fail the test if zipfile gets to read a central directory (an object per file)."""

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the central directory was read")

    monkeypatch.setattr(export_archive.zipfile, "ZipFile", refuse)


def test_too_many_files_are_refused_from_the_end_record_before_the_directory_is_read(tmp_path, monkeypatch):
    path = many_files(tmp_path / "many.zip", 150)
    forbid_reading_the_directory(monkeypatch)

    with pytest.raises(ArchiveLimitError, match=r"many\.zip holds 150 files, more than the cap of 100") as refused:
        ExportArchive(path, ArchiveLimits(max_entries=100))

    assert refused.value.limit == "max_entries"


def test_an_end_record_that_undercounts_is_held_to_its_directory_size(tmp_path, monkeypatch):
    path = many_files(tmp_path / "many.zip", 1000, declare=1)
    forbid_reading_the_directory(monkeypatch)

    with pytest.raises(
        ArchiveLimitError, match=r"many\.zip has a directory of [\d,]+ bytes, room for more than the cap"
    ):
        ExportArchive(path, ArchiveLimits(max_entries=100))


def test_an_end_record_that_undercounts_a_little_is_caught_by_counting_the_directory(tmp_path):
    path = many_files(tmp_path / "many.zip", 150, declare=1)

    with pytest.raises(ArchiveLimitError, match=r"many\.zip holds 150 files, more than the cap of 100"):
        ExportArchive(path, ArchiveLimits(max_entries=100))
    with ExportArchive(path, ArchiveLimits(max_entries=150)) as archive:  # zipfile reads it whole, as Slack's
        assert archive.channels() == []


def test_a_zip64_end_record_is_read_for_its_count(tmp_path, monkeypatch):
    path = many_files(tmp_path / "many.zip", 0x10000 + 10)  # more than the classic end record can count
    forbid_reading_the_directory(monkeypatch)

    with pytest.raises(ArchiveLimitError, match=r"holds 65,546 files, more than the cap of 65,535"):
        ExportArchive(path, ArchiveLimits(max_entries=0xFFFF))


@pytest.fixture(scope="module")
def small_zip(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """A small export zipped: its headers are much of it, so a corruption often lands in one."""
    root = minimal_export(tmp_path_factory.mktemp("small") / "export")
    (root / "groups.json").write_text(json.dumps([{"id": "G1", "name": "private-social"}]))
    return zip_folder(root, root.with_suffix(".zip"))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_corrupted_zip_is_read_or_refused_with_an_export_error_never_a_crash(small_zip, tmp_path, data):
    corrupted = bytearray(small_zip.read_bytes())
    for _ in range(data.draw(st.integers(1, 6), label="changes")):
        at = data.draw(st.integers(0, len(corrupted) - 1), label="at")
        patch = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
        corrupted[at : at + len(patch)] = patch
    path = tmp_path / "corrupted.zip"
    path.write_bytes(bytes(corrupted))

    with contextlib.suppress(ExportError):
        read_all(path)


def tiny_values(value: bytes, count: int) -> bytes:
    return b"[" + (value + b",") * (count - 1) + value + b"]"


@pytest.mark.parametrize(
    ("file", "value"),
    [("social/2026-11-20.json", b"{}"), ("social/2026-11-20.json", b"1"), ("users.json", b'"a"')],
    ids=["empty messages", "numbers", "strings in users.json"],
)
def test_a_file_of_tiny_values_is_refused_before_it_is_decoded(tmp_path, file, value):
    root = minimal_export(tmp_path / "export")
    (root / file).write_bytes(tiny_values(value, MAX_FILE_VALUES + 1))

    with peak_memory() as peak, pytest.raises(ExportError, match=r"holds up to [\d,]+ JSON values; a Slack export"):
        read_all(root)

    assert peak[0] < MODEST_PEAK  # the file's own bytes; decoding it would take a dict or a pointer per value


def test_the_values_cap_is_counted_from_commas_and_brackets(tmp_path, monkeypatch):
    monkeypatch.setattr(export_archive, "MAX_FILE_VALUES", 100)
    root = minimal_export(tmp_path / "export")
    day = root / "social" / "2026-11-20.json"

    day.write_bytes(tiny_values(b'{"ts": "1794182400.000100"}', 50))  # a list of 50 objects, 49 commas: 100
    read_all(root)
    day.write_bytes(tiny_values(b'{"ts": "1794182400.000100"}', 51))
    with pytest.raises(ExportError, match=r"social/2026-11-20\.json holds up to 102 JSON values"):
        read_all(root)


def test_files_that_share_their_data_are_refused(tmp_path):
    """The overlapping zip bomb: many directory entries, one packed stream, each unpacking it again."""
    path = tmp_path / "overlap.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "social"}]))
        archive.writestr("social/2026-11-11.json", "[]")
        archive.writestr("social/2026-11-12.json", "[]")
    data = bytearray(path.read_bytes())
    first = data.find(b"PK\x01\x02")
    last = data.rfind(b"PK\x01\x02")
    data[last + 42 : last + 46] = data[first + 42 : first + 46]  # the last entry's header offset: the first's
    path.write_bytes(data)

    with pytest.raises(ExportError, match=r"overlap\.zip: channels\.json, social/2026-11-12\.json share their data"):
        ExportArchive(path)


def test_unpacking_stops_at_the_chunk_that_passes_the_declared_size():
    """zipfile itself stops at the declared size; this holds even for a reader that does not (counted here)."""
    endless = io.BytesIO(b"[" + b" " * (5 * MIB))

    with pytest.raises(ExportError, match=r"x\.json unpacks to more than the 1,048,576 bytes the zip declares"):
        export_archive._unpack("x.json", endless, MIB)

    assert endless.tell() == 2 * MIB  # one chunk past the declared size, never the rest


def test_many_small_files_that_pack_too_well_together_are_refused(tmp_path):
    """Each day file is under a MB, too small for its own ratio to tell; together they pack a thousand times."""
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "social"}]))
        for day in range(1, 29):
            archive.writestr(f"social/2026-02-{day:02d}.json", b"[" + b" " * (MIB // 2) + b"]")

    with pytest.raises(
        ArchiveLimitError, match=r"many\.zip unpacks to 14 MB from [\d,]+ bytes, [\d,]+ times"
    ) as refused:
        ExportArchive(path)

    assert refused.value.limit == "max_ratio"
    with ExportArchive(path, ArchiveLimits(max_ratio=10_000)) as archive:
        assert archive.count_day_files() == 28
