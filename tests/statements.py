"""The SQL statements a piece of code sends, for tests about how it asks rather than what it gets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from bot.store.database import Database


@contextmanager
def statements_sent(db: Database) -> Iterator[list[str]]:
    """Every statement sent to `db` inside the block, in order, as the driver receives it."""
    sent: list[str] = []

    def remember(_connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
