"""members remember which user_change they last applied, so a late retry cannot undo a newer one

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 22:00:00

`members.is_deleted` comes from Slack's user_change events as well as users.info. Slack retries a failed
delivery up to five minutes later: `status_version` (the event's ts) lets an older deactivation or
reactivation delivered after a newer one change nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_version", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("status_version")
