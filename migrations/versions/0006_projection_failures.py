"""A projection that cannot apply an event stops at it and says so: the failing event's position, the error, since
when, how many attempts and when the next one is due, kept beside the position so that every process (an API
process beside the worker that is stuck) reads the same state. All NULL while the projection is healthy.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = ("failed_position", "error", "first_failed_at", "attempts", "next_retry_at")


def upgrade() -> None:
    op.add_column("projection_positions", sa.Column("failed_position", sa.BigInteger, nullable=True))
    op.add_column("projection_positions", sa.Column("error", sa.Text, nullable=True))
    op.add_column("projection_positions", sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("projection_positions", sa.Column("attempts", sa.Integer, nullable=True))
    op.add_column("projection_positions", sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projection_positions") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
