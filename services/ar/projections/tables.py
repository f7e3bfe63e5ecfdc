"""Our own tables (SQLAlchemy Core). Migrations in `migrations/` own them; this module describes them for queries."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

projection_positions = sa.Table(
    "projection_positions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("caller", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),  # NULL while the first request is running
    sa.Column("response_body", sa.LargeBinary, nullable=True),
    sa.Column("response_headers", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_idempotency_keys_created_at", "created_at"),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("invoice_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
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
    sa.Index("ix_invoices_customer_due", "customer_id", "due_on"),
    sa.Index("ix_invoices_issued_number", "issued_on", "number"),
    sa.Index("ix_invoices_status", "status"),
    sa.Index("ix_invoices_reference", "structured_reference"),
    sa.Index("ix_invoices_external_id", "external_id"),
)
