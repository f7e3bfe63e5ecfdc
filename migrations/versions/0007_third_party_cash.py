"""Third-party cash on statements: a ledger entry names the other customer of a payment applied across accounts (the
payer, on the entry of the invoice it settled; the invoice's customer, on the payer's entry, which also carries that
invoice's number), so that both statements can say "paid by X" and "paid invoice F... of Y".

The new column is filled from the rows already projected, so a migrated database and one rebuilt from event 1 hold the
same rows (ar.projections.receivables writes them event by event). A payer's entries are paired with the invoices'
entries of the same payment in recording order: the k-th "paid_for_other" of a payment is its k-th allocation to
another customer's invoice (both sides of an allocation are saved together, the payment's events first, in the same
order).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INCLUDE = ["currency", "kind", "account_delta_minor", "recorded_at", "reference", "invoice_number",
           "payment_external_id"]

PAIRS = """
WITH payer AS (
    SELECT position, payment_id, kind,
           ROW_NUMBER() OVER (PARTITION BY payment_id, kind ORDER BY position) AS n
    FROM ledger_entries WHERE kind IN ('paid_for_other', 'paid_for_other_reversed')
), settled AS (
    SELECT e.payment_id, e.customer_id, e.invoice_number,
           CASE e.kind WHEN 'payment_allocated' THEN 'paid_for_other' ELSE 'paid_for_other_reversed' END AS kind,
           ROW_NUMBER() OVER (PARTITION BY e.payment_id, e.kind ORDER BY e.position) AS n
    FROM ledger_entries e JOIN payments p ON p.payment_id = e.payment_id
    WHERE e.kind IN ('payment_allocated', 'allocation_reversed')
      AND p.customer_id IS NOT NULL AND p.customer_id <> e.customer_id
)
SELECT payer.position, settled.customer_id, settled.invoice_number
FROM payer JOIN settled ON settled.payment_id = payer.payment_id AND settled.kind = payer.kind AND settled.n = payer.n
"""


def upgrade() -> None:
    op.add_column("ledger_entries", sa.Column("counterparty_id", sa.Uuid, nullable=True))
    _fill()
    op.drop_index("ix_ledger_customer_effective", "ledger_entries")
    op.create_index("ix_ledger_customer_effective", "ledger_entries", ["customer_id", "effective_on", "position"],
                    postgresql_include=[*INCLUDE, "counterparty_id"])


def _fill() -> None:
    """The invoices' side from the payments' rows; the payers' side paired with it (see the module docstring)."""
    op.execute("UPDATE ledger_entries SET counterparty_id = "
               "(SELECT p.customer_id FROM payments p WHERE p.payment_id = ledger_entries.payment_id) "
               "WHERE kind IN ('payment_allocated', 'allocation_reversed') AND EXISTS (SELECT 1 FROM payments p "
               "WHERE p.payment_id = ledger_entries.payment_id AND p.customer_id <> ledger_entries.customer_id)")
    ledger = sa.table("ledger_entries", sa.column("position", sa.BigInteger), sa.column("counterparty_id", sa.Uuid),
                      sa.column("invoice_number", sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.text(PAIRS).columns(sa.column("position", sa.BigInteger), sa.column("customer_id", sa.Uuid),
                                               sa.column("invoice_number", sa.String))).all()
    if rows:
        conn.execute(ledger.update().where(ledger.c.position == sa.bindparam("_position", type_=sa.BigInteger))
                     .values(counterparty_id=sa.bindparam("_customer", type_=sa.Uuid),
                             invoice_number=sa.bindparam("_number", type_=sa.String)),
                     [{"_position": p, "_customer": c, "_number": n} for p, c, n in rows])


def downgrade() -> None:
    op.drop_index("ix_ledger_customer_effective", "ledger_entries")
    op.create_index("ix_ledger_customer_effective", "ledger_entries", ["customer_id", "effective_on", "position"],
                    postgresql_include=INCLUDE)
    op.execute("UPDATE ledger_entries SET invoice_number = NULL "
               "WHERE kind IN ('paid_for_other', 'paid_for_other_reversed')")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("counterparty_id")
