"""The invoice aggregate: issued once, then settled by allocations, credit notes, deposits or a write-off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ar.domain.clock import business_date
from ar.domain.dunning_state import DunningState, Promise, TakenStep
from ar.domain.early_payment import DiscountOffer, discount_taken
from ar.domain.errors import (
    Conflict,
    CurrencyMismatch,
    DomainRuleViolation,
    InvoiceClosed,
    InvoiceSettled,
    OverAllocation,
)
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.lifecycle import (
    CASHED,
    DISPUTED,
    PAYMENT_SENT,
    REFUSED,
    REJECTED,
    SUSPENDED,
    AttachedDocument,
    LifecycleEntry,
    LifecycleState,
    check_received_code,
    snooze_until,
    split_by_rate,
)
from ar.domain.money import Money
from ar.domain.settlement import DisputePeriod, Settlement, SettlementEffect, as_recorded_before_v3, settled, settling
from ar.domain.status import InvoiceStatus, derive_status
from ar.domain.terms import EarlyPaymentDiscount, LegalCeiling, check_due_on
from ar.domain.vat import VatLine, check_breakdown, split_amount


def positive(amount: Money, field: str) -> None:
    if not amount.is_positive:
        raise DomainRuleViolation("the amount must be greater than zero", field=field)


class DiscountTaken(NamedTuple):
    """The early-payment discount a payment took: how much, on what day (its value date), its VAT split."""

    payment_id: UUID
    amount: Money
    on: date
    vat_split: list[VatLine]


class Invoice(Aggregate):
    @classmethod
    def issue(cls, *, id: UUID, number: str, series: str, customer_id: UUID, kind: InvoiceKind, total: Money,
              vat: list[VatLine], issued_on: date, due_on: date, category: Category, purchase_order: str | None,
              external_id: str | None, structured_reference: str, deposits: list[Invoice], at: datetime,
              ceiling: LegalCeiling | None = None, due_on_derogation: str | None = None,
              numbered_by: str = "ar") -> Invoice:
        """`ceiling`: the latest due date the law allows this debtor (`terms.legal_ceiling`; None: none applies, as
        for a consumer). A due date beyond it needs `due_on_derogation`, a reason recorded on the Issued event.
        `numbered_by`: "ar" (the next number of its series) or "issuer" (the number the invoicing system gave it)."""
        positive(total, "total_minor")
        check_breakdown(vat, total)
        if due_on < issued_on:
            raise DomainRuleViolation("the due date cannot precede the issue date", field="due_on")
        check_due_on(ceiling, issued_on, due_on, due_on_derogation)
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
                      structured_reference=structured_reference, deductions=deductions,
                      due_on_derogation=due_on_derogation.strip() if due_on_derogation else None,
                      numbered_by=numbered_by, at=at)
        for deposit in deposits:
            deposit._deducted(final_invoice_id=invoice.id, at=at)
        return invoice

    class Issued(Aggregate.Created):
        """v2 records the derogation a due date beyond the legal maximum was issued under (None: none stated); v3
        who gave the number: "ar" (the next of its series) or "issuer" (the invoicing system that issued it)."""

        class_version = 3
        number: str
        series: str
        customer_id: UUID
        kind: str
        total: Money
        vat: list[dict[str, Any]]
        issued_on: date
        due_on: date
        category: str
        purchase_order: str | None
        external_id: str | None
        structured_reference: str
        deductions: dict[str, Money]
        due_on_derogation: str | None
        numbered_by: str
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["due_on_derogation"] = None  # derogations did not exist: every v1 due date was issued without one

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["numbered_by"] = "ar"  # before issuer numbers, ar numbered every invoice

    @event(Issued)
    def __init__(self, id: UUID, number: str, series: str, customer_id: UUID, kind: str, total: Money,
                 vat: list[dict[str, Any]], issued_on: date, due_on: date, category: str,
                 purchase_order: str | None, external_id: str | None, structured_reference: str,
                 deductions: dict[str, Money], due_on_derogation: str | None, numbered_by: str,
                 at: datetime) -> None:
        self.number, self.series, self.customer_id = number, series, customer_id
        self.numbered_by = numbered_by
        self.kind, self.category = InvoiceKind(kind), Category(category)
        self.total, self.vat = total, [VatLine.from_dict(line, total.currency) for line in vat]
        self.issued_on, self.due_on = issued_on, due_on
        self.due_on_derogation = due_on_derogation
        self.purchase_order, self.external_id = purchase_order, external_id
        self.structured_reference = structured_reference
        self.deductions = deductions
        self.issued_at = at
        self.allocations: dict[UUID, Money] = {}
        self.credit_notes: dict[str, Money] = {}
        self.credit_note_ids: set[UUID] = set()
        self.written_off = Money.zero(total.currency)
        self.disputes: dict[UUID, Money] = {}
        self.resolved_disputes: set[UUID] = set()
        self.deducted_by: UUID | None = None
        self.over_credit_limit: Money | None = None
        self.dunning = DunningState()
        self.settlements: dict[str, Settlement] = {}  # by what settled it: "payment:<id>", "credit:<number>"...
        self.dispute_periods: dict[UUID, DisputePeriod] = {}
        self.discount_offer: DiscountOffer | None = None  # early-payment discount (ar.domain.early_payment)
        self.discount_taken: DiscountTaken | None = None
        self.lifecycle = LifecycleState()  # e-invoice document and platform statuses (ar.domain.lifecycle)

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

    # Allocations ---------------------------------------------------------------------------------------------
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

    class PaymentAllocated(Aggregate.Event):
        """`value_on`: the payment's value date, when the funds were at our disposal. v2 names the paying
        customer; v3 records what the settlement decided for the dunning schedule (see `Invoice._settling`)."""

        class_version = 3
        payment_id: UUID
        amount: Money
        at: datetime
        value_on: date
        payer_customer_id: UUID | None
        reanchored_on: date | None
        promise_kept: bool | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            if state.get("value_on") is None:  # recorded before the dunning release: the recording day, as then
                state["value_on"] = business_date(state["at"])
            state["payer_customer_id"] = None  # not recorded in v1 (the payment's own events still say it)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["reanchored_on"] = state["promise_kept"] = None  # not recorded: see `Invoice._settled`

    @event(PaymentAllocated)
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

    class AllocationReversed(Aggregate.Event):
        """The payment's allocation is undone (a returned direct debit): the invoice is open again by `amount`."""

        payment_id: UUID
        amount: Money
        reason: str
        at: datetime

    @event(AllocationReversed)
    def _allocation_reversed(self, payment_id: UUID, amount: Money, reason: str, at: datetime) -> None:
        del self.allocations[payment_id]
        self.settlements.pop(f"payment:{payment_id}", None)

    # Credit notes, write-off ---------------------------------------------------------------------------------
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

    class CreditNoteApplied(Aggregate.Event):
        """v2 records the credit note's id (derived from the request's Idempotency-Key, so a retry is recognised);
        v3 what the settlement decided for the dunning schedule (see `Invoice._settling`)."""

        class_version = 3
        number: str
        amount: Money
        credited_on: date
        reason: str
        at: datetime
        credit_note_id: UUID | None
        reanchored_on: date | None
        promise_kept: bool | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["credit_note_id"] = None  # v1 credit notes were known by their number only

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["reanchored_on"] = state["promise_kept"] = None  # not recorded: see `Invoice._settled`

    @event(CreditNoteApplied)
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

    class WrittenOff(Aggregate.Event):
        """`amount`: what was open when it was written off."""

        amount: Money
        written_off_on: date
        reason: str
        at: datetime

    @event(WrittenOff)
    def _written_off(self, amount: Money, written_off_on: date, reason: str, at: datetime) -> None:
        self.written_off += amount
        self.settlements[f"write-off:{len(self.settlements)}"] = Settlement(written_off_on, amount.minor)

    # Disputes -----------------------------------------------------------------------------------------------
    def check_something_open(self, what: str) -> None:
        """A paid (or credited, or written-off) invoice leaves nothing to dispute or promise: say so, rather than
        let the amount (by default the open amount, zero) be refused as not positive."""
        if not self.open_amount.is_positive:
            raise InvoiceSettled(f"invoice {self.number} is {self.status.value}; there is nothing left to {what}",
                                 field="invoice_id")

    def open_dispute(self, dispute_id: UUID, amount: Money, reason: str, opened_on: date, at: datetime) -> None:
        if dispute_id in self.disputes or dispute_id in self.resolved_disputes:
            return
        if self.disputes:
            raise Conflict(f"invoice {self.number} already has an open dispute", field="invoice_id")
        self.check_something_open("dispute")
        self.check_open_for(amount, "amount_minor")
        self._dispute_opened(dispute_id=dispute_id, amount=amount, reason=reason, opened_on=opened_on, at=at)

    class DisputeOpened(Aggregate.Event):
        dispute_id: UUID
        amount: Money
        reason: str
        opened_on: date
        at: datetime

    @event(DisputeOpened)
    def _dispute_opened(self, dispute_id: UUID, amount: Money, reason: str, opened_on: date, at: datetime) -> None:
        self.disputes[dispute_id] = amount
        self.dispute_periods[dispute_id] = DisputePeriod(opened_on, None, amount.minor)

    def resolve_dispute(self, dispute_id: UUID, outcome: str, resolved_on: date, at: datetime) -> None:
        if dispute_id in self.resolved_disputes:
            return
        if dispute_id not in self.disputes:
            raise DomainRuleViolation(f"invoice {self.number} has no open dispute {dispute_id}", field="dispute_id")
        self._dispute_resolved(dispute_id=dispute_id, amount=self.disputes[dispute_id], outcome=outcome,
                               resolved_on=resolved_on, at=at)

    class DisputeResolved(Aggregate.Event):
        """`amount`: what was in dispute; the schedule restarts from `resolved_on`."""

        dispute_id: UUID
        amount: Money
        outcome: str
        resolved_on: date
        at: datetime

    @event(DisputeResolved)
    def _dispute_resolved(self, dispute_id: UUID, amount: Money, outcome: str, resolved_on: date,
                          at: datetime) -> None:
        del self.disputes[dispute_id]
        self.resolved_disputes.add(dispute_id)
        self.dunning = replace(self.dunning, anchor_on=resolved_on)
        self.dispute_periods[dispute_id] = self.dispute_periods[dispute_id]._replace(resolved_on=resolved_on)

    # Credit limit -------------------------------------------------------------------------------------------
    def flag_over_credit_limit(self, exposure: Money, limit: Money, excess: Money, at: datetime) -> None:
        """Issued although it takes the customer over its credit limit (the customer's policy flags)."""
        self._over_credit_limit(exposure=exposure, limit=limit, excess=excess, at=at)

    class IssuedOverCreditLimit(Aggregate.Event):
        """Issued although it took the customer's `exposure` over its `limit`, by `excess`."""

        exposure: Money
        limit: Money
        excess: Money
        at: datetime

    @event(IssuedOverCreditLimit)
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

    class DepositDeducted(Aggregate.Event):
        """This deposit invoice is deducted by the final invoice `final_invoice_id`."""

        final_invoice_id: UUID
        at: datetime

    @event(DepositDeducted)
    def _deducted(self, final_invoice_id: UUID, at: datetime) -> None:
        self.deducted_by = final_invoice_id

    # Dunning ------------------------------------------------------------------------------------------------
    def _settled_minor(self) -> int:
        return (self.allocated + self.credited + self.deducted + self.written_off).minor

    @property
    def remindable(self) -> Money:
        """What a reminder may ask for: the open amount net of what is in dispute."""
        return Money(max(0, self.open_amount.minor - self.disputed.minor), self.currency)

    def take_dunning_step(self, *, reminder_id: UUID, step_key: str, step_kind: str, channel: str, on: date,
                          policy_id: UUID, policy_version: int, at: datetime) -> bool:
        """Record that a step was taken; False (no event) when it was taken already: a re-run is a no-op."""
        if self.dunning.done(step_key):
            return False
        self._dunning_step_taken(reminder_id=reminder_id, step_key=step_key, step_kind=step_kind, channel=channel,
                                 on=on, policy_id=policy_id, policy_version=policy_version,
                                 open=self.open_amount, remindable=self.remindable, at=at)
        return True

    class DunningStepTaken(Aggregate.Event):
        """A reminder took a step of the policy; `open` and `remindable` are the amounts it stated."""

        reminder_id: UUID
        step_key: str
        step_kind: str
        channel: str
        on: date
        policy_id: UUID
        policy_version: int
        open: Money
        remindable: Money
        at: datetime

    @event(DunningStepTaken)
    def _dunning_step_taken(self, reminder_id: UUID, step_key: str, step_kind: str, channel: str, on: date,
                            policy_id: UUID, policy_version: int, open: Money, remindable: Money,
                            at: datetime) -> None:
        self.dunning = self.dunning.with_step_taken(TakenStep(step_key, step_kind, channel, on, reminder_id))

    def skip_dunning_step(self, *, step_key: str, reason: str, on: date, at: datetime) -> None:
        """A step whose moment has passed (a courtesy note after the due date) is skipped, not sent late."""
        if not self.dunning.done(step_key):
            self._dunning_step_skipped(step_key=step_key, reason=reason, on=on, at=at)

    class DunningStepSkipped(Aggregate.Event):
        step_key: str
        reason: str
        on: date
        at: datetime

    @event(DunningStepSkipped)
    def _dunning_step_skipped(self, step_key: str, reason: str, on: date, at: datetime) -> None:
        self.dunning = self.dunning.with_step_skipped(step_key, on)

    def claim_penalty(self, *, reminder_id: UUID, interest: Money, indemnity: Money, as_of: date,
                      computation: dict[str, Any], at: datetime) -> None:
        """Claim the penalties accrued up to `as_of` (each claim restates the total; the indemnity once)."""
        if self.dunning.indemnity_claimed:
            indemnity = Money.zero(indemnity.currency)
        self._penalty_claimed(reminder_id=reminder_id, interest=interest, indemnity=indemnity, as_of=as_of,
                              computation=computation, at=at)

    class LatePenaltyClaimed(Aggregate.Event):
        """`computation` is the penalty's `to_dict()`: the evidence a person will question."""

        reminder_id: UUID
        interest: Money
        indemnity: Money
        as_of: date
        computation: dict[str, Any]
        at: datetime

    @event(LatePenaltyClaimed)
    def _penalty_claimed(self, reminder_id: UUID, interest: Money, indemnity: Money, as_of: date,
                         computation: dict[str, Any], at: datetime) -> None:
        self.dunning = replace(self.dunning, claimed_interest=interest,
                               indemnity_claimed=self.dunning.indemnity_claimed or indemnity.is_positive)

    def pause_dunning(self, reason: str, at: datetime) -> None:
        if self.dunning.paused is None:
            self._dunning_paused(reason=reason, at=at)

    class DunningPaused(Aggregate.Event):
        reason: str
        at: datetime

    @event(DunningPaused)
    def _dunning_paused(self, reason: str, at: datetime) -> None:
        self.dunning = replace(self.dunning, paused=reason)

    def resume_dunning(self, on: date, at: datetime) -> None:
        if self.dunning.paused is not None:
            self._dunning_resumed(resumed_on=on, at=at)

    class DunningResumed(Aggregate.Event):
        resumed_on: date
        at: datetime

    @event(DunningResumed)
    def _dunning_resumed(self, resumed_on: date, at: datetime) -> None:
        self.dunning = replace(self.dunning, paused=None, anchor_on=resumed_on)

    def opt_out_of_dunning(self, reason: str, at: datetime) -> None:
        if not reason.strip():
            raise DomainRuleViolation("an opt-out needs a reason", field="reason")
        if self.dunning.opted_out is None:
            self._dunning_opted_out(reason=reason.strip(), at=at)

    class DunningOptedOut(Aggregate.Event):
        reason: str
        at: datetime

    @event(DunningOptedOut)
    def _dunning_opted_out(self, reason: str, at: datetime) -> None:
        self.dunning = replace(self.dunning, opted_out=reason)

    def opt_in_to_dunning(self, on: date, at: datetime) -> None:
        if self.dunning.opted_out is not None:
            self._dunning_opted_in(opted_in_on=on, at=at)

    class DunningOptedIn(Aggregate.Event):
        opted_in_on: date
        at: datetime

    @event(DunningOptedIn)
    def _dunning_opted_in(self, opted_in_on: date, at: datetime) -> None:
        self.dunning = replace(self.dunning, opted_out=None, anchor_on=opted_in_on)

    def promise_payment(self, *, promise_id: UUID, promised_on: date, amount: Money, made_on: date,
                        at: datetime) -> None:
        """A promise to pay `amount` by `promised_on` snoozes the reminders until that date."""
        current = self.dunning.promise
        if current is not None and current.promise_id == promise_id:
            return
        self.check_something_open("promise")
        self.check_open_for(amount, "amount_minor")
        if promised_on < made_on:
            raise DomainRuleViolation("a promise to pay is for a date to come", field="promised_on")
        self._payment_promised(promise_id=promise_id, promised_on=promised_on, amount=amount, made_on=made_on,
                               at=at)

    class PaymentPromised(Aggregate.Event):
        promise_id: UUID
        promised_on: date
        amount: Money
        made_on: date
        at: datetime

    @event(PaymentPromised)
    def _payment_promised(self, promise_id: UUID, promised_on: date, amount: Money, made_on: date,
                          at: datetime) -> None:
        self.dunning = replace(self.dunning, promise=Promise(promise_id, promised_on, amount, self._settled_minor()))

    def break_promise(self, on: date, at: datetime) -> None:
        promise = self.dunning.promise
        if promise is None or on <= promise.promised_on:
            return
        self._promise_broken(promise_id=promise.promise_id, broken_on=on, at=at)

    class PromiseBroken(Aggregate.Event):
        promise_id: UUID
        broken_on: date
        at: datetime

    @event(PromiseBroken)
    def _promise_broken(self, promise_id: UUID, broken_on: date, at: datetime) -> None:
        self.dunning = self.dunning.with_promise_broken(broken_on)

    # E-invoices: the document, lifecycle statuses in and out (ar.domain.lifecycle) ----------------------------
    def attach_document(self, *, sha256: str, media_type: str, filename: str | None, payment_terms: str | None,
                        at: datetime) -> None:
        """The e-invoice document this invoice was recorded from (its bytes are kept by their SHA-256)."""
        if self.lifecycle.document is None or self.lifecycle.document.sha256 != sha256:
            self._document_attached(sha256=sha256, media_type=media_type, filename=filename,
                                    payment_terms=payment_terms, at=at)

    class DocumentAttached(Aggregate.Event):
        """The original document (Factur-X PDF, CII or UBL XML) and the payment terms it states in words."""

        sha256: str
        media_type: str
        filename: str | None
        payment_terms: str | None
        at: datetime

    @event(DocumentAttached)
    def _document_attached(self, sha256: str, media_type: str, filename: str | None, payment_terms: str | None,
                           at: datetime) -> None:
        self.lifecycle = replace(self.lifecycle, document=AttachedDocument(sha256, media_type, filename,
                                                                           payment_terms))

    def receive_lifecycle_status(self, *, code: str, reason: str | None, message_id: str, on: date, at: datetime,
                                 stated_at: datetime, dispute_id: UUID, promise_id: UUID, snooze_days: int) -> bool:
        """A platform's status and its effect: 207 opens a dispute (unless one is open), 208 pauses dunning, 210
        and 213 opt the invoice out of dunning (refused, invalid), 211 snoozes the reminders as a promise to pay
        the open amount `snooze_days` from `on` would. False (nothing recorded) for a message already received."""
        check_received_code(code)
        if self.lifecycle.seen(message_id):
            return False
        self._lifecycle_status_received(code=code, reason=reason, message_id=message_id, at=stated_at)
        why = f"e-invoice status {code}" + (f": {reason}" if reason else "")
        if code == DISPUTED and not self.disputes and self.open_amount.is_positive:
            self.open_dispute(dispute_id, self.open_amount, why, on, at)
        elif code == SUSPENDED:
            self.pause_dunning(why, at)
        elif code in (REFUSED, REJECTED):
            self.opt_out_of_dunning(why, at)
        elif code == PAYMENT_SENT and self.open_amount.is_positive:
            self.promise_payment(promise_id=promise_id, promised_on=snooze_until(on, snooze_days),
                                 amount=self.open_amount, made_on=on, at=at)
        return True

    class LifecycleStatusReceived(Aggregate.Event):
        """A platform's lifecycle status (207, 208, 210, 211, 213) with its reason and the platform's message id."""

        code: str
        reason: str | None
        message_id: str
        at: datetime

    @event(LifecycleStatusReceived)
    def _lifecycle_status_received(self, code: str, reason: str | None, message_id: str, at: datetime) -> None:
        self.lifecycle = self.lifecycle.with_entry(LifecycleEntry("in", code, at, reason, message_id))

    class LifecycleStatusSent(Aggregate.Event):
        """A status we report: 212 (Encaissée), `amount` of payment `payment_id` split by VAT rate."""

        code: str
        payment_id: UUID
        amount: Money
        amounts_by_rate: dict[str, Money]
        at: datetime

    @event(LifecycleStatusSent)
    def _lifecycle_status_sent(self, code: str, payment_id: UUID, amount: Money, amounts_by_rate: dict[str, Money],
                               at: datetime) -> None:
        self.lifecycle = self.lifecycle.with_entry(LifecycleEntry("out", code, at, amounts_by_rate=amounts_by_rate,
                                                                  payment_id=payment_id, amount=amount))

    # Early-payment discount (escompte, ar.domain.early_payment) ----------------------------------------------
    def offer_early_payment_discount(self, discount: EarlyPaymentDiscount, at: datetime) -> None:
        """Record, with the issue, the discount the customer's terms offer: its rate and the last day to pay."""
        if self.discount_offer is None:
            offer = DiscountOffer.of(discount, self.issued_on)
            self._discount_offered(rate=offer.rate, until=offer.until, at=at)

    class EarlyPaymentDiscountOffered(Aggregate.Event):
        """`rate` percent off the total for a payment whose value date is on or before `until`."""

        rate: Decimal
        until: date
        at: datetime

    @event(EarlyPaymentDiscountOffered)
    def _discount_offered(self, rate: Decimal, until: date, at: datetime) -> None:
        self.discount_offer = DiscountOffer(rate, until)

    def _take_discount_if_due(self, payment_id: UUID, value_on: date, at: datetime) -> None:
        """Decided when a payment is allocated (`early_payment.discount_taken`), recorded with its VAT split."""
        amount = discount_taken(self.discount_offer, total=self.total, open_after=self.open_amount, value_on=value_on)
        if amount is not None:
            self._discount_taken(payment_id=payment_id, amount=amount, on=value_on,
                                 vat_split=[line.to_dict() for line in split_amount(amount, self.vat)], at=at)

    class EarlyPaymentDiscountTaken(Aggregate.Event):
        """Payment `payment_id` paid at least the discounted amount in time: `amount` (VAT included, split per rate
        in `vat_split` as the Issued event's `vat` lines) settles the rest; `on`: the payment's value date."""

        payment_id: UUID
        amount: Money
        vat_split: list[dict[str, Any]]
        on: date
        at: datetime

    @event(EarlyPaymentDiscountTaken)
    def _discount_taken(self, payment_id: UUID, amount: Money, vat_split: list[dict[str, Any]], on: date,
                        at: datetime) -> None:
        lines = [VatLine.from_dict(line, self.currency) for line in vat_split]
        self.discount_taken = DiscountTaken(payment_id, amount, on, lines)
        self.settlements[f"discount:{payment_id}"] = Settlement(on, amount.minor)

    class EarlyPaymentDiscountWithdrawn(Aggregate.Event):
        """The payment that took the discount was reversed (a returned direct debit): the discount is open again."""

        payment_id: UUID
        amount: Money
        reason: str
        at: datetime

    @event(EarlyPaymentDiscountWithdrawn)
    def _discount_withdrawn(self, payment_id: UUID, amount: Money, reason: str, at: datetime) -> None:
        self.discount_taken = None
        self.settlements.pop(f"discount:{payment_id}", None)
