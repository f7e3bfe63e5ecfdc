"""Statement shape: each ledger entry carries its invoice's number and its payment's external id (both never change
once set), and one customer's entries are one index range in (effective_on, position) order with what a movement
line needs (INCLUDE on PostgreSQL): a statement's movements without joins to `invoices` and `payments`.

The new columns are filled from the rows already projected, so a migrated database and one rebuilt from event 1
hold the same rows (ar.projections.receivables writes them event by event).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INCLUDE = ["currency", "kind", "account_delta_minor", "recorded_at", "reference", "invoice_number",
           "payment_external_id"]


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("invoice_number", sa.String(32), nullable=True))
    op.add_column("ledger_entries", sa.Column("payment_external_id", sa.String(128), nullable=True))
    _fill()
    op.drop_index("ix_ledger_customer_effective", "ledger_entries")
    op.create_index("ix_ledger_customer_effective", "ledger_entries", ["customer_id", "effective_on", "position"],
                    postgresql_include=INCLUDE)


def _fill() -> None:
    """The new columns of the entries already projected, from the invoices and payments they name."""
    op.execute("UPDATE ledger_entries SET invoice_number = "
               "(SELECT i.number FROM invoices i WHERE i.invoice_id = ledger_entries.invoice_id) "
               "WHERE invoice_id IS NOT NULL")
    op.execute("UPDATE ledger_entries SET payment_external_id = "
               "(SELECT p.external_id FROM payments p WHERE p.payment_id = ledger_entries.payment_id) "
               "WHERE payment_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_ledger_customer_effective", "ledger_entries")
    op.create_index("ix_ledger_customer_effective", "ledger_entries", ["customer_id", "effective_on"])
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("payment_external_id")
        batch.drop_column("invoice_number")
