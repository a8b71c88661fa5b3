"""Configuration from the environment, validated once, into a frozen Settings object.

Nothing here reads the environment at import time: the CLI calls `load_dotenv()` and then
`load_settings(os.environ)`, and tests pass plain dictionaries. A bad or missing value raises
`ConfigError` with one sentence that names the variable and where to get its value.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import TextIO
from urllib.parse import unquote, urlsplit

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///coach.db"
DEFAULT_PORT = 3000
DEFAULT_WEB_CONCURRENCY = 2  # gunicorn worker processes (each with 4 threads); Heroku sets WEB_CONCURRENCY
APP_SETTINGS_PAGE = "https://api.slack.com/apps (your More Social app, created from manifest.yml)"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Where each Slack secret lives on the app's settings page.
WHERE_TO_GET = {
    "SLACK_BOT_TOKEN": f"{APP_SETTINGS_PAGE} > OAuth & Permissions > Bot User OAuth Token (starts with xoxb-)",
    "SLACK_SIGNING_SECRET": f"{APP_SETTINGS_PAGE} > Basic Information > App Credentials > Signing Secret",
    "SLACK_APP_TOKEN": (
        f"{APP_SETTINGS_PAGE} > Basic Information > App-Level Tokens "
        "(create one with the connections:write scope; starts with xapp-)"
    ),
    "SLACK_CLIENT_ID": f"{APP_SETTINGS_PAGE} > Basic Information > App Credentials > Client ID",
    "SLACK_CLIENT_SECRET": f"{APP_SETTINGS_PAGE} > Basic Information > App Credentials > Client Secret",
}

_TOKEN_PREFIXES = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}
_SIGNING_SECRET = re.compile(r"^[0-9a-zA-Z]{16,128}$")


SECRET_FIELDS = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_client_secret")
REDACTED = "***"


def redact_database_url(url: str) -> str:
    """The URL with its password replaced by ***, as SQLAlchemy shows an engine's URL."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}{REDACTED}@{host}").geturl()


class ConfigError(Exception):
    """A setting is missing or malformed; the message is meant to be printed as it is."""


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the bot reads from its environment, already validated.

    Its repr says only whether each secret is set, and hides the database password, so a settings object
    that reaches a log line, a traceback or a test failure gives nothing away.
    """

    database_url: str
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    port: int = DEFAULT_PORT
    web_concurrency: int = DEFAULT_WEB_CONCURRENCY
    log_level: str = "INFO"

    def __repr__(self) -> str:
        shown = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in SECRET_FIELDS:
                value = "set" if value else "unset"
            elif field.name == "database_url":
                value = redact_database_url(value)
            shown.append(f"{field.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def secrets(self) -> list[str]:
        """The secret values configured (tokens, secrets, the database password), for logs to scrub."""
        values = [getattr(self, name) for name in SECRET_FIELDS]
        password = urlsplit(self.database_url).password
        values += [password, unquote(password)] if password else []
        return [value for value in values if value]

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is on exactly when an app-level token is configured."""
        return bool(self.slack_app_token)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_slack(self, *, serving_http: bool | None = None) -> None:
        """Raise unless the settings needed to talk to Slack in the chosen run mode are present.

        Serving HTTP (`serve`, the Procfile's web process) needs the signing secret even when SLACK_APP_TOKEN
        is set: without it the bot cannot tell Slack's requests from anyone's. `serving_http` defaults to the
        mode `python -m bot` picks (HTTP unless SLACK_APP_TOKEN is set).
        """
        over_http = not self.socket_mode if serving_http is None else serving_http
        needed = ["SLACK_BOT_TOKEN"] + (["SLACK_SIGNING_SECRET"] if over_http else [])
        present = {"SLACK_BOT_TOKEN": self.slack_bot_token, "SLACK_SIGNING_SECRET": self.slack_signing_secret}
        missing = [name for name in needed if not present[name]]
        if missing:
            note = None
            if "SLACK_SIGNING_SECRET" in missing and self.socket_mode:
                note = (
                    "SLACK_APP_TOKEN is set, but this command serves Slack over HTTP, which needs the signing secret "
                    "to verify every request (run `python -m bot` alone for Socket Mode)."
                )
            raise ConfigError(_missing_message(missing, note))


def _missing_message(missing: list[str], note: str | None = None) -> str:
    lines = [f"More Social can't start: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set."]
    if note:
        lines.append(note)
    for name in missing:
        lines.append(f"  {name}: {WHERE_TO_GET[name]}")
    lines += [
        "Put them in a .env file beside the project (see .env.example) or in the environment.",
        "No Slack app yet? Try the bot offline first:",
        "  python -m bot import-export --sample && python -m bot report --period all",
    ]
    return "\n".join(lines)


