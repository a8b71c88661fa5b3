"""Run gunicorn in-process for `python -m bot serve`, with the same settings the Procfile uses."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from bot.config import Settings
from bot.runtime import build_wsgi_app


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return build_wsgi_app(self._settings)


def gunicorn_options(settings: Settings, port: int) -> dict[str, Any]:
    """Threads keep slash commands answered while another request waits on Slack or the database."""
    return {
        "bind": f"0.0.0.0:{port}",
        "workers": settings.web_concurrency,
        "threads": 4,
        "timeout": 30,
        "accesslog": "-",
        "preload_app": True,
    }


def serve(settings: Settings, port: int) -> int:
    _Gunicorn(settings, gunicorn_options(settings, port)).run()
    return 0
