"""Terms written so SQLite's query planner leaves an index alone where it would pick the wrong one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import ReturnTypeFromArgs


def not_an_index_term(column: ColumnElement) -> ColumnElement:
    """The same value, written on SQLite so its query planner cannot pick an index for it.

    For the links waiting for a reply (`bot.store.waiting`), SQLite otherwise walks the (team_id, channel_id,
    thread_ts) index for `thread_ts IS NULL` instead of the (team_id, occurred_at) range, and without
    statistics uses the occurred_at index inside the reply check: seconds instead of milliseconds on a
    million-row ledger (docs/performance.md). PostgreSQL gets the plain column: it plans by statistics, and a
    wrapped term's unknown selectivity (it guesses 0.5% NULL) made it sort a whole week of candidates for the
    oldest one instead of reading them oldest first (35 ms, not 0.5). The rebuild's copy of a bulk write's
    newest rows (`bot.store.rollups.RollupFacts`) reads a range of ids: with `team_id = ?` as an index term,
    SQLite walked the team's whole ledger on its unique index for every batch.
    """
    return _HiddenFromSQLite(column)


class _HiddenFromSQLite(ReturnTypeFromArgs):
    """`coalesce(column, column)` on SQLite, the bare column on every other database."""

    inherit_cache = True
    _register = False


@compiles(_HiddenFromSQLite)
def _bare_column(element: _HiddenFromSQLite, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_HiddenFromSQLite, "sqlite")
def _coalesced_column(element: _HiddenFromSQLite, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"coalesce({column}, {column})"