def _clean(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _token(environ: Mapping[str, str], name: str) -> str | None:
    value = _clean(environ, name)
    prefix = _TOKEN_PREFIXES[name]
    if value is not None and not value.startswith(prefix):
        raise ConfigError(f"{name} should start with {prefix!r}. Copy it from {WHERE_TO_GET[name]}.")
    return value


def normalize_database_url(url: str) -> str:
    """Accept Heroku's `postgres://` and plain `postgresql://` and select the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _database_url(environ: Mapping[str, str]) -> str:
    url = normalize_database_url(_clean(environ, "DATABASE_URL") or DEFAULT_DATABASE_URL)
    example = "e.g. sqlite:///coach.db or postgresql://user:password@host:5432/dbname"
    if url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return url
    if url.startswith("postgresql+psycopg://"):
        parts = urlsplit(url)
        if not parts.hostname and "host=" not in (parts.query or ""):
            raise ConfigError(f"DATABASE_URL has no host: {example}.")
        return url
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ConfigError(f"DATABASE_URL must be a SQLite or PostgreSQL URL ({example}); {scheme!r} is not supported.")


def _api_url(environ: Mapping[str, str]) -> str:
    url = _clean(environ, "SLACK_API_URL") or DEFAULT_SLACK_API_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"SLACK_API_URL must be an http(s) URL such as {DEFAULT_SLACK_API_URL} "
            "(GovSlack: https://slack-gov.com/api/); leave it unset for slack.com."
        )
    return url if url.endswith("/") else url + "/"


def _port(environ: Mapping[str, str]) -> int:
    raw = _clean(environ, "PORT")
    if raw is None:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PORT must be a number from 1 to 65535, not {raw!r}.")
    return int(raw)


def _web_concurrency(environ: Mapping[str, str]) -> int:
    raw = _clean(environ, "WEB_CONCURRENCY")
    if raw is None:
        return DEFAULT_WEB_CONCURRENCY
    if not raw.isdigit() or not 0 < int(raw) <= 64:
        raise ConfigError(f"WEB_CONCURRENCY must be a number of worker processes from 1 to 64, not {raw!r}.")
    return int(raw)


def _log_level(environ: Mapping[str, str]) -> str:
    raw = (_clean(environ, "LOG_LEVEL") or "INFO").upper()
    if raw not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}.")
    return raw


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and validate every setting that is present; presence of Slack secrets is checked by the caller.

    Commands that never talk to Slack (migrate, report, import-export) run without Slack credentials,
    so only `require_slack()` insists on them.
    """
    signing_secret = _clean(environ, "SLACK_SIGNING_SECRET")
    if signing_secret is not None and not _SIGNING_SECRET.match(signing_secret):
        raise ConfigError(
            "SLACK_SIGNING_SECRET doesn't look like a signing secret (letters and digits only). "
            f"Copy it from {WHERE_TO_GET['SLACK_SIGNING_SECRET']}."
        )
    client_id = _clean(environ, "SLACK_CLIENT_ID")
    client_secret = _clean(environ, "SLACK_CLIENT_SECRET")
    if bool(client_id) != bool(client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(f"{missing} must be set together with its pair. Copy it from {WHERE_TO_GET[missing]}.")
    return Settings(
        database_url=_database_url(environ),
        slack_api_url=_api_url(environ),
        slack_bot_token=_token(environ, "SLACK_BOT_TOKEN"),
        slack_signing_secret=signing_secret,
        slack_app_token=_token(environ, "SLACK_APP_TOKEN"),
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        port=_port(environ),
        web_concurrency=_web_concurrency(environ),
        log_level=_log_level(environ),
    )


# At DEBUG only these loggers' DEBUG lines are written. Slack's libraries log whole payloads and Web API request
# and response bodies (members' notes, message text) at DEBUG, under names we do not choose (Bolt names its
# listener loggers after the app), so every other library's DEBUG lines are dropped even when LOG_LEVEL=DEBUG.
DEBUG_LOGGERS = ("bot", "alembic")
MIN_SCRUBBED_LENGTH = 6
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Slack tokens, and the password of any URL with credentials. Bounded, so scrubbing a long line stays linear.
_SECRET_SHAPES = re.compile(r"\b(xox[a-z]|xapp)-[0-9A-Za-z-]{1,300}|(?<=://)([^:/@\s]{0,256}):[^@/\s]{1,256}@")


class RedactingFormatter(logging.Formatter):
    """Scrub secrets from every formatted line, its traceback included: tokens, the database password, and
    the configured secret values wherever they appear.
    """

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        # A password of a few letters would blank those letters in every word; in a URL the shape still catches it.
        self._secrets = sorted(
            {secret for secret in secrets if len(secret) >= MIN_SCRUBBED_LENGTH}, key=len, reverse=True
        )

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self._secrets)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with Slack tokens, URL passwords and each of `secrets` replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return _SECRET_SHAPES.sub(_redacted_shape, text)


def _redacted_shape(match: re.Match[str]) -> str:
    if match.group(1):
        return f"{match.group(1)}-{REDACTED}"
    return f"{match.group(2)}:{REDACTED}@"


class OnlyOurDebugLines(logging.Filter):
    """Let DEBUG records through only from DEBUG_LOGGERS; INFO and above pass from everyone."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return any(record.name == name or record.name.startswith(name + ".") for name in DEBUG_LOGGERS)


def log_handler(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """The handler every process logs through (to stderr): secrets scrubbed, other libraries' DEBUG lines dropped."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, settings.secrets()))
    handler.addFilter(OnlyOurDebugLines())
    return handler


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Log to stderr (or `stream`) at the configured level (Heroku-style platforms collect stderr)."""
    level = getattr(logging, settings.log_level)
    logging.basicConfig(level=level, handlers=[log_handler(settings, stream)])
    # Alembic narrates every migration step and plugin at INFO: only worth seeing when debugging.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING) if level > logging.DEBUG else level)
