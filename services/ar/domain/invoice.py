"""The invoice aggregate: issued once, then settled by allocations, credit notes, deposits or a write-off."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import Conflict, CurrencyMismatch, DomainRuleViolation, InvoiceClosed, OverAllocation
from ar.domain.money import Money
from ar.domain.status import InvoiceStatus, derive_status
from ar.domain.vat import VatLine, check_breakdown


class InvoiceKind(StrEnum):
    STANDARD = "standard"
    DEPOSIT = "deposit"  # acompte
    FINAL = "final"  # deducts the deposits invoiced before it


class Category(StrEnum):
    GOODS = "goods"
    SERVICES = "services"
    MIXED = "mixed"


def positive(amount: Money, field: str) -> None:
    if not amount.is_positive:
        raise DomainRuleViolation("the amount must be greater than zero", field=field)


class Invoice(Aggregate):
    @classmethod
    def issue(cls, *, id: UUID, number: str, series: str, customer_id: UUID, kind: InvoiceKind, total: Money,
              vat: list[VatLine], issued_on: date, due_on: date, category: Category, purchase_order: str | None,
              external_id: str | None, structured_reference: str, deposits: list[Invoice], at: datetime) -> Invoice:
        positive(total, "total_minor")
        check_breakdown(vat, total)
        if due_on < issued_on:
            raise DomainRuleViolation("the due date cannot precede the issue date", field="due_on")
        if deposits and kind is not InvoiceKind.FINAL:
            raise DomainRuleViolation("only a final invoice deducts deposits", field="deposit_invoice_ids")
        if len({d.id for d in deposits}) != len(deposits):
            raise DomainRuleViolation("a deposit is listed twice", field="deposit_invoice_ids")
        deductions: dict[str, Money] = {}
        for i, deposit in enumerate(deposits):
            deposit.check_deductible_by(customer_id, total.currency, field=f"deposit_invoice_ids[{i}]")
            deductions[str(deposit.id)] = deposit.total - deposit.credited
        if sum(d.minor for d in deductions.values()) > total.minor:
            raise OverAllocation("the deposits exceed the final invoice total", field="deposit_invoice_ids")
        invoice = cls(id=id, number=number, series=series, customer_id=customer_id, kind=kind.value, total=total,
                      vat=[line.to_dict() for line in vat], issued_on=issued_on, due_on=due_on,
                      category=category.value, purchase_order=purchase_order, external_id=external_id,
                      structured_reference=structured_reference, deductions=deductions, at=at)
        for deposit in deposits:
            deposit._deducted(final_invoice_id=invoice.id, at=at)
        return invoice

    @event("Issued")
    def __init__(self, id: UUID, number: str, series: str, customer_id: UUID, kind: str, total: Money,
                 vat: list[dict[str, Any]], issued_on: date, due_on: date, category: str,
                 purchase_order: str | None, external_id: str | None, structured_reference: str,
                 deductions: dict[str, Money], at: datetime) -> None:
        self.number, self.series, self.customer_id = number, series, customer_id
        self.kind, self.category = InvoiceKind(kind), Category(category)
        self.total, self.vat = total, [VatLine.from_dict(line, total.currency) for line in vat]
        self.issued_on, self.due_on = issued_on, due_on
        self.purchase_order, self.external_id = purchase_order, external_id
        self.structured_reference = structured_reference
        self.deductions = deductions
        self.issued_at = at
        self.allocations: dict[UUID, Money] = {}
        self.credit_notes: dict[str, Money] = {}
        self.written_off = Money.zero(total.currency)
        self.disputes: dict[UUID, Money] = {}
        self.resolved_disputes: set[UUID] = set()
        self.deducted_by: UUID | None = None
        self.over_credit_limit: Money | None = None

    # Derived figures -----------------------------------------------------------------------------------------
    @property
    def currency(self) -> str:
        return self.total.currency

    def _sum(self, amounts: list[Money]) -> Money:
        return Money(sum(a.minor for a in amounts), self.currency)

    @property
    def deducted(self) -> Money:
        return self._sum(list(self.deductions.values()))

    @property
    def allocated(self) -> Money:
        return self._sum(list(self.allocations.values()))

    @property
    def credited(self) -> Money:
        return self._sum(list(self.credit_notes.values()))

    @property
    def disputed(self) -> Money:
        return self._sum(list(self.disputes.values()))

    @property
    def open_amount(self) -> Money:
        return self.total - self.deducted - self.allocated - self.credited - self.written_off

    @property
    def status(self) -> InvoiceStatus:
        return derive_status(open_minor=self.open_amount.minor, allocated_minor=(self.allocated + self.deducted).minor,
                             credited_minor=self.credited.minor, written_off_minor=self.written_off.minor,
                             disputed=bool(self.disputes))

    @property
    def is_closed(self) -> bool:
        """Settled by a write-off or credit notes: nothing may be allocated to it (unless a reversal reopens it)."""
        return self.open_amount.is_zero and (self.written_off.is_positive or self.allocated.is_zero)

    def check_open_for(self, amount: Money, field: str) -> None:
        if amount.currency != self.currency:
            raise CurrencyMismatch(f"invoice {self.number} is in {self.currency}, not {amount.currency}",
                                   field="currency")
        positive(amount, field)
        if self.is_closed:
            raise InvoiceClosed(f"invoice {self.number} is {self.status.value}", field="invoice_id")
        if amount > self.open_amount:
            raise OverAllocation(f"{amount} exceeds the open amount {self.open_amount} of invoice {self.number}",
                                 field=field)

    # Allocations ---------------------------------------------------------------------------------------------
    def allocate(self, payment_id: UUID, amount: Money, at: datetime) -> None:
        if payment_id in self.allocations:  # already applied: a retry is a no-op
            return
        self.check_open_for(amount, "amount_minor")
        self._allocated(payment_id=payment_id, amount=amount, at=at)

    @event("PaymentAllocated")
    def _allocated(self, payment_id: UUID, amount: Money, at: datetime) -> None:
        self.allocations[payment_id] = amount

    def reverse_allocation(self, payment_id: UUID, reason: str, at: datetime) -> None:
        if payment_id not in self.allocations:
            return
        self._allocation_reversed(payment_id=payment_id, amount=self.allocations[payment_id], reason=reason, at=at)

    @event("AllocationReversed")
    def _allocation_reversed(self, payment_id: UUID, amount: Money, reason: str, at: datetime) -> None:
        del self.allocations[payment_id]

    # Credit notes, write-off ---------------------------------------------------------------------------------
    def apply_credit_note(self, number: str, amount: Money, credited_on: date, reason: str, at: datetime) -> None:
        if number in self.credit_notes:
            return
        self.check_open_for(amount, "amount_minor")
        self._credited(number=number, amount=amount, credited_on=credited_on, reason=reason, at=at)

    @event("CreditNoteApplied")
    def _credited(self, number: str, amount: Money, credited_on: date, reason: str, at: datetime) -> None:
        self.credit_notes[number] = amount

    def write_off(self, written_off_on: date, reason: str, at: datetime) -> None:
        """Write off what is open now (again, if a reversal reopened a written-off invoice)."""
        if not self.open_amount.is_positive:
            if self.written_off.is_positive:  # already written off: a retry is a no-op
                return
            raise InvoiceClosed(f"invoice {self.number} has nothing open to write off", field="invoice_id")
        self._written_off(amount=self.open_amount, written_off_on=written_off_on, reason=reason, at=at)

    @event("WrittenOff")
    def _written_off(self, amount: Money, written_off_on: date, reason: str, at: datetime) -> None:
        self.written_off += amount

    # Disputes -----------------------------------------------------------------------------------------------
    def open_dispute(self, dispute_id: UUID, amount: Money, reason: str, opened_on: date, at: datetime) -> None:
        if dispute_id in self.disputes or dispute_id in self.resolved_disputes:
            return
        if self.disputes:
            raise Conflict(f"invoice {self.number} already has an open dispute", field="invoice_id")
        self.check_open_for(amount, "amount_minor")
        self._dispute_opened(dispute_id=dispute_id, amount=amount, reason=reason, opened_on=opened_on, at=at)

    @event("DisputeOpened")
    def _dispute_opened(self, dispute_id: UUID, amount: Money, reason: str, opened_on: date, at: datetime) -> None:
        self.disputes[dispute_id] = amount

    def resolve_dispute(self, dispute_id: UUID, outcome: str, resolved_on: date, at: datetime) -> None:
        if dispute_id in self.resolved_disputes:
            return
        if dispute_id not in self.disputes:
            raise DomainRuleViolation(f"invoice {self.number} has no open dispute {dispute_id}", field="dispute_id")
        self._dispute_resolved(dispute_id=dispute_id, amount=self.disputes[dispute_id], outcome=outcome,
                               resolved_on=resolved_on, at=at)

    @event("DisputeResolved")
    def _dispute_resolved(self, dispute_id: UUID, amount: Money, outcome: str, resolved_on: date,
                          at: datetime) -> None:
        del self.disputes[dispute_id]
        self.resolved_disputes.add(dispute_id)

    # Credit limit -------------------------------------------------------------------------------------------
    def flag_over_credit_limit(self, exposure: Money, limit: Money, excess: Money, at: datetime) -> None:
        """Issued although it takes the customer over its credit limit (the customer's policy flags)."""
        self._over_credit_limit(exposure=exposure, limit=limit, excess=excess, at=at)

    @event("IssuedOverCreditLimit")
    def _over_credit_limit(self, exposure: Money, limit: Money, excess: Money, at: datetime) -> None:
        self.over_credit_limit = excess

    # Deposits -----------------------------------------------------------------------------------------------
    def check_deductible_by(self, customer_id: UUID, currency: str, field: str) -> None:
        if self.kind is not InvoiceKind.DEPOSIT:
            raise DomainRuleViolation(f"invoice {self.number} is not a deposit invoice", field=field)
        if self.customer_id != customer_id or self.currency != currency:
            raise DomainRuleViolation(f"deposit {self.number} belongs to another customer or currency", field=field)
        if self.deducted_by is not None:
            raise DomainRuleViolation(f"deposit {self.number} is already deducted by another invoice", field=field)
        if self.written_off.is_positive or self.credited == self.total:
            raise DomainRuleViolation(f"deposit {self.number} was {self.status.value}: there is nothing to deduct",
                                      field=field)

    @event("DepositDeducted")
    def _deducted(self, final_invoice_id: UUID, at: datetime) -> None:
        self.deducted_by = final_invoice_id
