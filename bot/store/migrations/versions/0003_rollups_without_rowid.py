"""rollups WITHOUT ROWID on SQLite: each rollup row is stored once, in its primary key's b-tree

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00

Every rollup table has a composite primary key, so as a rowid table SQLite writes each row twice: into the
table's b-tree and into the key's autoindex. WITHOUT ROWID the key is the table. Measured on a 765,000-row
ledger, the set-based rebuild's `INSERT ... SELECT ... GROUP BY` into them took 3.3-3.6 s before and 2.45-2.7 s
after, and a live upsert by primary key now touches one b-tree instead of two.

SQLite cannot change this in place: each table is recreated (Alembic's batch mode: create, copy, drop, rename)
with the columns, defaults and named constraints it reflects, and every row. PostgreSQL has no rowid and is left
as it is. The bot's SQLite connections enforce foreign keys; the rollups only refer to `teams` and nothing
refers to them, so dropping one cascades nowhere, and the copy runs as one transaction with its checks deferred
to the commit (see `_one_transaction_with_foreign_keys_checked_at_commit`). Downgrading recreates them as rowid
tables the same way.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUP_TABLES = ("rollup_totals", "rollup_counterparts", "rollup_days", "rollup_hours", "rollup_received_pairs")


def upgrade() -> None:
    _recreate_rollups(with_rowid=False)


def downgrade() -> None:
    _recreate_rollups(with_rowid=True)


def _recreate_rollups(*, with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    if op.get_context().as_sql:
        raise RuntimeError("0003 copies the SQLite tables it reflects from the database: run it online, not --sql")
    _one_transaction_with_foreign_keys_checked_at_commit()
    for table in ROLLUP_TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
            pass


def _one_transaction_with_foreign_keys_checked_at_commit() -> None:
    """Make the recreates all-or-nothing, and let them carry a row whose team is gone rather than fail on it.

    Python's sqlite3 begins a transaction only before a statement that changes rows, so each CREATE TABLE would
    otherwise commit on its own and a failure half-way would leave an `_alembic_tmp_` table behind. Deferred, a
    row whose team no longer exists (possible only if written with foreign keys off, as the sqlite3 shell does)
    counts against the commit when it is copied and is taken off again when its old table is dropped, so the
    migration keeps it as it was instead of failing. SQLite turns the deferral off by itself at the commit.
    """
    bind = op.get_bind()
    if not bind.connection.dbapi_connection.in_transaction:
        bind.exec_driver_sql("BEGIN")
    bind.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
