"""Invoice lifecycle in the invoices read model: the e-invoice platform's last status about each invoice (its name
and code) and the refusal that stands (refused 210, invalid 213), so the invoice list shows and filters them and
the aging and statements tell a refused invoice from one to chase; one small index for the few that have one
(partial on PostgreSQL).

The columns start empty: an invoice that received a platform status before this migration shows it once the read
model is rebuilt (`ar rebuild receivables`, while serving); the projection fills them event by event from then on.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("lifecycle_status", sa.String(16), nullable=True))
    op.add_column("invoices", sa.Column("lifecycle_code", sa.String(3), nullable=True))
    op.add_column("invoices", sa.Column("lifecycle_verdict", sa.String(8), nullable=True))
    op.create_index("ix_invoices_lifecycle", "invoices", ["lifecycle_status", "customer_id"],
                    postgresql_where=sa.text("lifecycle_status IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_invoices_lifecycle", "invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("lifecycle_verdict")
        batch.drop_column("lifecycle_code")
        batch.drop_column("lifecycle_status")
