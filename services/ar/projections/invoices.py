"""The invoices read model: one row per invoice with its derived amounts and status; finds payment targets."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.invoice import Invoice
from ar.domain.status import derive_status
from ar.projections.tables import invoices

AMOUNTS = ("total", "deducted", "allocated", "credited", "written_off", "disputed")

# event type -> (amount column, sign)
_MOVES: dict[type[Any], tuple[str, int]] = {
    Invoice.PaymentAllocated: ("allocated", 1),  # type: ignore[attr-defined]
    Invoice.AllocationReversed: ("allocated", -1),  # type: ignore[attr-defined]
    Invoice.CreditNoteApplied: ("credited", 1),  # type: ignore[attr-defined]
    Invoice.WrittenOff: ("written_off", 1),  # type: ignore[attr-defined]
    Invoice.DisputeOpened: ("disputed", 1),  # type: ignore[attr-defined]
    Invoice.DisputeResolved: ("disputed", -1),  # type: ignore[attr-defined]
}


def _issued_row(event: Any) -> dict[str, Any]:
    return {
        "invoice_id": event.originator_id, "number": event.number, "series": event.series,
        "customer_id": event.customer_id, "kind": event.kind, "category": event.category,
        "currency": event.total.currency, "issued_on": event.issued_on, "due_on": event.due_on,
        "total_minor": event.total.minor, "deducted_minor": sum(m.minor for m in event.deductions.values()),
        "allocated_minor": 0, "credited_minor": 0, "written_off_minor": 0, "disputed_minor": 0,
        "structured_reference": event.structured_reference, "purchase_order": event.purchase_order,
        "external_id": event.external_id,
    }


def _derive(row: dict[str, Any]) -> None:
    row["open_minor"] = row["total_minor"] - sum(row[f"{a}_minor"] for a in AMOUNTS[1:5])
    row["status"] = derive_status(
        open_minor=row["open_minor"], allocated_minor=row["allocated_minor"] + row["deducted_minor"],
        credited_minor=row["credited_minor"], written_off_minor=row["written_off_minor"],
        disputed=row["disputed_minor"] > 0,
    ).value


class InvoicesProjection:
    name = "invoices"

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        new: dict[UUID, dict[str, Any]] = {}
        changed: dict[UUID, dict[str, Any]] = {}
        for _position, event in events:
            if isinstance(event, Invoice.Issued):  # type: ignore[attr-defined]
                new[event.originator_id] = _issued_row(event)
                row = new[event.originator_id]
            elif type(event) in _MOVES:
                column, sign = _MOVES[type(event)]
                row = self._row(conn, event.originator_id, new, changed)
                row[f"{column}_minor"] += sign * event.amount.minor
            elif isinstance(event, Invoice.Event):  # e.g. DepositDeducted: no amount moves, the version does
                row = self._row(conn, event.originator_id, new, changed)
            else:
                continue
            row["version"] = event.originator_version
            _derive(row)
        if new:
            conn.execute(invoices.insert(), list(new.values()))
        for invoice_id, row in changed.items():
            conn.execute(invoices.update().where(invoices.c.invoice_id == invoice_id).values(**row))

    @staticmethod
    def _row(conn: sa.Connection, invoice_id: UUID, new: dict[UUID, dict[str, Any]],
             changed: dict[UUID, dict[str, Any]]) -> dict[str, Any]:
        if invoice_id in new:
            return new[invoice_id]
        if invoice_id not in changed:
            found = conn.execute(sa.select(invoices).where(invoices.c.invoice_id == invoice_id)).mappings().one()
            changed[invoice_id] = dict(found)
        return changed[invoice_id]

    def reset(self, conn: sa.Connection) -> None:
        conn.execute(invoices.delete())


class InvoiceDirectory:
    """The application's `InvoiceFinder`, read from the invoices read model after catching it up."""

    def __init__(self, engine: sa.Engine, catch_up: Any) -> None:
        self.engine, self.catch_up = engine, catch_up

    def _ids(self, query: sa.Select[Any]) -> list[UUID]:
        self.catch_up()
        with self.engine.connect() as conn:
            return list(conn.scalars(query))

    def by_reference(self, reference: str) -> list[UUID]:
        return self._ids(sa.select(invoices.c.invoice_id).where(invoices.c.structured_reference == reference))

    def by_numbers(self, numbers: list[str]) -> list[UUID]:
        if not numbers:
            return []
        found = dict(self._ids_with_numbers(numbers))
        return [found[n] for n in numbers if n in found]

    def _ids_with_numbers(self, numbers: list[str]) -> list[tuple[str, UUID]]:
        self.catch_up()
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(invoices.c.number, invoices.c.invoice_id)
                                .where(invoices.c.number.in_(numbers)))
            return [(r.number, r.invoice_id) for r in rows]

    def open_for_customer(self, customer_id: UUID, currency: str) -> list[UUID]:
        return self._ids(
            sa.select(invoices.c.invoice_id)
            .where(invoices.c.customer_id == customer_id, invoices.c.currency == currency, invoices.c.open_minor > 0)
            .order_by(invoices.c.due_on, invoices.c.number)
        )
