"""The payment aggregate: money received, applied to invoices, refunded or returned."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import CurrencyMismatch, DomainRuleViolation, OverAllocation, PaymentReturned
from ar.domain.invoice import positive
from ar.domain.money import Money


class PaymentMethod(StrEnum):
    TRANSFER = "transfer"
    CARD = "card"
    DIRECT_DEBIT = "direct_debit"
    CHEQUE = "cheque"
    CASH = "cash"


RETURNABLE = {PaymentMethod.DIRECT_DEBIT, PaymentMethod.CHEQUE}


class Payment(Aggregate):
    @classmethod
    def receive(cls, *, id: UUID, customer_id: UUID | None, amount: Money, method: PaymentMethod, value_on: date,
                payer_reference: str | None, remittance: str | None, external_id: str | None,
                at: datetime) -> Payment:
        positive(amount, "amount_minor")
        return cls(id=id, customer_id=customer_id, amount=amount, method=method.value, value_on=value_on,
                   payer_reference=payer_reference, remittance=remittance, external_id=external_id, at=at)

    class Received(Aggregate.Created):
        """Money received from `customer_id` (None: a payer not identified yet), at our disposal on `value_on`."""

        customer_id: UUID | None
        amount: Money
        method: str
        value_on: date
        payer_reference: str | None
        remittance: str | None
        external_id: str | None
        at: datetime

    @event(Received)
    def __init__(self, id: UUID, customer_id: UUID | None, amount: Money, method: str, value_on: date,
                 payer_reference: str | None, remittance: str | None, external_id: str | None,
                 at: datetime) -> None:
        self.customer_id, self.amount, self.method = customer_id, amount, PaymentMethod(method)
        self.value_on, self.payer_reference, self.remittance = value_on, payer_reference, remittance
        self.external_id = external_id
        self.received_at = at
        self.allocations: dict[UUID, Money] = {}
        self.refunds: dict[UUID, Money] = {}
        self.returned_on: date | None = None

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def allocated(self) -> Money:
        return Money(sum(a.minor for a in self.allocations.values()), self.currency)

    @property
    def refunded(self) -> Money:
        return Money(sum(a.minor for a in self.refunds.values()), self.currency)

    @property
    def unapplied(self) -> Money:
        """Cash received and neither applied to an invoice nor refunded."""
        if self.returned_on is not None:
            return Money.zero(self.currency)
        return self.amount - self.allocated - self.refunded

    def _check_available(self, amount: Money, field: str) -> None:
        if amount.currency != self.currency:
            raise CurrencyMismatch(f"the payment is in {self.currency}, not {amount.currency}", field="currency")
        positive(amount, field)
        if self.returned_on is not None:
            raise PaymentReturned(f"the payment was returned on {self.returned_on}", field="payment_id")
        if amount > self.unapplied:
            raise OverAllocation(f"{amount} exceeds the unapplied {self.unapplied} of this payment", field=field)

    def allocate(self, invoice_id: UUID, amount: Money, at: datetime, invoice_customer_id: UUID | None = None) -> None:
        """`invoice_customer_id`: whose invoice it pays (`allocation.allocate` always says); another customer than
        the payer is a third party, as when a parent company pays for its subsidiary: allowed, and recorded."""
        if invoice_id in self.allocations:  # already applied: a retry is a no-op
            return
        self._check_available(amount, "amount_minor")
        self._allocated(invoice_id=invoice_id, amount=amount, at=at, invoice_customer_id=invoice_customer_id)

    class Allocated(Aggregate.Event):
        """v2 names the customer whose invoice the payment went to."""

        class_version = 2
        invoice_id: UUID
        amount: Money
        at: datetime
        invoice_customer_id: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["invoice_customer_id"] = None  # not recorded in v1 (the invoice's own events still say it)

    @event(Allocated)
    def _allocated(self, invoice_id: UUID, amount: Money, at: datetime, invoice_customer_id: UUID | None) -> None:
        self.allocations[invoice_id] = amount

    def reverse_allocation(self, invoice_id: UUID, reason: str, at: datetime) -> None:
        if invoice_id not in self.allocations:
            return
        self._allocation_reversed(invoice_id=invoice_id, amount=self.allocations[invoice_id], reason=reason, at=at)

    class AllocationReversed(Aggregate.Event):
        invoice_id: UUID
        amount: Money
        reason: str
        at: datetime

    @event(AllocationReversed)
    def _allocation_reversed(self, invoice_id: UUID, amount: Money, reason: str, at: datetime) -> None:
        del self.allocations[invoice_id]

    def refund(self, refund_id: UUID, amount: Money, refunded_on: date, at: datetime) -> None:
        if refund_id in self.refunds:
            return
        self._check_available(amount, "amount_minor")
        self._refunded(refund_id=refund_id, amount=amount, refunded_on=refunded_on, at=at)

    class Refunded(Aggregate.Event):
        refund_id: UUID
        amount: Money
        refunded_on: date
        at: datetime

    @event(Refunded)
    def _refunded(self, refund_id: UUID, amount: Money, refunded_on: date, at: datetime) -> None:
        self.refunds[refund_id] = amount

    def mark_returned(self, returned_on: date, reason: str, at: datetime) -> None:
        """A returned direct debit or bounced cheque; the caller reverses the allocations in the same save."""
        if self.returned_on is not None:
            return
        if self.method not in RETURNABLE:
            raise DomainRuleViolation(f"a {self.method.value} payment cannot be returned", field="method")
        if self.refunds:
            raise DomainRuleViolation("a refunded payment cannot be returned", field="payment_id")
        for invoice_id in list(self.allocations):
            self.reverse_allocation(invoice_id, reason, at)
        self._returned(returned_on=returned_on, reason=reason, at=at)

    class Returned(Aggregate.Event):
        """A returned direct debit or bounced cheque; its allocations were reversed just before."""

        returned_on: date
        reason: str
        at: datetime

    @event(Returned)
    def _returned(self, returned_on: date, reason: str, at: datetime) -> None:
        self.returned_on = returned_on
