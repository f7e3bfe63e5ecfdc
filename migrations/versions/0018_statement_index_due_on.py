"""Statement index again: a statement's movement line reads each entry's `due_on` and `invoice_id` (the due date and
payment reference of an invoice line, and which invoice a refusal marks), which ix_ledger_customer_effective did not
carry; on PostgreSQL the movements became an index scan with one heap fetch per entry. The index now INCLUDEs them,
so one customer's statement is again one index-only range (after a VACUUM has set the visibility map).

SQLite ignores INCLUDE: its index keeps the three key columns, as since 0005.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KEY = ["customer_id", "effective_on", "position"]
BEFORE = ["currency", "kind", "account_delta_minor", "recorded_at", "reference", "invoice_number",
          "payment_external_id", "counterparty_id"]


def upgrade() -> None:
    op.drop_index("ix_ledger_customer_effective", "ledger_entries")
    op.create_index("ix_ledger_customer_effective", "ledger_entries", KEY,
                    postgresql_include=[*BEFORE, "due_on", "invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_customer_effective", "ledger_entries")
    op.create_index("ix_ledger_customer_effective", "ledger_entries", KEY, postgresql_include=BEFORE)
