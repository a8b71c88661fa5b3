"""the inbox and order-independent ingest: event order, parked deliveries, message versions, removed emoji

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 15:00:00

`inbound_events` becomes the inbox the ledger writer drains: `event_ts` orders it (a partial index over the
rows still to apply), `last_error` says why a delivery failed and `retry_after` spaces its attempts out.
`message_states` keeps the newest version of each recent message, so edits, deletions and thread replies give
the same ledger in any delivery order. `reactions` remembers removed emoji and the time of the newest event on
each, for the same reason.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_ts", sa.String(length=32), server_default=sa.text("''"), nullable=False))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retry_after", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_inbound_events_pending",
        "inbound_events",
        ["event_ts"],
        unique=False,
        sqlite_where=sa.text("processed_at IS NULL"),
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_ts", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("removed", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_table(
        "message_states",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("message", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_message_states_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "channel_id", "ts", name=op.f("pk_message_states")),
    )
    with op.batch_alter_table("message_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_states_team_id_channel_id_thread_ts"),
            ["team_id", "channel_id", "thread_ts"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_message_states_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_states_updated_at"))
        batch_op.drop_index(batch_op.f("ix_message_states_team_id_channel_id_thread_ts"))
    op.drop_table("message_states")
    op.execute("DELETE FROM reactions WHERE removed")
    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.drop_column("removed")
        batch_op.drop_column("event_ts")
    op.drop_index("ix_inbound_events_pending", table_name="inbound_events")
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("retry_after")
        batch_op.drop_column("last_error")
        batch_op.drop_column("event_ts")
