"""The ledger entries: every change of a customer's balance, with its business date (`effective_on`) and its
recording time, for statements and as-known-at reports; each entry also moves the customer's balance and, for an
invoice, its aging steps."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from ar.domain.clock import business_date
from ar.domain.invoice import Invoice
from ar.domain.payment import Payment
from ar.projections.receivables.bulk import Rows
from ar.projections.receivables.state import NO_BALANCE, Balance, new_tuple
from ar.projections.receivables.summaries import OpenAmounts

I, P = Invoice, Payment  # noqa: E741  (short names keep the event tables readable)


class Ledger(OpenAmounts):
    """The part of a batch that writes ledger entries and customer balances."""

    invoices: Rows
    payments: Rows
    entries: list[dict[str, Any]]
    balances: dict[tuple[UUID, str], Balance]

    def _entry(self, position: int, event: Any, *, kind: str, customer_id: UUID, currency: str, effective_on: date,
               invoice: dict[str, Any] | None = None, payment_id: UUID | None = None, reference: str | None = None,
               payment_external_id: str | None = None, invoice_delta: int = 0, account_delta: int = 0,
               counterparty_id: UUID | None = None, invoice_number: str | None = None) -> None:
        self.entries.append({
            "position": position, "customer_id": customer_id, "currency": currency, "kind": kind,
            "invoice_id": invoice["invoice_id"] if invoice else None, "payment_id": payment_id,
            "reference": reference, "due_on": invoice["due_on"] if invoice else None, "effective_on": effective_on,
            "recorded_at": event.at, "invoice_delta_minor": invoice_delta, "account_delta_minor": account_delta,
            # for statements, without joins: both never change once set
            "invoice_number": invoice["number"] if invoice else invoice_number,
            "payment_external_id": payment_external_id, "counterparty_id": counterparty_id,
        })
        key = (customer_id, currency)
        balance = self.balances.get(key, NO_BALANCE)
        self.balances[key] = new_tuple(Balance, (balance[0] + invoice_delta, balance[1] + account_delta))
        if invoice is not None and invoice_delta:
            self._step(invoice, effective_on, invoice_delta)

    def _invoice_ledger(self, position: int, event: Any, row: dict[str, Any], delta: int) -> None:
        common = {"customer_id": row["customer_id"], "currency": row["currency"], "invoice": row}
        if isinstance(event, I.Issued):
            self._entry(position, event, kind="invoice", effective_on=row["issued_on"], reference=row["number"],
                        invoice_delta=delta, account_delta=delta, **common)
        elif isinstance(event, I.PaymentAllocated | I.AllocationReversed):
            payment = self.payments.get(self.conn, event.payment_id)
            allocated = isinstance(event, I.PaymentAllocated)
            if allocated:  # a payment counts from its value date
                on = payment["value_on"] if payment else business_date(event.at)
            else:
                on = (payment or {}).get("returned_on") or business_date(event.at)
            # cash from another account (unknown payer, parent company) settles this customer's account too
            payer = (payment or {}).get("customer_id")
            foreign = payment is None or payer != row["customer_id"]
            self._entry(position, event, kind="payment_allocated" if allocated else "allocation_reversed",
                        effective_on=max(on, row["issued_on"]),  # never before the invoice existed
                        payment_id=event.payment_id, payment_external_id=(payment or {}).get("external_id"),
                        invoice_delta=delta, account_delta=delta if foreign else 0,
                        counterparty_id=payer if foreign else None, **common)
        elif isinstance(event, I.CreditNoteApplied):
            self._entry(position, event, kind="credit_note", effective_on=event.credited_on, reference=event.number,
                        invoice_delta=delta, account_delta=delta, **common)
        elif isinstance(event, I.WrittenOff):
            self._entry(position, event, kind="write_off", effective_on=event.written_off_on,
                        invoice_delta=delta, account_delta=delta, **common)
        elif isinstance(event, I.EarlyPaymentDiscountTaken):  # from the value date of the payment that took it
            self._entry(position, event, kind="early_payment_discount", effective_on=max(event.on, row["issued_on"]),
                        payment_id=event.payment_id, invoice_delta=delta, account_delta=delta, **common)
        elif isinstance(event, I.EarlyPaymentDiscountWithdrawn):  # (a kind is 24 characters at most)
            self._entry(position, event, kind="discount_withdrawn", effective_on=business_date(event.at),
                        payment_id=event.payment_id, invoice_delta=delta, account_delta=delta, **common)

    def _payment_ledger(self, position: int, event: Any, row: dict[str, Any]) -> None:
        if row["customer_id"] is None:
            return
        common = {"customer_id": row["customer_id"], "currency": row["currency"], "payment_id": row["payment_id"],
                  "payment_external_id": row["external_id"]}
        if isinstance(event, P.Received):
            self._entry(position, event, kind="payment", effective_on=row["value_on"],
                        account_delta=-row["amount_minor"], **common)
        elif isinstance(event, P.Refunded):
            self._entry(position, event, kind="refund", effective_on=event.refunded_on,
                        account_delta=event.amount.minor, **common)
        elif isinstance(event, P.Returned):
            self._entry(position, event, kind="payment_returned", effective_on=event.returned_on,
                        account_delta=row["amount_minor"], **common)
        elif isinstance(event, P.Allocated | P.AllocationReversed):
            invoice = self.invoices.get(self.conn, event.invoice_id)
            if invoice is not None and invoice["customer_id"] != row["customer_id"]:  # paid for another account
                allocated = isinstance(event, P.Allocated)
                self._entry(position, event, kind="paid_for_other" if allocated else "paid_for_other_reversed",
                            effective_on=max(row["value_on"], invoice["issued_on"]),
                            account_delta=(1 if allocated else -1) * event.amount.minor,
                            counterparty_id=invoice["customer_id"], invoice_number=invoice["number"], **common)
