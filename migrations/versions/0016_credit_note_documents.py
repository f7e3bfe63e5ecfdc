"""Credit-note documents: which kept e-invoice document (ar.adapters.invoice_documents) an imported credit note came
in as, by the invoice it was applied to and its number; served at GET /v1/invoices/{id}/credit-notes/{number}/document.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_note_documents",
        sa.Column("invoice_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("credit_note_documents")
