"""Each table is defined by the module that writes it, and the migrations create it: alembic's own comparison of
those definitions with a migrated database finds no difference, on both backends."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ar.adapters import (
    api_keys,
    bank_imports,
    idempotency_store,
    invoice_documents,
    subscription_store,
    webhook_inbox,
)
from ar.projections import dunning_tables, payer_accounts, tables
from ar.runtime import Runtime

DEFINED_BY = {"read models": tables.metadata, "dunning": dunning_tables.metadata,
              "idempotency store": idempotency_store.metadata, "api keys": api_keys.metadata,
              "webhook inbox": webhook_inbox.metadata, "subscriptions": subscription_store.metadata,
              "bank imports": bank_imports.metadata, "payer accounts": payer_accounts.metadata,
              "invoice documents": invoice_documents.metadata}


def _ours() -> sa.MetaData:
    combined = sa.MetaData()
    for metadata in DEFINED_BY.values():
        for table in metadata.tables.values():
            if table.name not in combined.tables:
                table.to_metadata(combined)
    return combined


def test_the_tables_our_modules_define_are_the_tables_the_migrations_create(runtime: Runtime) -> None:
    ours = _ours()
    assert {"idempotency_keys", "invoices", "dunning_agenda", "reminder_deliveries"} <= set(ours.tables)

    def only_ours(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        """The event store's tables belong to the eventsourcing library, not to our migrations."""
        table = obj.name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in ours.tables

    with runtime.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": only_ours})
        assert compare_metadata(context, ours) == []


def test_the_idempotency_store_owns_its_table_and_the_read_models_do_not_describe_it() -> None:
    assert "idempotency_keys" in idempotency_store.metadata.tables
    assert "idempotency_keys" not in tables.metadata.tables
