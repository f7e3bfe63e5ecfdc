"""Alembic environment: runs on the connection `ar migrate` hands over, or on AR_DATABASE_URL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

import ar.projections.dunning_tables  # noqa: F401  (defines the dunning tables on the read models' MetaData)
from ar.adapters import (
    api_keys,
    bank_imports,
    idempotency_store,
    invoice_documents,
    subscription_store,
    webhook_inbox,
)
from ar.config import Settings
from ar.projections import payer_accounts, tables

config = context.config
connection = config.attributes.get("connection")
# Each table is defined by the module that writes it: autogenerate compares all of them with the database.
metadata = [tables.metadata, idempotency_store.metadata, api_keys.metadata, webhook_inbox.metadata,
            subscription_store.metadata, bank_imports.metadata, payer_accounts.metadata,
            invoice_documents.metadata]

if connection is None:
    engine = sa.create_engine(Settings().sqlalchemy_url())
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
