"""received pairs: one rollup row per (teammate, item) pair instead of one per pair and period

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:40:00

`rollup_received` kept each pair three times (its week, its month, all time). Its 'all' rows are exactly the
new table's rows, so upgrading copies them; the totals already hold the per-period counts and stay as they are.
Downgrading rebuilds the per-period rows from the ledger, with the same rule `bot.store.rollups.is_received`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAIR = ("user_id", "giver", "channel_id", "thread_ts")


def upgrade() -> None:
    op.create_table(
        "rollup_received_pairs",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rollup_received_pairs_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", *_PAIR, name=op.f("pk_rollup_received_pairs")),
    )
    columns = ", ".join(("team_id", *_PAIR, "count"))
    op.execute(
        f"INSERT INTO rollup_received_pairs ({columns}) SELECT {columns} FROM rollup_received WHERE period = 'all'"
    )
    with op.batch_alter_table("rollup_received", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollup_received_team_id_giver"))
    op.drop_table("rollup_received")


def downgrade() -> None:
    op.create_table(
        "rollup_received",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("giver", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_rollup_received_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "period", "start", *_PAIR, name=op.f("pk_rollup_received")),
    )
    with op.batch_alter_table("rollup_received", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollup_received_team_id_giver"), ["team_id", "giver"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        starts = {
            "week": "CAST(date_trunc('week', CAST(day AS timestamp)) AS date)",
            "month": "CAST(date_trunc('month', CAST(day AS timestamp)) AS date)",
            "all": "DATE '1970-01-01'",
        }
    else:
        starts = {
            "week": "date(day, '-6 days', 'weekday 1')",
            "month": "date(day, 'start of month')",
            "all": "'1970-01-01'",
        }
    for period, start in starts.items():
        op.execute(
            "INSERT INTO rollup_received (team_id, period, start, user_id, giver, channel_id, thread_ts, count)"
            f" SELECT team_id, '{period}', {start}, counterpart, user_id, channel_id, thread_ts, count(*)"
            " FROM activities WHERE source = 'slack'"
            " AND kind IN ('answer', 'comment', 'reply', 'share', 'like', 'follow')"
            " AND counterpart <> '' AND counterpart <> user_id AND channel_id <> '' AND thread_ts <> ''"
            f" GROUP BY team_id, {start}, counterpart, user_id, channel_id, thread_ts"
        )
    op.drop_table("rollup_received_pairs")
