"""The customers read model: who they are, where letters go, in which language, with which credit limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.customer import Customer
from ar.domain.postal_address import PostalAddress
from ar.projections.tables import customers
from ar.projections.topics import event_topics


def address_columns(address: PostalAddress | None) -> dict[str, str | None]:
    return {"address_lines": "\n".join(address.lines) if address else None,
            "address_postcode": address.postcode if address else None,
            "address_city": address.city if address else None,
            "address_country": address.country if address else None}


def customer_by_siren(conn: sa.Connection, siren: str) -> UUID | None:
    """The customer recorded with this SIREN, if any (the same one each time, should two carry it)."""
    row = conn.execute(sa.select(customers.c.customer_id).where(customers.c.siren == siren)
                       .order_by(customers.c.customer_id).limit(1)).first()
    return row.customer_id if row else None


class CustomerLookups:
    """Implements `CustomerDirectory`; catches the customers read model up before each lookup."""

    def __init__(self, engine: sa.Engine, catch_up: Callable[[], Any]) -> None:
        self.engine, self.catch_up = engine, catch_up

    def by_siren(self, siren: str) -> UUID | None:
        self.catch_up()
        with self.engine.connect() as conn:
            return customer_by_siren(conn, siren)


class CustomersProjection:
    name = "customers"

    @property
    def topics(self) -> tuple[str, ...]:
        """The Customer events only: a rebuild or a catch-up reads and decodes those, not the whole log."""
        return event_topics(Customer.Event)

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        for _position, event in events:
            if isinstance(event, Customer.Registered):
                limit = event.credit_limit
                conn.execute(customers.insert().values(
                    customer_id=event.originator_id, name=event.name, kind=event.kind, country=event.country,
                    language=event.language, credit_limit_minor=limit.minor if limit else None,
                    credit_limit_currency=limit.currency if limit else None,
                    credit_limit_policy=event.credit_limit_policy, external_id=event.external_id, version=1,
                    siren=event.siren, **address_columns(event.billing_address)))
            elif isinstance(event, Customer.BillingAddressChanged):
                conn.execute(customers.update().where(customers.c.customer_id == event.originator_id).values(
                    version=event.originator_version, **address_columns(event.address)))
            elif isinstance(event, Customer.SirenRecorded):
                conn.execute(customers.update().where(customers.c.customer_id == event.originator_id).values(
                    version=event.originator_version, siren=event.siren))
            elif isinstance(event, Customer.CreditLimitChanged):
                limit = event.credit_limit
                conn.execute(customers.update().where(customers.c.customer_id == event.originator_id).values(
                    credit_limit_minor=limit.minor if limit else None,
                    credit_limit_currency=limit.currency if limit else None, credit_limit_policy=event.policy,
                    version=event.originator_version))
            elif isinstance(event, Customer.Event):
                conn.execute(customers.update().where(customers.c.customer_id == event.originator_id).values(
                    version=event.originator_version))

    def reset(self, conn: sa.Connection) -> None:
        conn.execute(customers.delete())
