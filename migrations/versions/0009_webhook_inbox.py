"""ERP webhooks in: sources and their secrets, the inbox of deliveries.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_sources",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "webhook_secrets",
        sa.Column("secret_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), sa.ForeignKey("webhook_sources.name"), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_webhook_secrets_source", "webhook_secrets", ["source"])
    op.create_table(
        "webhook_inbox",
        sa.Column("inbox_id", sa.Uuid, primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("webhook_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.UniqueConstraint("source", "webhook_id", name="uq_webhook_inbox_source_webhook_id"),
    )
    op.create_index("ix_webhook_inbox_received_at", "webhook_inbox", ["received_at"])
    op.create_index("ix_webhook_inbox_state", "webhook_inbox", ["state", "received_at"])


def downgrade() -> None:
    op.drop_table("webhook_inbox")
    op.drop_table("webhook_secrets")
    op.drop_table("webhook_sources")
