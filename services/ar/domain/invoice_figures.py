"""What an invoice holds and the figures derived from it: the state its events build, read by each concern of the
aggregate (`invoice_settlement`, `invoice_disputes`, `invoice_dunning`, `invoice_lifecycle`, `invoice_discount`).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ar.domain.dunning_state import DunningState
from ar.domain.early_payment import DiscountOffer, DiscountTaken
from ar.domain.errors import CurrencyMismatch, DomainRuleViolation, InvoiceClosed, InvoiceSettled, OverAllocation
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.lifecycle import LifecycleState
from ar.domain.money import Money
from ar.domain.settlement import DisputePeriod, Settlement
from ar.domain.status import InvoiceStatus, derive_status
from ar.domain.vat import VatLine


def positive(amount: Money, field: str) -> None:
    if not amount.is_positive:
        raise DomainRuleViolation("the amount must be greater than zero", field=field)


class InvoiceFigures:
    """The state of an invoice as its Issued event sets it (`Invoice.__init__`) and its other events change it:
    declared here so that each concern is type-checked against it."""

    number: str
    series: str
    customer_id: UUID
    numbered_by: str
    kind: InvoiceKind
    category: Category
    total: Money
    vat: list[VatLine]
    issued_on: date
    due_on: date
    due_on_derogation: str | None
    purchase_order: str | None
    external_id: str | None
    structured_reference: str
    deductions: dict[str, Money]  # by deposit invoice id
    issued_at: datetime
    allocations: dict[UUID, Money]
    credit_notes: dict[str, Money]  # by number
    credit_note_ids: set[UUID]
    written_off: Money
    disputes: dict[UUID, Money]
    resolved_disputes: set[UUID]
    deducted_by: UUID | None
    over_credit_limit: Money | None
    dunning: DunningState
    settlements: dict[str, Settlement]  # by what settled it: "payment:<id>", "credit:<number>"...
    dispute_periods: dict[UUID, DisputePeriod]
    discount_offer: DiscountOffer | None  # early-payment discount (ar.domain.early_payment)
    discount_taken: DiscountTaken | None
    lifecycle: LifecycleState  # e-invoice document and platform statuses (ar.domain.lifecycle)

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
        settled = sum(a.minor for a in (*self.deductions.values(), *self.allocations.values(),
                                        *self.credit_notes.values()))
        discount = self.discount_taken.amount.minor if self.discount_taken else 0
        return Money(self.total.minor - settled - self.written_off.minor - discount, self.currency)

    @property
    def status(self) -> InvoiceStatus:
        return derive_status(open_minor=self.open_amount.minor, allocated_minor=(self.allocated + self.deducted).minor,
                             credited_minor=self.credited.minor, written_off_minor=self.written_off.minor,
                             disputed=bool(self.disputes), verdict=self.lifecycle.verdict)

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

    def check_something_open(self, what: str) -> None:
        """A paid (or credited, or written-off) invoice leaves nothing to dispute or promise: say so, rather than
        let the amount (by default the open amount, zero) be refused as not positive."""
        if not self.open_amount.is_positive:
            raise InvoiceSettled(f"invoice {self.number} is {self.status.value}; there is nothing left to {what}",
                                 field="invoice_id")

    def _settled_minor(self) -> int:
        return (self.allocated + self.credited + self.deducted + self.written_off).minor

    @property
    def remindable(self) -> Money:
        """What a reminder may ask for: the open amount net of what is in dispute."""
        return Money(max(0, self.open_amount.minor - self.disputed.minor), self.currency)
