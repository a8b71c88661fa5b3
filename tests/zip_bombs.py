"""Hostile Slack export zips, built small on disk: a day file that unpacks to hundreds of MB, lying sizes.

Each is a real export (channels.json, users.json) around one day file written a chunk at a time, so
building one never holds its unpacked size in memory either.
"""

from __future__ import annotations

import json
import random
import struct
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MIB = 1024 * 1024
DAY_FILE = "social/2026-11-11.json"
MESSAGE = b'{"type": "message", "user": "U1", "text": "again", "ts": "1794355200.000100"},'


def zeros(size: int) -> Iterator[bytes]:
    """`size` bytes of zeros: the classic bomb, and not JSON."""
    for _ in range(size // MIB):
        yield bytes(MIB)


def repeated_messages(size: int) -> Iterator[bytes]:
    """About `size` bytes of one message repeated: valid JSON that packs as well as zeros."""
    chunk = MESSAGE * (MIB // len(MESSAGE))
    yield b"["
    for _ in range(size // len(chunk)):
        yield chunk
    yield MESSAGE.rstrip(b",") + b"]"


def bomb(
    path: Path, *, size: int = 200 * MIB, filler: Callable[[int], Iterator[bytes]] = zeros, team_id: str = "T0BOMB"
) -> Path:
    """A small zip whose one day file unpacks to `size` bytes of `filler`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "social"}]))
        archive.writestr("users.json", json.dumps([{"id": "U1", "team_id": team_id, "name": "ana"}]))
        with archive.open(DAY_FILE, "w") as day:
            for chunk in filler(size):
                day.write(chunk)
    return path


def declare_sizes(path: Path, member: str, *, file_size: int | None = None, compress_size: int | None = None) -> Path:
    """Make the zip lie about `member`: rewrite the sizes its central directory and local header declare."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    # (signature, offset of the compressed size, of the uncompressed size, of the name's length, of the name)
    for signature, packed_at, unpacked_at, name_length_at, name_at in (
        (b"PK\x01\x02", 20, 24, 28, 46),
        (b"PK\x03\x04", 18, 22, 26, 30),
    ):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            (length,) = struct.unpack_from("<H", data, start + name_length_at)
            if data[start + name_at : start + name_at + length] == name:
                if compress_size is not None:
                    struct.pack_into("<I", data, start + packed_at, compress_size)
                if file_size is not None:
                    struct.pack_into("<I", data, start + unpacked_at, file_size)
            start += 4
    path.write_bytes(data)
    return path


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Trace Python's allocations in the block; the list holds the peak, in bytes, once the block is left."""
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def many_files(path: Path, count: int, *, declare: int | None = None) -> Path:
    """A zip of `count` tiny files; `declare` makes its end record say it holds that many instead."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("channels.json", "[]")
        for n in range(count - 1):
            archive.writestr(f"social/2026-11-{n:06d}.json", "[]")
    if declare is not None:
        data = bytearray(path.read_bytes())
        struct.pack_into("<HH", data, data.rfind(b"PK\x05\x06") + 8, declare, declare)
        path.write_bytes(data)
    return path


def tiny_messages(size: int) -> Iterator[bytes]:
    """About `size` bytes of empty messages (`{}`), spaced at random so that they pack only ten times or so.

    Under every cap of the zip, it decodes into a dict per four bytes: a parsing bomb, not a zip bomb.
    """
    spacing = random.Random(15)
    chunk = b"".join(
        spacing.choice((b",{}", b", {}", b",{ }", b",\n{}")) for _ in range(20_000)
    )  # past deflate's window
    yield b"[{}"
    for _ in range(size // len(chunk)):
        yield chunk
    yield b"]"
