"""Builders for the pure domain tests: aggregates are plain objects here, no application and no database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.vat import VatLine

AT = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)
ISSUED_ON = date(2026, 1, 20)
DUE_ON = date(2026, 2, 19)

IssueInvoice = Callable[..., Invoice]
ReceivePayment = Callable[..., Payment]


@pytest.fixture
def customer_id() -> UUID:
    return uuid4()


@pytest.fixture
def issue_invoice(customer_id: UUID) -> IssueInvoice:
    """Issue an invoice with one exempt VAT line (base == total); its creation event is already collected."""
    numbers = iter(range(1, 1_000_000))

    def issue(
        total_minor: int,
        *,
        currency: str = "EUR",
        kind: InvoiceKind = InvoiceKind.STANDARD,
        deposits: Sequence[Invoice] = (),
        customer: UUID | None = None,
        issued_on: date = ISSUED_ON,
        due_on: date = DUE_ON,
    ) -> Invoice:
        total = Money(total_minor, currency)
        invoice = Invoice.issue(
            id=uuid4(), number=f"F2026-{next(numbers):06d}", series="F2026", customer_id=customer or customer_id,
            kind=kind, total=total, vat=[VatLine(Decimal(0), total, Money.zero(currency))], issued_on=issued_on,
            due_on=due_on, category=Category.SERVICES, purchase_order=None, external_id=None,
            structured_reference="RF00", deposits=list(deposits), at=AT,
        )
        invoice.collect_events()
        for deposit in deposits:
            deposit.collect_events()
        return invoice

    return issue


@pytest.fixture
def receive_payment(customer_id: UUID) -> ReceivePayment:
    """Receive a payment; its creation event is already collected."""

    def receive(
        amount_minor: int,
        *,
        currency: str = "EUR",
        method: PaymentMethod = PaymentMethod.TRANSFER,
        remittance: str | None = None,
    ) -> Payment:
        payment = Payment.receive(
            id=uuid4(), customer_id=customer_id, amount=Money(amount_minor, currency), method=method,
            value_on=date(2026, 2, 10), payer_reference=None, remittance=remittance, external_id=None, at=AT,
        )
        payment.collect_events()
        return payment

    return receive
