"""What the web process does once it has started, before gunicorn forks its workers."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.runtime import build_wsgi_app


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_start_up_objects_are_left_out_of_later_full_collections(settings: Settings) -> None:
    """Otherwise every other `/coach me` on a big team paid for a walk through all of them (docs/performance.md)."""
    app = build_wsgi_app(settings)
    try:
        assert gc.get_freeze_count() > 10_000  # the modules, Bolt and SQLAlchemy's metadata
        assert gc.isenabled()  # frozen objects aside, garbage is still collected
    finally:
        app.close()
