"""The gunicorn entry point: `gunicorn 'bot.wsgi:create()'` (see Procfile)."""

from __future__ import annotations

import os
import sys

from dotenv import find_dotenv, load_dotenv

from bot.config import ConfigError, configure_logging, load_settings
from bot.runtime import build_wsgi_app
from bot.web import SlackWSGIApp


def create() -> SlackWSGIApp:
    """Build the WSGI app from the environment (and .env); a bad setting exits with its message."""
    load_dotenv(find_dotenv(usecwd=True))
    try:
        settings = load_settings(os.environ)
        configure_logging(settings)
        return build_wsgi_app(settings)
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(1) from None
