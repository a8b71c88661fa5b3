"""How long member text built to be slow takes to read: every reader of message and command text, worst cases.

    python bench/hostile_text.py            # the table
    python bench/hostile_text.py --check    # and exit 1 if any reader is superlinear or slow

A message's text is read before dedupe (links, substance) and a command's text before anything else, so one
pathological string costs a worker on every delivery and every retry of it. Each case is a string of about
--size characters (100 KB by default) and the same pattern at half the size; each figure is the median of
--repeats runs. Two numbers per case make the check hold on any machine:
- `vs scan`: the time over a baseline read in the same run, a `re.findall(r"[<>|:]", text)` over the same
  text (one linear pass that touches every character): a reader that stays within --max-vs-scan of it is
  doing a few passes, not one per `<`;
- `growth`: the fastest run at full size over the fastest at half size (noise only adds time). Linear code
  gives about 2, quadratic about 4.
A case over a bound is measured again (--retries) before it counts: on a shared machine one busy spell can
double a few milliseconds, while a quadratic reader stays over on every try.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.coach.commands import CommandError, parse_command
from bot.coach.messages import is_substantive, links_in
from bot.coach.settings import SETTING_NAMES, SettingError, TeamSettings, apply_setting
from bot.coach.urls import InvalidURL, validate_url

_BASELINE = re.compile(r"[<>|:]")

# Patterns repeated up to the size asked for: the shapes that made the old patterns rescan the rest of the text.
PATTERNS: dict[str, str] = {
    "<https://": "<https://",
    "<https://a|": "<https://a|",
    "<": "<",
    "|": "|",
    "<@U1|": "<@U1|",
    "<#C1|": "<#C1|",
    ":a": ":a",
    "a'": "a'",
    "&lt;": "&lt;",
    "mixed": "<https://x.com/a|<@U1|:tada: <#C1|x> &amp; |",
    "spaces after <": "< " + "a " * 20,
}


def _swallow(read: Callable[[str], object], *errors: type[Exception]) -> Callable[[str], object]:
    def run(text: str) -> object:
        try:
            return read(text)
        except errors:
            return None

    return run


def _every_setting(text: str) -> None:
    """`/coach settings <name> <text>` for each setting in turn: each reads its value its own way."""
    for name in SETTING_NAMES:
        with contextlib.suppress(SettingError):
            apply_setting(TeamSettings(), name, text)


READERS: dict[str, Callable[[str], object]] = {
    "links_in": lambda text: links_in({"text": text}),
    "is_substantive": is_substantive,
    "/coach <text>": _swallow(parse_command, CommandError),
    "/coach log post <link> <text>": _swallow(lambda t: parse_command("log post <https://x.com/a> " + t), CommandError),
    "/coach settings admins add <text>": _swallow(
        lambda t: apply_setting(TeamSettings(), "admins", "add " + t), SettingError
    ),
    "/coach settings <every name> <text>": _every_setting,
    "validate_url": _swallow(validate_url, InvalidURL),
}


def hostile(pattern: str, size: int) -> str:
    return (pattern * (size // len(pattern) + 1))[:size]


def timings(read: Callable[[str], object], texts: tuple[str, ...], repeats: int) -> list[list[float]]:
    """Seconds per run of `read` over each text, the texts taken in turn so a busy spell slows them alike."""
    runs: list[list[float]] = [[] for _ in texts]
    for _ in range(repeats):
        for times, text in zip(runs, texts, strict=True):
            start = time.perf_counter()
            read(text)
            times.append(time.perf_counter() - start)
    return runs


def measure(read: Callable[[str], object], text: str, half: str, repeats: int) -> tuple[float, float, float]:
    """(median seconds over `text`, that over the baseline scan's, growth from `half` to `text`)."""
    scan_runs, *_ = timings(_BASELINE.findall, (text,), repeats)
    full_runs, half_runs = timings(read, (text, half), repeats)
    full = statistics.median(full_runs)
    # Noise only ever adds time, so the growth compares the fastest runs; below --min-ms it is the shared
    # machine's, not the code's (a quadratic reader is over it by orders of magnitude).
    growth = min(full_runs) / max(min(half_runs), 1e-9)
    return full, full / max(statistics.median(scan_runs), 1e-9), growth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="characters per hostile text")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 if a case breaks a bound below")
    parser.add_argument("--max-growth", type=float, default=3.0, help="time at size over time at size/2")
    parser.add_argument("--min-ms", type=float, default=10.0, help="check the growth only of readers this slow")
    parser.add_argument("--max-vs-scan", type=float, default=200.0, help="time over the baseline scan's")
    parser.add_argument("--retries", type=int, default=2, help="measure a case over bound again, this many times")
    args = parser.parse_args(argv)

    print(f"{'reader':<36} {'text':<16} {'ms':>9} {'vs scan':>8} {'growth':>7}")
    failures = []
    for pattern_name, pattern in PATTERNS.items():
        text, half = hostile(pattern, args.size), hostile(pattern, args.size // 2)
        for reader_name, read in READERS.items():
            for _attempt in range(1 + args.retries):
                full, vs_scan, growth = measure(read, text, half, args.repeats)
                slow = vs_scan > args.max_vs_scan or (full * 1000 > args.min_ms and growth > args.max_growth)
                if not slow:
                    break
            mark = "  <-- over bound" if slow else ""
            print(f"{reader_name:<36} {pattern_name:<16} {full * 1000:>9.2f} {vs_scan:>8.1f} {growth:>7.2f}{mark}")
            if slow:
                failures.append((reader_name, pattern_name))
    if failures:
        print(f"{len(failures)} case(s) over bound: {failures}", file=sys.stderr)
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
