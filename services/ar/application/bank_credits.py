"""A bank credit recorded as a payment with everything its match decided, in one save: the payment, its allocations
and the write-off of a shortfall within tolerance (bank charges). Saved apart, a crash (or a refusal) between the
saves would leave an invoice partly paid that the statement says was settled; saved together, either all of it is
recorded or none of it is, and the credit then waits for a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from ar.application.commands import Saved
from ar.application.receivables import Receivables
from ar.domain.customer import Customer
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod


@dataclass(frozen=True)
class WriteOff:
    """Write off `amount`, the rest of `invoice_id` once the credit is allocated, as `reason`; skipped when
    something else is open on it (a disputed part is never written off as bank charges)."""

    invoice_id: UUID
    amount: Money
    reason: str


@dataclass(frozen=True)
class RecordedCredit:
    saved: Saved[Payment]
    written_off: Money | None  # None: nothing written off (none asked, the invoice had more open, or recorded before)


def record_credit(app: Receivables, *, payment_id: UUID, customer_id: UUID | None, amount: Money,
                  method: PaymentMethod, value_on: date, payer_reference: str | None, remittance: str | None,
                  external_id: str, allocations: list[tuple[UUID, Money]] | None,
                  write_off: WriteOff | None) -> RecordedCredit:
    """As `Receivables.record_payment` with explicit allocations, plus the write-off, in the same transaction. A
    payment recorded already (the same credit imported before, or concurrently) is returned as it stands."""
    written: list[Money] = []

    def decide() -> Saved[Payment]:
        written.clear()  # a retry after a lost race decides again
        if customer_id is not None:
            app._get(Customer, customer_id, "customer_id")
        payment = Payment.receive(id=payment_id, customer_id=customer_id, amount=amount, method=method,
                                  value_on=value_on, payer_reference=payer_reference, remittance=remittance,
                                  external_id=external_id, at=app.clock.now())
        invoices = app._apply(payment, allocations, auto=False)
        if write_off is not None:
            invoice = next((i for i in invoices if i.id == write_off.invoice_id), None)
            if invoice is not None and invoice.open_amount == write_off.amount:
                invoice.write_off(value_on, write_off.reason, app.clock.now())
                written.append(write_off.amount)
        return Saved(payment, app._save(payment, *invoices))

    saved = app._create(Payment, payment_id, decide)
    return RecordedCredit(saved, written[0] if written and saved.position is not None else None)
