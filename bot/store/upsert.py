"""INSERT ... ON CONFLICT for both dialects: how redelivered events and repeated commands become no-ops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import URL, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session) -> Any:
    """The dialect's INSERT construct (both have ON CONFLICT), for the database this session talks to."""
    return insert_for_dialect(session.get_bind().dialect.name)


def insert_for_dialect(dialect: str) -> Any:
    """The INSERT construct with ON CONFLICT for a dialect by name ("postgresql", "sqlite")."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_or_ignore(
    session: Session, model: type, rows: Sequence[Mapping[str, Any]], conflict_columns: Sequence[str]
) -> int:
    """Insert rows, skipping any that collide on `conflict_columns`; return how many were inserted."""
    if not rows:
        return 0
    statement = insert_for(session)(model).values(list(rows))
    statement = statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
    # RETURNING counts what was really inserted: psycopg reports rowcount -1 for this statement.
    key = model.__table__.c[conflict_columns[0]]
    return len(session.execute(statement.returning(key)).all())


def insert_or_update(
    session: Session,
    model: type,
    row: Mapping[str, Any],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """Insert a row or, if it exists, overwrite `update_columns` with the new values."""
    statement = insert_for(session)(model).values(dict(row))
    if update_columns:
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict_columns),
            set_={name: statement.excluded[name] for name in update_columns},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
    session.execute(statement)


def insert_or_update_many(
    session: Session,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """`insert_or_update` for many rows in one executemany: one statement, the same each call (compiled once)."""
    if not rows:
        return
    statement = insert_for(session)(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict_columns), set_={name: statement.excluded[name] for name in update_columns}
    )
    session.execute(statement, list(rows))


def driver_insert_or_ignore_sql(
    driver: str,
    table: Table,
    columns: Sequence[str],
    conflict_columns: Sequence[str],
    *,
    literals: Mapping[str, str | None] | None = None,
) -> str:
    """INSERT ... ON CONFLICT DO NOTHING as the driver takes it: positional parameters, one row, for executemany.

    For bulk writers that hand already encoded rows straight to the driver (`Connection.exec_driver_sql`):
    SQLite prepares it once per executemany, and psycopg pipelines it. `literals` are columns every row
    shares, written into the statement (text or NULL only, see `is_sql_literal`) instead of bound per row.
    """
    literals = literals or {}
    if not all(map(is_sql_literal, literals.values())):
        raise ValueError("only text without NUL characters, or None, can be written into the statement")
    marker = "?" if URL.create(driver).get_backend_name() == "sqlite" else "%s"
    values = [marker] * len(columns) + [_sql_literal(value) for value in literals.values()]
    return (
        f"INSERT INTO {table.name} ({', '.join([*columns, *literals])}) VALUES ({', '.join(values)})"
        f" ON CONFLICT ({', '.join(conflict_columns)}) DO NOTHING"
    )


def is_sql_literal(value: object) -> bool:
    """Whether `value` can be written into a statement as a literal: None, or text without a NUL character."""
    return value is None or (isinstance(value, str) and "\0" not in value)


def _sql_literal(value: str | None) -> str:
    """A standard SQL literal: NULL, or the text in single quotes, each quote in it doubled."""
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"
