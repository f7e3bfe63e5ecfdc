"""Projection positions, idempotency keys, the invoices read model.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projection_positions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response_body", sa.LargeBinary, nullable=True),
        sa.Column("response_headers", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_table(
        "invoices",
        sa.Column("invoice_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("series", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        *(sa.Column(f"{name}_minor", sa.BigInteger, nullable=False)
          for name in ("total", "deducted", "allocated", "credited", "written_off", "disputed", "open")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("structured_reference", sa.String(25), nullable=False),
        sa.Column("purchase_order", sa.String(64), nullable=True),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_invoices_customer_due", "invoices", ["customer_id", "due_on"])
    op.create_index("ix_invoices_issued_number", "invoices", ["issued_on", "number"])
    op.create_index("ix_invoices_status", "invoices", ["status"])
    op.create_index("ix_invoices_reference", "invoices", ["structured_reference"])
    op.create_index("ix_invoices_external_id", "invoices", ["external_id"])


def downgrade() -> None:
    op.drop_table("invoices")
    op.drop_table("idempotency_keys")
    op.drop_table("projection_positions")
