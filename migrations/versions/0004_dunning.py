"""Dunning: the agenda of next actions, the reminder delivery queue, the ops task queue.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dunning_agenda",
        sa.Column("invoice_id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("open_minor", sa.BigInteger, nullable=False),
        sa.Column("remindable_minor", sa.BigInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("next_on", sa.Date, nullable=True),
        sa.Column("next_step", sa.String(64), nullable=True),
        sa.Column("next_kind", sa.String(16), nullable=True),
        sa.Column("next_channel", sa.String(16), nullable=True),
        sa.Column("steps_taken", sa.Integer, nullable=False),
        sa.Column("policy_id", sa.Uuid, nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_dunning_agenda_next_on", "dunning_agenda", ["next_on", "customer_id"])
    op.create_index("ix_dunning_agenda_customer", "dunning_agenda", ["customer_id"])
    op.create_index("ix_dunning_agenda_policy", "dunning_agenda", ["policy_id"])
    op.create_table(
        "reminder_deliveries",
        sa.Column("reminder_id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reminder_deliveries_due", "reminder_deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "dunning_tasks",
        sa.Column("task_id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("step_key", sa.String(64), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=True),
        sa.Column("done_by", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_dunning_tasks_state", "dunning_tasks", ["state", "due_on"])


def downgrade() -> None:
    op.drop_table("dunning_tasks")
    op.drop_table("reminder_deliveries")
    op.drop_table("dunning_agenda")
