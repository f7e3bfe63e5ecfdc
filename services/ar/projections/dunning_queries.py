"""Reads of the dunning read models: candidates for a run, what is due, the agenda."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.projections.dunning_tables import dunning_agenda


class DunningLookups:
    """Implements the application's `DunningCandidates` port (caught up first)."""

    def __init__(self, engine: sa.Engine, catch_up: Callable[[], Any]) -> None:
        self.engine, self.catch_up = engine, catch_up

    def open_invoices(self, customer_id: UUID) -> list[UUID]:
        self.catch_up()
        with self.engine.connect() as conn:
            return list(conn.scalars(
                sa.select(dunning_agenda.c.invoice_id)
                .where(dunning_agenda.c.customer_id == customer_id, dunning_agenda.c.open_minor > 0)
                .order_by(dunning_agenda.c.due_on, dunning_agenda.c.number)))

    def invoices_of(self, customer_ids: list[UUID] | None, limit: int) -> list[UUID]:
        self.catch_up()
        query = sa.select(dunning_agenda.c.invoice_id).order_by(dunning_agenda.c.due_on).limit(limit)
        if customer_ids is not None:
            query = query.where(dunning_agenda.c.customer_id.in_(customer_ids))
        with self.engine.connect() as conn:
            return list(conn.scalars(query))


def due_by_customer(conn: sa.Connection, today: date) -> dict[UUID, list[UUID]]:
    """Invoices with a dunning action due on or before `today`, grouped by customer."""
    rows = conn.execute(sa.select(dunning_agenda.c.customer_id, dunning_agenda.c.invoice_id)
                        .where(dunning_agenda.c.next_on <= today)
                        .order_by(dunning_agenda.c.customer_id, dunning_agenda.c.due_on))
    due: dict[UUID, list[UUID]] = defaultdict(list)
    for customer_id, invoice_id in rows:
        due[customer_id].append(invoice_id)
    return dict(due)
