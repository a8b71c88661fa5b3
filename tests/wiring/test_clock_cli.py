"""`python -m bot run-due --at ...` and `python -m bot clock`: the operator's entry points to the clock.

The concurrency test is the real thing: two separate `python -m bot run-due` processes against the same
database and the same Web API stub, started together, and exactly one summary posted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.coach.settings import TeamSettings
from bot.config import Settings
from bot.deps import Deps
from tests.coaching_world import SOCIAL, World
from tests.slack_stub import SlackStub

REPO = Path(__file__).resolve().parents[2]
AT = "2026-11-23T09:00:00+01:00"  # Monday 09:00 in Madrid: the weekly summary is due


def environment(settings: Settings) -> dict[str, str]:
    return {
        "DATABASE_URL": settings.database_url,
        "SLACK_API_URL": settings.slack_api_url,
        "SLACK_BOT_TOKEN": settings.slack_bot_token or "",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def madrid_team(deps: Deps) -> World:
    return World(deps.db).team(TeamSettings(timezone="Europe/Madrid"))


def test_two_run_due_processes_at_once_post_one_summary(
    settings: Settings, slack: SlackStub, madrid_team: World, tmp_path: Path
) -> None:
    env = {**os.environ, **environment(settings), "PYTHONPATH": str(REPO)}
    env.pop("SLACK_APP_TOKEN", None)
    command = [sys.executable, "-m", "bot", "run-due", "--at", AT]
    processes = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    [summary] = slack.messages()
    assert summary["channel"] == SOCIAL and summary["text"].startswith("📊 Your week on social · 16–22 Nov")
    printed = sorted(out for out, _err in outputs)
    assert printed[0].startswith("Nothing was due at 2026-11-23T09:00:00+01:00")
    assert printed[1].startswith("sent: summary:2026-W48 for T0ACME001 in C0SOCIAL01 (ts ")
    row = madrid_team.delivery("summary:2026-W48")
    assert row is not None and row.status == "sent" and row.message_ts and row.message_ts in printed[1]


def test_run_due_prints_what_it_sent_and_replaying_the_instant_sends_nothing(
    settings: Settings, slack: SlackStub, madrid_team: World, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    for name, value in environment(settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)

    assert main(["run-due", "--at", AT]) == 0
    first = capsys.readouterr().out
    assert main(["run-due", "--at", AT]) == 0
    second = capsys.readouterr().out

    assert first.startswith("sent: summary:2026-W48 for T0ACME001 in C0SOCIAL01 (ts 1763900000.")
    assert second == "Nothing was due at 2026-11-23T09:00:00+01:00 (or it was sent already).\n"
    assert len(slack.messages()) == 1


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("2026-11-23T09:00:00", "has no time zone; add its offset, like 2026-11-23T09:00:00+01:00"),
        ("next monday", "isn't an ISO 8601 timestamp"),
    ],
)
def test_run_due_needs_an_aware_iso_instant(at: str, says: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exit_:
        main(["run-due", "--at", at])
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err


def test_the_clock_needs_the_bot_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/clock.db")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)

    assert main(["clock"]) == 2
    assert "The clock can't post to Slack: SLACK_BOT_TOKEN is not set." in capsys.readouterr().err
