"""Customers' billing address and SIREN in the customers read model (letters, statements, e-invoices in by SIREN).

The customers projection fills them from Customer.Registered v2, BillingAddressChanged and SirenRecorded. A customer
registered before has neither (its Registered v1 upcasts to None both), so NULL is already right: nothing to backfill.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("address_lines", sa.Text, nullable=True))
    op.add_column("customers", sa.Column("address_postcode", sa.String(16), nullable=True))
    op.add_column("customers", sa.Column("address_city", sa.String(100), nullable=True))
    op.add_column("customers", sa.Column("address_country", sa.String(2), nullable=True))
    op.add_column("customers", sa.Column("siren", sa.String(20), nullable=True))
    op.create_index("ix_customers_siren", "customers", ["siren"])


def downgrade() -> None:
    op.drop_index("ix_customers_siren", table_name="customers")
    for column in ("siren", "address_country", "address_city", "address_postcode", "address_lines"):
        op.drop_column("customers", column)
