"""Configuration: every variable validated, every problem named with where to fix it, no traceback."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import time

import pytest

from bot.cli import main
from bot.config import DEFAULT_SLACK_API_URL, WHERE_TO_GET, ConfigError, load_settings, log_handler, redact

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"}


def test_defaults_need_nothing_but_slack_secrets() -> None:
    settings = load_settings(GOOD)
    assert settings.database_url == "sqlite:///coach.db"
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.port == 3000
    assert settings.log_level == "INFO"
    assert not settings.socket_mode
    settings.require_slack()


def test_heroku_postgres_url_is_accepted_and_uses_psycopg() -> None:
    settings = load_settings({"DATABASE_URL": "postgres://u:p@db.example:5432/coach"})
    assert settings.database_url == "postgresql+psycopg://u:p@db.example:5432/coach"


def test_app_token_turns_on_socket_mode_without_signing_secret() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-A"})
    assert settings.socket_mode
    settings.require_slack()


def test_api_url_gets_a_trailing_slash() -> None:
    assert load_settings({"SLACK_API_URL": "https://slack-gov.com/api"}).slack_api_url == "https://slack-gov.com/api/"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql:///nohost"}, "DATABASE_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"WEB_CONCURRENCY": "many"}, "WEB_CONCURRENCY"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "not a secret!"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_CLIENT_ID": "123.456"}, "SLACK_CLIENT_SECRET"),
    ],
)
def test_malformed_settings_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(environ)


def test_missing_secrets_say_where_to_get_them_and_how_to_try_offline() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({}).require_slack()
    message = str(raised.value)
    assert "SLACK_BOT_TOKEN" in message and "SLACK_SIGNING_SECRET" in message
    assert "OAuth & Permissions" in message and "Signing Secret" in message
    assert "import-export --sample" in message


def test_cli_exits_non_zero_with_the_message(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    assert main(["migrate"]) == 2
    assert "DATABASE_URL" in capsys.readouterr().err


def test_python_m_bot_without_credentials_prints_help_not_a_traceback(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/coach.db"}
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "import-export --sample" in result.stderr


SOCKET_ONLY = {"SLACK_BOT_TOKEN": "xoxb-1-2-3", "SLACK_APP_TOKEN": "xapp-1-A"}


def test_serving_http_needs_the_signing_secret_even_with_an_app_token() -> None:
    settings = load_settings(SOCKET_ONLY)
    settings.require_slack()  # Socket Mode: Slack's connection is the proof, no signature to check
    with pytest.raises(ConfigError) as raised:
        settings.require_slack(serving_http=True)
    message = str(raised.value)
    assert "SLACK_SIGNING_SECRET" in message and WHERE_TO_GET["SLACK_SIGNING_SECRET"] in message
    assert "SLACK_APP_TOKEN is set" in message


@pytest.fixture
def environment_without_signing_secret(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("SLACK_SIGNING_SECRET", "SLACK_API_URL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/coach.db")
    for name, value in SOCKET_ONLY.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("environment_without_signing_secret")
def test_serve_refuses_to_start_without_the_signing_secret(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """It used to start and answer 200 to anyone: with an empty secret Bolt's check let every request through."""
    import bot.serve

    def started(*_args: object) -> int:
        raise AssertionError("serve started without SLACK_SIGNING_SECRET")

    monkeypatch.setattr(bot.serve, "serve", started)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_SIGNING_SECRET" in err and WHERE_TO_GET["SLACK_SIGNING_SECRET"] in err


@pytest.mark.usefixtures("environment_without_signing_secret")
def test_the_procfile_web_factory_refuses_to_start_without_the_signing_secret(capsys) -> None:
    from bot.wsgi import create

    with pytest.raises(SystemExit) as exited:
        create()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "SLACK_SIGNING_SECRET" in err and WHERE_TO_GET["SLACK_SIGNING_SECRET"] in err


def test_the_wsgi_app_refuses_an_empty_signing_secret(bolt_app, db) -> None:  # type: ignore[no-untyped-def]
    from bot.web import SlackWSGIApp

    with pytest.raises(ValueError, match="signing_secret"):
        SlackWSGIApp(bolt_app, db, signing_secret="")


EVERY_SECRET = {
    "DATABASE_URL": "postgres://coach:pa%40ss-word-1@db.example:5432/coach",
    "SLACK_BOT_TOKEN": "xoxb-1111-2222-bottoken",
    "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
    "SLACK_APP_TOKEN": "xapp-1-A111-apptoken",
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "clientsecretvalue99",
}
SECRET_TEXTS = (
    "pa%40ss-word-1",
    "pa@ss-word-1",
    "bottoken",
    "8f742231b10e8888abcd99yyyzzz85a5",
    "apptoken",
    "clientsecret",
)


def test_settings_repr_says_which_secrets_are_set_and_shows_none_of_them() -> None:
    settings = load_settings(EVERY_SECRET)
    for shown in (repr(settings), str(settings), f"{settings}", repr([settings])):
        for secret in SECRET_TEXTS:
            assert secret not in shown
        assert "slack_bot_token='set'" in shown and "slack_signing_secret='set'" in shown
        assert "postgresql+psycopg://coach:***@db.example:5432/coach" in shown
    assert "slack_app_token='unset'" in repr(load_settings({}))


def test_log_lines_and_tracebacks_are_scrubbed_of_secrets() -> None:
    settings = load_settings(EVERY_SECRET)
    stream = io.StringIO()
    logger = logging.Logger("bot.test_config")  # not attached to the root: only this handler sees it
    logger.addHandler(log_handler(settings, stream))
    logger.warning("connecting to %s with %s", EVERY_SECRET["DATABASE_URL"], settings)
    logger.warning(
        "any token looks like xoxb-9-9-other or xapp-9-other; the secret is %s", EVERY_SECRET["SLACK_SIGNING_SECRET"]
    )
    logger.warning("unquoted password: postgresql://coach:pa@ss-word-1@db.example/coach")
    try:
        raise RuntimeError(f"could not post with {EVERY_SECRET['SLACK_BOT_TOKEN']}")
    except RuntimeError:
        logger.exception("clientsecretvalue99 leaked into a message")
    written = stream.getvalue()
    for secret in (*SECRET_TEXTS, "other"):
        assert secret not in written
    assert "coach:***@db.example" in written and "xoxb-***" in written
    assert "Traceback" in written and "RuntimeError" in written


def test_scrubbing_a_long_hostile_line_stays_fast() -> None:
    hostile = "://a:" * 20_000 + "xoxb-" * 20_000 + "a://" * 20_000
    started = time.perf_counter()
    redact(hostile, ["s3cret"])
    assert time.perf_counter() - started < 1.0


def test_a_short_database_password_is_scrubbed_from_urls_without_blanking_words() -> None:
    settings = load_settings({"DATABASE_URL": "postgres://coach:pw@db.example/coach"})
    stream = io.StringIO()
    logger = logging.Logger("bot.test_config")
    logger.addHandler(log_handler(settings, stream))
    logger.warning("the upward path to %s", settings.database_url)
    expected = "WARNING bot.test_config: the upward path to postgresql+psycopg://coach:***@db.example/coach\n"
    assert stream.getvalue().endswith(expected)
