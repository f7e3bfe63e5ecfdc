"""Read models: customers, payments, ledger entries, open amounts by due date, customer balances.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("credit_limit_minor", sa.BigInteger, nullable=True),
        sa.Column("credit_limit_currency", sa.String(3), nullable=True),
        sa.Column("credit_limit_policy", sa.String(8), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Uuid, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("value_on", sa.Date, nullable=False),
        *(sa.Column(f"{name}_minor", sa.BigInteger, nullable=False)
          for name in ("amount", "allocated", "refunded", "unapplied")),
        sa.Column("returned_on", sa.Date, nullable=True),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_payments_customer", "payments", ["customer_id", "value_on"])
    op.create_table(
        "ledger_entries",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("customer_id", sa.Uuid, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("invoice_id", sa.Uuid, nullable=True),
        sa.Column("payment_id", sa.Uuid, nullable=True),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("due_on", sa.Date, nullable=True),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invoice_delta_minor", sa.BigInteger, nullable=False),
        sa.Column("account_delta_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_ledger_customer_effective", "ledger_entries", ["customer_id", "effective_on"])
    op.create_index("ix_ledger_effective", "ledger_entries", ["effective_on"])
    op.create_index("ix_ledger_invoice", "ledger_entries", ["invoice_id"])
    op.create_table(
        "open_by_due",
        sa.Column("customer_id", sa.Uuid, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("open_minor", sa.BigInteger, nullable=False),
        sa.Column("invoices", sa.Integer, nullable=False),
    )
    op.create_index("ix_open_by_due_currency_due", "open_by_due", ["currency", "due_on"])
    op.create_table(
        "customer_balances",
        sa.Column("customer_id", sa.Uuid, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("open_minor", sa.BigInteger, nullable=False),
        sa.Column("account_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_customer_balances_currency_open", "customer_balances", ["currency", "open_minor"])


def downgrade() -> None:
    for table in ("customer_balances", "open_by_due", "ledger_entries", "payments", "customers"):
        op.drop_table(table)
