"""How an invoice is settled: payments allocated (and reversed), credit notes, a write-off, deposits deducted.

The methods named for a fact (`_allocated`, `_allocation_reversed`, `_credited`, `_written_off`, `_deducted`) are
the bodies of the `@event` methods of `Invoice`: bound in `ar.domain.invoice` to the events declared there, so that
called on an invoice they record the event and apply it, and replayed they only assign (no decision in them).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ar.domain.clock import business_date
from ar.domain.errors import DomainRuleViolation, InvoiceClosed
from ar.domain.invoice_discount import InvoiceDiscount
from ar.domain.invoice_kind import InvoiceKind
from ar.domain.invoice_lifecycle import InvoiceLifecycle
from ar.domain.lifecycle import CASHED, split_by_rate
from ar.domain.money import Money
from ar.domain.settlement import Settlement, SettlementEffect, as_recorded_before_v3, settled, settling


class InvoiceSettlement(InvoiceLifecycle, InvoiceDiscount):
    """Settling an invoice; an allocation may take the early-payment discount and report 212 to a platform."""

    # Allocations ----------------------------------------------------------------------------------------------------
    def allocate(self, payment_id: UUID, amount: Money, at: datetime, value_on: date | None = None,
                 payer_customer_id: UUID | None = None) -> None:
        """`payer_customer_id`: the customer the payment came from (None: an unknown payer); another customer than
        this invoice's is a third party, such as a parent company paying for its subsidiary."""
        if payment_id in self.allocations:  # already applied: a retry is a no-op
            return
        self.check_open_for(amount, "amount_minor")
        reanchored_on, promise_kept = self._settling(amount, at)
        self._allocated(payment_id=payment_id, amount=amount, at=at, value_on=value_on or business_date(at),
                        payer_customer_id=payer_customer_id, reanchored_on=reanchored_on, promise_kept=promise_kept)
        self._take_discount_if_due(payment_id, value_on or business_date(at), at)
        if self.lifecycle.einvoice:  # an e-invoice: its platform is told the cash came in (212), by VAT rate
            self._lifecycle_status_sent(code=CASHED, payment_id=payment_id, amount=amount,
                                        amounts_by_rate=split_by_rate(amount, self.vat), at=at)

    def _allocated(self, payment_id: UUID, amount: Money, at: datetime, value_on: date,
                   payer_customer_id: UUID | None, reanchored_on: date | None, promise_kept: bool | None) -> None:
        self.allocations[payment_id] = amount
        self.settlements[f"payment:{payment_id}"] = Settlement(value_on, amount.minor)
        self._settled(at, reanchored_on, promise_kept)

    def _settling(self, amount: Money, at: datetime) -> SettlementEffect:
        """What settling `amount` more decides for the dunning schedule (`settlement.settling`), recorded on the
        event (v3) so that a change of the rule never changes replayed history."""
        return settling(self.dunning, open_minor=self.open_amount.minor, settled_minor=self._settled_minor(),
                        amount_minor=amount.minor, at=at)

    def _settled(self, at: datetime, reanchored_on: date | None, promise_kept: bool | None) -> None:
        """Apply what a settlement decided; events recorded before v3 (`promise_kept` None) did not record it and
        replay by the rule in force when they were recorded."""
        if promise_kept is None:
            effect = as_recorded_before_v3(self.dunning, open_minor=self.open_amount.minor,
                                           settled_minor=self._settled_minor(), at=at)
        else:
            effect = SettlementEffect(reanchored_on, promise_kept)
        self.dunning = settled(self.dunning, effect)

    def reverse_allocation(self, payment_id: UUID, reason: str, at: datetime) -> None:
        if payment_id not in self.allocations:
            return
        self._allocation_reversed(payment_id=payment_id, amount=self.allocations[payment_id], reason=reason, at=at)
        if self.discount_taken is not None and self.discount_taken.payment_id == payment_id:
            self._discount_withdrawn(payment_id=payment_id, amount=self.discount_taken.amount, reason=reason, at=at)

    def _allocation_reversed(self, payment_id: UUID, amount: Money, reason: str, at: datetime) -> None:
        del self.allocations[payment_id]
        self.settlements.pop(f"payment:{payment_id}", None)

    # Credit notes, write-off ----------------------------------------------------------------------------------------
    def has_credit_note(self, credit_note_id: UUID) -> bool:
        """Whether the credit note with this id (derived from the caller's Idempotency-Key) is already applied: a
        retry must not take a second number nor credit the invoice twice."""
        return credit_note_id in self.credit_note_ids

    def apply_credit_note(self, number: str, amount: Money, credited_on: date, reason: str, at: datetime,
                          credit_note_id: UUID | None = None) -> None:
        if number in self.credit_notes or (credit_note_id is not None and self.has_credit_note(credit_note_id)):
            return
        self.check_open_for(amount, "amount_minor")
        reanchored_on, promise_kept = self._settling(amount, at)
        self._credited(number=number, amount=amount, credited_on=credited_on, reason=reason, at=at,
                       credit_note_id=credit_note_id, reanchored_on=reanchored_on, promise_kept=promise_kept)

    def _credited(self, number: str, amount: Money, credited_on: date, reason: str, at: datetime,
                  credit_note_id: UUID | None, reanchored_on: date | None, promise_kept: bool | None) -> None:
        self.credit_notes[number] = amount
        if credit_note_id is not None:
            self.credit_note_ids.add(credit_note_id)
        self.settlements[f"credit:{number}"] = Settlement(credited_on, amount.minor)
        self._settled(at, reanchored_on, promise_kept)

    def write_off(self, written_off_on: date, reason: str, at: datetime) -> None:
        """Write off what is open now (again, if a reversal reopened a written-off invoice)."""
        if not self.open_amount.is_positive:
            if self.written_off.is_positive:  # already written off: a retry is a no-op
                return
            raise InvoiceClosed(f"invoice {self.number} has nothing open to write off", field="invoice_id")
        self._written_off(amount=self.open_amount, written_off_on=written_off_on, reason=reason, at=at)

    def _written_off(self, amount: Money, written_off_on: date, reason: str, at: datetime) -> None:
        self.written_off += amount
        self.settlements[f"write-off:{len(self.settlements)}"] = Settlement(written_off_on, amount.minor)

    # Deposits -------------------------------------------------------------------------------------------------------
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

    def _deducted(self, final_invoice_id: UUID, at: datetime) -> None:
        self.deducted_by = final_invoice_id
