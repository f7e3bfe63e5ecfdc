"""Bank statements: each import and its entries (for audit, the import report and the unmatched queue), and the
payer accounts a confirmed match taught (IBAN -> customer, a read model).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_imports",
        sa.Column("import_id", sa.Uuid, primary_key=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("account", sa.String(140), nullable=False),
        sa.Column("statement_id", sa.Text, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caused_by", sa.String(80), nullable=False),
        sa.Column("credits", sa.Integer, nullable=False),
        sa.Column("matched", sa.Integer, nullable=False),
        sa.Column("waiting", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("returned", sa.Integer, nullable=False),
        sa.Column("listed", sa.Integer, nullable=False),
    )
    op.create_index("ix_bank_imports_received_at", "bank_imports", ["received_at"])
    op.create_table(
        "bank_entries",
        sa.Column("entry_key", sa.String(1000), primary_key=True),
        sa.Column("import_id", sa.Uuid, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("account", sa.String(140), nullable=False),
        sa.Column("bank_reference", sa.Text, nullable=False),
        sa.Column("entry_index", sa.Integer, nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("value_on", sa.Date, nullable=False),
        sa.Column("payer_name", sa.Text, nullable=True),
        sa.Column("payer_iban", sa.String(64), nullable=True),
        sa.Column("remittance", sa.Text, nullable=True),
        sa.Column("creditor_reference", sa.Text, nullable=True),
        sa.Column("end_to_end_id", sa.String(255), nullable=True),
        sa.Column("return_reason", sa.String(64), nullable=True),
        sa.Column("reversal", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payment_id", sa.Uuid, nullable=True),
        sa.Column("rule", sa.String(16), nullable=True),
        sa.Column("invoices", sa.Text, nullable=False),
        sa.Column("written_off_minor", sa.BigInteger, nullable=True),
        sa.Column("suggestions", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_bank_entries_import", "bank_entries", ["import_id", "seq"])
    op.create_index("ix_bank_entries_state", "bank_entries", ["state", "value_on"])
    op.create_index("ix_bank_entries_payment", "bank_entries", ["payment_id"])
    op.create_index("ix_bank_entries_end_to_end", "bank_entries", ["end_to_end_id"])
    op.create_table(
        "payer_accounts",
        sa.Column("iban", sa.String(34), primary_key=True),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payer_accounts")
    op.drop_table("bank_entries")
    op.drop_table("bank_imports")
