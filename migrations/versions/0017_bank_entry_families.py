"""Bank entries keep their transaction family and the bank's code as written (the import report shows both, and
an audit can tell a returned direct debit from a reversed transfer); the matching rule's name widens to 32
characters (`customer-reference`; rows written as `customer-ref` stay as they are). Invoices gain an index on their
number in capitals: a remittance quoting a number in another case ("fa-2026-0042") finds it in one indexed query.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_entries") as batch:
        batch.add_column(sa.Column("family", sa.String(16), nullable=True))
        batch.add_column(sa.Column("bank_code", sa.Text, nullable=True))
        batch.alter_column("rule", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=True)
    op.create_index("ix_invoices_number_upper", "invoices", [sa.text("upper(number)")])


def downgrade() -> None:
    op.drop_index("ix_invoices_number_upper", "invoices")
    op.execute("UPDATE bank_entries SET rule = 'customer-ref' WHERE rule = 'customer-reference'")  # fits 16
    with op.batch_alter_table("bank_entries") as batch:
        batch.alter_column("rule", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=True)
        batch.drop_column("bank_code")
        batch.drop_column("family")
