"""The application's ports onto the read models: candidate invoices for allocation, customer exposure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.projections.tables import customer_balances, invoices


class ReadModelLookups:
    """Implements `InvoiceFinder` and `ExposureReader`; catches the read models up before each lookup."""

    def __init__(self, engine: sa.Engine, catch_up: Callable[[], Any]) -> None:
        self.engine, self.catch_up = engine, catch_up

    def _ids(self, query: sa.Select[Any]) -> list[UUID]:
        self.catch_up()
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    def by_reference(self, reference: str) -> list[UUID]:
        return self._ids(sa.select(invoices.c.invoice_id).where(invoices.c.structured_reference == reference))

    def by_numbers(self, numbers: list[str]) -> list[UUID]:
        """The invoices these numbers name, in their order, whatever the case they are written in: one query on
        `upper(number)`, which its expression index serves (migration 0017). Where numbers differ only by case, the
        one written exactly as quoted is taken."""
        if not numbers:
            return []
        self.catch_up()
        wanted = {n.upper() for n in numbers}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(invoices.c.number, invoices.c.invoice_id)
                                .where(sa.func.upper(invoices.c.number).in_(wanted))
                                .order_by(invoices.c.number, invoices.c.invoice_id)).all()
        exact = {r.number: r.invoice_id for r in rows}
        folded: dict[str, UUID] = {}
        for r in rows:
            folded.setdefault(r.number.upper(), r.invoice_id)
        found = [exact.get(n) or folded.get(n.upper()) for n in numbers]
        return list(dict.fromkeys(i for i in found if i is not None))

    def open_for_customer(self, customer_id: UUID, currency: str) -> list[UUID]:
        return self._ids(
            sa.select(invoices.c.invoice_id)
            .where(invoices.c.customer_id == customer_id, invoices.c.currency == currency, invoices.c.open_minor > 0)
            .order_by(invoices.c.due_on, invoices.c.number)
        )

    def open_amount(self, customer_id: UUID, currency: str) -> int:
        self.catch_up()
        with self.engine.connect() as conn:
            found = conn.scalar(sa.select(customer_balances.c.open_minor).where(
                customer_balances.c.customer_id == customer_id, customer_balances.c.currency == currency))
        return int(found or 0)
