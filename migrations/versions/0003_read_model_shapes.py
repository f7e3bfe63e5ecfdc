"""Read-model shapes for the aging reports: open totals per currency and due date, and the aging steps (deltas of
open amounts and open-invoice counts by effective date) that answer an aging as of a past date.

The new tables are filled from the ledger entries already projected, so a migrated database and one rebuilt from
event 1 hold the same rows (ar.projections.receivables computes the same steps event by event).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _cells() -> tuple[sa.Column[int], sa.Column[int]]:
    return sa.Column("open_minor", sa.BigInteger, nullable=False), sa.Column("invoices", sa.Integer, nullable=False)


def upgrade() -> None:
    op.create_table(
        "open_totals",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        *_cells(),
    )
    op.create_table(
        "aging_steps",
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("effective_on", sa.Date, primary_key=True),
        *_cells(),
    )
    op.create_index("ix_aging_steps_effective", "aging_steps",
                    ["effective_on", "currency", "due_on", "open_minor", "invoices"])
    op.create_table(
        "customer_aging_steps",
        sa.Column("customer_id", sa.Uuid, primary_key=True),
        sa.Column("effective_on", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        *_cells(),
    )
    op.create_table(
        "customer_open_months",
        sa.Column("customer_id", sa.Uuid, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("open_minor", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_customer_open_months_month", "customer_open_months",
                    ["month", "customer_id", "currency", "open_minor"])
    op.create_index("ix_customer_balances_open", "customer_balances", ["open_minor"])
    _fill()


def _fill() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    is_open = "(running <> 0)::int" if postgres else "(running <> 0)"
    month = "date_trunc('month', effective_on)::date" if postgres else "date(effective_on, 'start of month')"
    op.execute("INSERT INTO open_totals (currency, due_on, open_minor, invoices) "
               "SELECT currency, due_on, sum(open_minor), sum(invoices) FROM open_by_due GROUP BY currency, due_on "
               "HAVING sum(open_minor) <> 0 OR sum(invoices) <> 0")
    # each invoice's deltas by day, its running open amount, and the change of its open/closed state on that day
    op.execute(f"""
        INSERT INTO customer_aging_steps (customer_id, effective_on, currency, due_on, open_minor, invoices)
        SELECT customer_id, effective_on, currency, due_on, sum(delta), sum(opened)
        FROM (SELECT customer_id, currency, due_on, effective_on, delta,
                     {is_open} - coalesce(lag({is_open}) OVER (PARTITION BY invoice_id ORDER BY effective_on), 0)
                         AS opened
              FROM (SELECT invoice_id, customer_id, currency, due_on, effective_on, delta,
                           sum(delta) OVER (PARTITION BY invoice_id ORDER BY effective_on) AS running
                    FROM (SELECT invoice_id, customer_id, currency, due_on, effective_on,
                                 sum(invoice_delta_minor) AS delta
                          FROM ledger_entries WHERE invoice_id IS NOT NULL AND invoice_delta_minor <> 0
                          GROUP BY invoice_id, customer_id, currency, due_on, effective_on) AS days) AS runs) AS steps
        GROUP BY customer_id, effective_on, currency, due_on""")
    op.execute("INSERT INTO aging_steps (currency, due_on, effective_on, open_minor, invoices) "
               "SELECT currency, due_on, effective_on, sum(open_minor), sum(invoices) FROM customer_aging_steps "
               "GROUP BY currency, due_on, effective_on")
    op.execute(f"INSERT INTO customer_open_months (customer_id, currency, month, open_minor) "
               f"SELECT customer_id, currency, {month}, sum(invoice_delta_minor) FROM ledger_entries "
               f"WHERE invoice_id IS NOT NULL AND invoice_delta_minor <> 0 GROUP BY customer_id, currency, {month}")


def downgrade() -> None:
    op.drop_index("ix_customer_balances_open", "customer_balances")
    for table in ("customer_open_months", "customer_aging_steps", "aging_steps", "open_totals"):
        op.drop_table(table)
