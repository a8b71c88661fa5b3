"""`python -m bot doctor`: what a first-time operator reads, for a healthy setup and for each usual mistake."""

from __future__ import annotations

import io
from dataclasses import replace

from bot.config import Settings
from bot.doctor import run_doctor
from tests.slack_stub import SlackStub


def _doctor(settings: Settings) -> tuple[int, str]:
    out = io.StringIO()
    return run_doctor(settings, out=out), out.getvalue()


def test_a_healthy_setup_passes_every_check(settings: Settings, slack: SlackStub) -> None:
    code, report = _doctor(settings)
    assert code == 0, report
    assert "[FAIL]" not in report
    assert "schema is up to date" in report
    assert "bot token works: more_social in Acme Social (T0ACME001)" in report
    assert "every scope manifest.yml asks for" in report
    assert [call.method for call in slack.calls] == ["auth.test"]


def test_missing_scopes_are_named(settings: Settings, slack: SlackStub) -> None:
    real = slack._answer

    def fewer_scopes(method, content_type, raw, headers):  # type: ignore[no-untyped-def]
        status, extra, body = real(method, content_type, raw, headers)
        if method == "auth.test":
            extra = {"x-oauth-scopes": "chat:write,commands"}
        return status, extra, body

    slack._answer = fewer_scopes  # type: ignore[method-assign]
    code, report = _doctor(settings)
    assert code == 1
    assert "lacks scopes from manifest.yml: channels:history, channels:read" in report


def test_a_refused_token_and_missing_secret_are_failures(settings: Settings, slack: SlackStub) -> None:
    slack.respond("auth.test", lambda _args: {"ok": False, "error": "invalid_auth"})
    code, report = _doctor(replace(settings, slack_signing_secret=None))
    assert code == 1
    assert "auth.test refused the bot token (invalid_auth)" in report
    assert "[FAIL] SLACK_SIGNING_SECRET is not set" in report


def test_an_unmigrated_or_unreachable_database_is_reported(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, report = _doctor(replace(settings, database_url=f"sqlite:///{tmp_path}/empty.db", slack_bot_token=None))
    assert code == 1
    assert "database schema is at nothing" in report and "python -m bot migrate" in report

    code, report = _doctor(
        replace(settings, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", slack_bot_token=None)
    )
    assert code == 1
    assert "does not answer" in report
