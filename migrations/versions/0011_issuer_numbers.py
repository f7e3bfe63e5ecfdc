"""Issuer numbers: an invoice numbered by its invoicing system keeps that number, 1 to 40 characters, unique in its
series (ar.domain.series). The invoices read model held numbers of at most 32 characters, unique across every
series: an issuer's long number, or one equal to a number of another series, would stop the projection at its
event. The number widens to 40 characters (in the ledger entries' copy too) and is unique per (series, number);
an index on the number alone keeps lookups by number (a payment's remittance text) as fast as its UNIQUE did.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# SQLite keeps the column's UNIQUE unnamed: batch mode names it on reflection so that it can be dropped
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
PER_SERIES = "uq_invoices_series_number"


def _unique_on(columns: list[str]) -> str:
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("invoices"):
        if constraint["column_names"] == columns:
            return constraint["name"] or NAMING["uq"] % {"table_name": "invoices", "column_0_name": columns[0]}
    raise LookupError(f"no unique constraint on invoices {columns}")


def upgrade() -> None:
    only_number = _unique_on(["number"])
    with op.batch_alter_table("invoices", naming_convention=NAMING) as batch:
        batch.drop_constraint(only_number, type_="unique")
        batch.alter_column("number", type_=sa.String(40), existing_type=sa.String(32), existing_nullable=False)
        batch.create_unique_constraint(PER_SERIES, ["series", "number"])
    op.create_index("ix_invoices_number", "invoices", ["number"])  # what the number's UNIQUE gave lookups by number
    with op.batch_alter_table("ledger_entries") as batch:
        batch.alter_column("invoice_number", type_=sa.String(40), existing_type=sa.String(32),
                           existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.alter_column("invoice_number", type_=sa.String(32), existing_type=sa.String(40),
                           existing_nullable=True)
    op.drop_index("ix_invoices_number", "invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_constraint(PER_SERIES, type_="unique")
        batch.alter_column("number", type_=sa.String(32), existing_type=sa.String(40), existing_nullable=False)
        batch.create_unique_constraint("invoices_number_key", ["number"])
