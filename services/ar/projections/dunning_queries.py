"""Reads of the dunning read models: candidates for a run, what is due, the agenda, the ops task queue.

One home per query: the sweeper, the application's `DunningCandidates` port and the API read the agenda and the
task queue here, never with SQL of their own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.projections.dunning_tables import dunning_agenda, dunning_tasks
from ar.projections.sql import aware
from ar.projections.tables import customers


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


def agenda(engine: sa.Engine, *, until: date, customer_id: UUID | None, limit: int) -> list[dict[str, Any]]:
    """The next action of every invoice due by `until` (overdue ones first), with its customer's name (null while
    the customers read model catches up), ordered by date, then customer name and invoice number."""
    a = dunning_agenda.c
    query = (sa.select(dunning_agenda, customers.c.name.label("customer_name"))
             .select_from(dunning_agenda.outerjoin(customers, customers.c.customer_id == a.customer_id))
             .where(a.next_on.is_not(None), a.next_on <= until)
             .order_by(a.next_on, customers.c.name, a.customer_id, a.number).limit(limit))
    if customer_id is not None:
        query = query.where(a.customer_id == customer_id)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def tasks(engine: sa.Engine, *, state: str | None, customer_id: UUID | None, limit: int) -> list[dict[str, Any]]:
    """Calls and hand-offs decided by dunning runs, oldest first; times aware (in UTC)."""
    t = dunning_tasks.c
    query = sa.select(dunning_tasks).order_by(t.due_on, t.created_at, t.task_id).limit(limit)
    if state is not None:
        query = query.where(t.state == state)
    if customer_id is not None:
        query = query.where(t.customer_id == customer_id)
    with engine.connect() as conn:
        return [{k: aware(v) for k, v in row.items()} for row in conn.execute(query).mappings()]
