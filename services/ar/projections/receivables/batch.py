"""One batch of events applied to the receivables read models: the invoice and payment rows (open items, unapplied
cash) here, the ledger entries and balances (`ledger`) and the open amounts and aging steps (`summaries`) by the
parts it inherits, all from the same rows in memory so the tables agree with each other by construction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ar.domain.invoice import Invoice
from ar.domain.lifecycle import VERDICTS
from ar.domain.payment import Payment
from ar.domain.status import derive_status
from ar.projections.invoice_queries import LIFECYCLE_NAMES
from ar.projections.receivables.bulk import insert_rows
from ar.projections.receivables.ledger import Ledger
from ar.projections.receivables.state import State
from ar.projections.receivables.summaries import add_summaries
from ar.projections.tables import ledger_entries

I, P = Invoice, Payment  # noqa: E741  (short names keep the event tables readable)
INVOICE_AMOUNTS = ("deducted", "allocated", "credited", "written_off")
_INVOICE_MOVES: dict[type[Any], tuple[str, int]] = {
    I.PaymentAllocated: ("allocated", 1), I.AllocationReversed: ("allocated", -1),
    I.CreditNoteApplied: ("credited", 1), I.WrittenOff: ("written_off", 1),
    I.DisputeOpened: ("disputed", 1), I.DisputeResolved: ("disputed", -1),
    # an early-payment discount reduces the price, as a credit note does (the invoice's answer tells them apart)
    I.EarlyPaymentDiscountTaken: ("credited", 1), I.EarlyPaymentDiscountWithdrawn: ("credited", -1),
}
_PAYMENT_MOVES: dict[type[Any], tuple[str, int]] = {
    P.Allocated: ("allocated", 1), P.AllocationReversed: ("allocated", -1), P.Refunded: ("refunded", 1),
}
INVOICE_DELTAS = {I.PaymentAllocated, I.AllocationReversed, I.CreditNoteApplied, I.WrittenOff,  # move the aging
                  I.EarlyPaymentDiscountTaken, I.EarlyPaymentDiscountWithdrawn}


def _derive_invoice(row: dict[str, Any]) -> None:
    row["open_minor"] = row["total_minor"] - sum(row[f"{a}_minor"] for a in INVOICE_AMOUNTS)
    row["status"] = derive_status(
        open_minor=row["open_minor"], allocated_minor=row["allocated_minor"] + row["deducted_minor"],
        credited_minor=row["credited_minor"], written_off_minor=row["written_off_minor"],
        disputed=row["disputed_minor"] > 0, verdict=row["lifecycle_verdict"],
    ).value


def _derive_payment(row: dict[str, Any]) -> None:
    row["unapplied_minor"] = 0 if row["returned_on"] else (
        row["amount_minor"] - row["allocated_minor"] - row["refunded_minor"])


class Batch(Ledger):
    def __init__(self, conn: sa.Connection, state: State) -> None:
        self.conn, self.state = conn, state
        self.invoices, self.payments = state.invoices, state.payments
        self.entries = []
        self.by_due, self.balances = state.by_due, state.balances

    def event(self, position: int, event: Any) -> None:
        if isinstance(event, Invoice.Event):
            self.invoice_event(position, event)
        elif isinstance(event, Payment.Event):
            self.payment_event(position, event)

    def invoice_event(self, position: int, event: Any) -> None:
        if isinstance(event, I.Issued):
            deducted = sum(m.minor for m in event.deductions.values())
            one = self.state.shared.setdefault
            row = self.invoices.add(event.originator_id, {
                "invoice_id": event.originator_id, "number": event.number, "series": one(event.series, event.series),
                "customer_id": one(event.customer_id, event.customer_id), "kind": one(event.kind, event.kind),
                "category": one(event.category, event.category),
                "currency": one(event.total.currency, event.total.currency),
                "issued_on": one(event.issued_on, event.issued_on), "due_on": one(event.due_on, event.due_on),
                "total_minor": event.total.minor, "deducted_minor": deducted, "allocated_minor": 0,
                "credited_minor": 0, "written_off_minor": 0, "disputed_minor": 0,
                "structured_reference": event.structured_reference, "purchase_order": event.purchase_order,
                "external_id": event.external_id, "open_minor": 0,
                "lifecycle_status": None, "lifecycle_code": None, "lifecycle_verdict": None,
            })
            before = 0
        else:
            found = self.invoices.get(self.conn, event.originator_id)
            if found is None:
                raise LookupError(f"event for unknown invoice {event.originator_id} at position {position}")
            row, before = found, found["open_minor"]
            if type(event) in _INVOICE_MOVES:
                column, sign = _INVOICE_MOVES[type(event)]
                row[f"{column}_minor"] += sign * event.amount.minor
            elif isinstance(event, I.LifecycleStatusReceived):
                row["lifecycle_status"] = LIFECYCLE_NAMES.get(event.code, event.code)
                row["lifecycle_code"] = event.code
                row["lifecycle_verdict"] = VERDICTS.get(event.code, row["lifecycle_verdict"])
        row["version"] = event.originator_version
        _derive_invoice(row)
        self._open_moved(row, before)
        self._invoice_ledger(position, event, row, delta=row["open_minor"] - before)

    def payment_event(self, position: int, event: Any) -> None:
        if isinstance(event, P.Received):
            one = self.state.shared.setdefault
            row = self.payments.add(event.originator_id, {
                "payment_id": event.originator_id, "customer_id": one(event.customer_id, event.customer_id),
                "currency": one(event.amount.currency, event.amount.currency),
                "method": one(event.method, event.method), "value_on": one(event.value_on, event.value_on),
                "amount_minor": event.amount.minor, "allocated_minor": 0, "refunded_minor": 0,
                "returned_on": None, "external_id": event.external_id,
            })
        else:
            found = self.payments.get(self.conn, event.originator_id)
            if found is None:
                raise LookupError(f"event for unknown payment {event.originator_id} at position {position}")
            row = found
            if type(event) in _PAYMENT_MOVES:
                column, sign = _PAYMENT_MOVES[type(event)]
                row[f"{column}_minor"] += sign * event.amount.minor
            elif isinstance(event, P.Returned):
                row["returned_on"] = event.returned_on
        row["version"] = event.originator_version
        _derive_payment(row)
        self._payment_ledger(position, event, row)

    def flush(self) -> None:
        conn = self.conn
        self.invoices.flush(conn)
        self.payments.flush(conn)
        insert_rows(conn, ledger_entries, self.entries)
        add_summaries(conn, self.state)
