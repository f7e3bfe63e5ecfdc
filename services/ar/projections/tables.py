"""The read-model tables (SQLAlchemy Core), written by the projections. Migrations in `migrations/` create them;
this module describes them for the projections and the read-side queries. Other tables are defined by the module
that writes them (the dunning tables in `dunning_tables`, the Idempotency-Key records in the idempotency store)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

projection_positions = sa.Table(
    "projection_positions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    # set while the projection is stopped at an event it cannot apply (ar.projections.stalls), NULL otherwise
    sa.Column("failed_position", sa.BigInteger, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=True),
    sa.Column("next_retry_at", sa.DateTime(timezone=True), nullable=True),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("invoice_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(40), nullable=False),  # unique in its series (migration 0011: issuer numbers)
    sa.Column("series", sa.String(16), nullable=False),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    sa.Column("deducted_minor", sa.BigInteger, nullable=False),
    sa.Column("allocated_minor", sa.BigInteger, nullable=False),
    sa.Column("credited_minor", sa.BigInteger, nullable=False),
    sa.Column("written_off_minor", sa.BigInteger, nullable=False),
    sa.Column("disputed_minor", sa.BigInteger, nullable=False),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("structured_reference", sa.String(25), nullable=False),
    sa.Column("purchase_order", sa.String(64), nullable=True),
    sa.Column("external_id", sa.String(128), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    # the e-invoice platform's last status about the invoice (migration 0014): its name and code (`refused` 210,
    # `invalid` 213, `suspended` 208, `payment_sent` 211, `disputed` 207), NULL when none came; `lifecycle_verdict`
    # is the refusal (refused, invalid) that stands, whatever status follows, and makes `status` refused or invalid
    # while the invoice is open, as the aggregate's does
    sa.Column("lifecycle_status", sa.String(16), nullable=True),
    sa.Column("lifecycle_code", sa.String(3), nullable=True),
    sa.Column("lifecycle_verdict", sa.String(8), nullable=True),
    sa.Index("ix_invoices_customer_due", "customer_id", "due_on"),
    sa.UniqueConstraint("series", "number", name="uq_invoices_series_number"),
    sa.Index("ix_invoices_number", "number"),  # payments find invoices by number across series
    sa.Index("ix_invoices_issued_number", "issued_on", "number"),
    sa.Index("ix_invoices_status", "status"),
    sa.Index("ix_invoices_reference", "structured_reference"),
    sa.Index("ix_invoices_external_id", "external_id"),
    # few invoices have a platform status: the `lifecycle` filter of the list reads them from this small index
    # (partial on PostgreSQL), the aging and statements find the refused ones by their customer through it
    sa.Index("ix_invoices_lifecycle", "lifecycle_status", "customer_id",
             postgresql_where=sa.text("lifecycle_status IS NOT NULL")),
)
# a remittance's numbers are looked up whatever their case (`lookups.by_numbers`, migration 0017)
sa.Index("ix_invoices_number_upper", sa.func.upper(invoices.c.number))

customers = sa.Table(
    "customers",
    metadata,
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
    # the billing address (migration 0015): street lines joined by a line feed; NULL all four when none is known
    sa.Column("address_lines", sa.Text, nullable=True),
    sa.Column("address_postcode", sa.String(16), nullable=True),
    sa.Column("address_city", sa.String(100), nullable=True),
    sa.Column("address_country", sa.String(2), nullable=True),
    sa.Column("siren", sa.String(20), nullable=True),
    sa.Index("ix_customers_siren", "siren"),  # e-invoices in find their buyer by SIREN
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("payment_id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, nullable=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("value_on", sa.Date, nullable=False),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("allocated_minor", sa.BigInteger, nullable=False),
    sa.Column("refunded_minor", sa.BigInteger, nullable=False),
    sa.Column("unapplied_minor", sa.BigInteger, nullable=False),
    sa.Column("returned_on", sa.Date, nullable=True),
    sa.Column("external_id", sa.String(128), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_payments_customer", "customer_id", "value_on"),
)

# One row per event that changes a balance. `invoice_delta_minor` moves the open amount of `invoice_id` (aging);
# `account_delta_minor` moves the customer's account (statements: invoices up, payments received down).
# `effective_on` is the business date the change took effect; `recorded_at` when we learned of it.
ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
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
    # copied at projection time for statements (migration 0005): the invoice's number and the payment's external id
    # (never change once set), so that a statement's movements need no join to `invoices` and `payments`
    sa.Column("invoice_number", sa.String(40), nullable=True),
    sa.Column("payment_external_id", sa.String(128), nullable=True),
    # third-party cash (migration 0007): on the entry of an invoice paid by another customer, the payer; on the
    # payer's entry, the customer whose invoice it paid (whose number is then in invoice_number)
    sa.Column("counterparty_id", sa.Uuid, nullable=True),
    # one customer's entries in date order: a statement's movements (and its opening balance) by an index-only scan
    # on PostgreSQL: the INCLUDE columns are every column ar.reports.statement reads (migration 0018 added due_on and
    # invoice_id; tests/integration/test_statement_index.py checks the plan). SQLite ignores INCLUDE.
    sa.Index("ix_ledger_customer_effective", "customer_id", "effective_on", "position",
             postgresql_include=["currency", "kind", "account_delta_minor", "recorded_at", "reference",
                                 "invoice_number", "payment_external_id", "counterparty_id", "due_on", "invoice_id"]),
    sa.Index("ix_ledger_effective", "effective_on"),
    sa.Index("ix_ledger_invoice", "invoice_id"),
)

# Open invoice amounts per customer, currency and due date: aging "as of today" without visiting invoices.
open_by_due = sa.Table(
    "open_by_due",
    metadata,
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("invoices", sa.Integer, nullable=False),
    sa.Index("ix_open_by_due_currency_due", "currency", "due_on"),
)

# Per customer and currency: open invoice amount (aging, exposure) and account balance (statements).
customer_balances = sa.Table(
    "customer_balances",
    metadata,
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("account_minor", sa.BigInteger, nullable=False),
    sa.Index("ix_customer_balances_currency_open", "currency", "open_minor"),
    sa.Index("ix_customer_balances_open", "open_minor"),  # the largest debtors in all currencies, from the top
)

# Open invoice amounts per currency and due date, all customers: the totals of an aging as of today (a few thousand
# rows, where `open_by_due` has one per customer too).
open_totals = sa.Table(
    "open_totals",
    metadata,
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("invoices", sa.Integer, nullable=False),
)

# Aging as of a past date. An invoice's open amount as of D is the sum of its ledger deltas with effective_on <= D,
# so band totals are linear in the deltas: these tables hold the deltas summed by the cells of an aging and by
# effective date, with `invoices` the change in the count of open invoices on that date (worked out per invoice in
# effective-date order, so a payment recorded late with an earlier value date lands on the right date). An aging as
# of D is today's open amounts (open_totals, open_by_due, customer_balances) minus what took effect after D.
aging_steps = sa.Table(
    "aging_steps",
    metadata,
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("effective_on", sa.Date, primary_key=True),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("invoices", sa.Integer, nullable=False),
    sa.Index("ix_aging_steps_effective", "effective_on", "currency", "due_on", "open_minor", "invoices"),
)

customer_aging_steps = sa.Table(
    "customer_aging_steps",
    metadata,
    # the key leads with (customer_id, effective_on): one customer's steps after a date are one index range; no
    # other index, so that a rebuild and each batch maintain only this one
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("effective_on", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("due_on", sa.Date, primary_key=True),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Column("invoices", sa.Integer, nullable=False),
)

# The same deltas per customer and calendar month (`month` is its first day), without the due date: ranking the
# largest debtors as of D reads whole months after D here, and only the rest of D's month from the ledger.
customer_open_months = sa.Table(
    "customer_open_months",
    metadata,
    sa.Column("customer_id", sa.Uuid, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
    sa.Index("ix_customer_open_months_month", "month", "customer_id", "currency", "open_minor"),
)
