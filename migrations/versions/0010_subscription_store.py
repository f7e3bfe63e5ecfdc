"""Webhook subscriptions out: subscribers, their deliveries and attempts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("subscription_id", sa.Uuid, primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("types", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("previous_secret", sa.String(128), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("from_position", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("re_enabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "subscription_deliveries",
        sa.Column("delivery_id", sa.Uuid, primary_key=True),
        sa.Column("subscription_id", sa.Uuid, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("aggregate_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subscription_id", "position", name="uq_subscription_deliveries_event"),
    )
    op.create_index("ix_subscription_deliveries_due", "subscription_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_subscription_deliveries_order", "subscription_deliveries",
                    ["subscription_id", "aggregate_id", "position"])
    op.create_table(
        "subscription_attempts",
        sa.Column("delivery_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("response_excerpt", sa.String(500), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("subscription_attempts")
    op.drop_index("ix_subscription_deliveries_order", "subscription_deliveries")
    op.drop_index("ix_subscription_deliveries_due", "subscription_deliveries")
    op.drop_table("subscription_deliveries")
    op.drop_table("subscriptions")
