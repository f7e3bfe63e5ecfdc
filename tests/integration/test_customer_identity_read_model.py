"""The customers read model holds each customer's billing address and SIREN as its events say, and a rebuild from
event 1 gives the same rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ar.application.receivables import new_id
from ar.domain.customer import Language
from ar.domain.postal_address import PostalAddress
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.projections.customers import customer_by_siren
from ar.projections.tables import customers
from ar.runtime import Runtime

LYON = PostalAddress.of(["Bâtiment B", "12 rue des Lilas"], "69003", "Lyon", "FR")


def rows(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(customers).order_by(customers.c.customer_id))]


def register(runtime: Runtime, name: str, **identity: Any) -> Any:
    return runtime.app.register_customer(
        customer_id=new_id("customer", external_id=name), name=name, kind=CustomerKind.PROFESSIONAL, country="FR",
        language=Language.FR, emails=[], terms=PaymentTerms(), credit_limit=None, external_id=name,
        **identity).aggregate


def test_the_address_and_siren_columns_follow_the_events_and_rebuild_the_same(runtime: Runtime) -> None:
    addressed = register(runtime, "C-ADDRESSED", billing_address=LYON, siren="443061841")
    plain = register(runtime, "C-PLAIN")
    moved = register(runtime, "C-MOVED", billing_address=LYON)
    runtime.app.update_billing_identity(moved.id, billing_address=None, siren="552100554")
    runtime.app.update_billing_identity(plain.id, billing_address=PostalAddress.of(
        ["Hauptstraße 5"], "10115", "Berlin", "DE"), siren=None)
    runtime.projections.catch_up()
    incremental = rows(runtime)
    by_id = {r["customer_id"]: r for r in incremental}
    assert {k: by_id[addressed.id][k] for k in ("address_lines", "address_postcode", "address_city",
                                                 "address_country", "siren", "version")} == {
        "address_lines": "Bâtiment B\n12 rue des Lilas", "address_postcode": "69003", "address_city": "LYON",
        "address_country": "FR", "siren": "443061841", "version": 1}
    assert (by_id[moved.id]["address_city"], by_id[moved.id]["siren"], by_id[moved.id]["version"]) == (
        None, "552100554", 3)
    assert (by_id[plain.id]["address_country"], by_id[plain.id]["siren"]) == ("DE", None)
    with runtime.engine.connect() as conn:
        assert customer_by_siren(conn, "552100554") == moved.id
        assert customer_by_siren(conn, "356000000") is None

    runtime.projections.rebuild("customers")
    assert rows(runtime) == incremental
