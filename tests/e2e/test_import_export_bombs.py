"""Zip bombs against the real `python -m bot import-export` process: refused, exit 2 or 1, in little memory.

tracemalloc (tests/unit/test_export_archive_limits.py) sees what Python allocates in one process; this is
the operator's view: the command run as they run it, its exit code, its stderr, and the peak resident
memory of the process and of the reading processes it starts for a big export (measured by a small wrapper
around `bot.cli.main`, since that is where `getrusage` can see them both).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.store.database import Database
from tests.e2e.web_process import ROOT, subprocess_env
from tests.integration.test_export_import import counts
from tests.zip_bombs import DAY_FILE, MIB, bomb, tiny_messages, zeros

# Runs the CLI, then prints the peak RSS in KiB of this process and of its biggest child (Linux units). Its
# own peak is VmHWM, not getrusage: Linux carries the forked copy's peak over exec, so RUSAGE_SELF would
# report the test process's own size (pytest's, whatever it has loaded by then).
MEASURED_CLI = """
import re, resource, sys
from pathlib import Path
from bot.cli import main
if __name__ == "__main__":
    code = main(sys.argv[1:])
    own = re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1)
    print(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.exit(code)
"""
# A process that held the 200 MB day file whole, or decoded the tiny values, would pass this whatever else it held.
PEAK_RSS_MB = 200


def import_export(tmp_path: Path, database_url: str, *args: str) -> tuple[int, str, int]:
    """Run the command; return its exit code, its stderr and the peak RSS in MB of its biggest process."""
    wrapper = tmp_path / "measured_cli.py"
    wrapper.write_text(MEASURED_CLI)
    done = subprocess.run(
        [sys.executable, str(wrapper), "import-export", *args],
        cwd=ROOT,
        env=subprocess_env(DATABASE_URL=database_url, LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    own, children = (int(kib) for kib in done.stdout.split()[-2:])
    return done.returncode, done.stderr, max(own, children) // 1024


@pytest.fixture(scope="module")
def zeros_bomb(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    return bomb(tmp_path_factory.mktemp("bombs") / "export.zip", size=200 * MIB, filler=zeros)


def test_a_zip_bomb_is_refused_by_the_command_from_its_directory(
    zeros_bomb: Path, tmp_path: Path, db: Database, database_url: str
) -> None:
    code, err, peak_mb = import_export(tmp_path, database_url, str(zeros_bomb))

    assert code == 2, err
    assert err.startswith(f"Nothing was imported: export.zip: {DAY_FILE} unpacks to 200 MB")
    assert err.rstrip().endswith("raise the cap with --max-ratio")
    assert counts(db) == dict.fromkeys(counts(db), 0)
    assert peak_mb < PEAK_RSS_MB


def test_with_the_cap_raised_the_reading_processes_refuse_it_a_chunk_in(
    zeros_bomb: Path, tmp_path: Path, db: Database, database_url: str
) -> None:
    """200 MB of day file is big enough to be read by other processes: they too unpack a chunk, not the file."""
    code, err, peak_mb = import_export(tmp_path, database_url, str(zeros_bomb), "--max-ratio", "5000")

    assert code == 1, err
    assert err.startswith(f"Nothing was imported: {DAY_FILE}: its first 1,048,576 bytes do not start a JSON list")
    assert counts(db) == dict.fromkeys(counts(db), 0)
    assert peak_mb < PEAK_RSS_MB


def test_a_small_zip_of_tiny_values_under_every_zip_cap_is_refused_before_it_is_decoded(
    tmp_path: Path, db: Database, database_url: str
) -> None:
    """40 MB of `{}` packs ten times smaller, under the ratio cap: decoding it whole took a gigabyte and more."""
    path = bomb(tmp_path / "export.zip", size=40 * MIB, filler=tiny_messages)  # read by other processes too
    assert path.stat().st_size < 16 * MIB

    code, err, peak_mb = import_export(tmp_path, database_url, str(path))

    assert code == 1, err
    assert err.startswith(f"Nothing was imported: {DAY_FILE} holds up to ")
    assert "JSON values; a Slack export file holds fewer than 8,000,000" in err
    assert counts(db) == dict.fromkeys(counts(db), 0)
    assert peak_mb < PEAK_RSS_MB
