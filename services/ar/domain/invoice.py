"""The invoice aggregate: issued once, then settled by allocations, credit notes, deposits or a write-off.

Here: its identity (`Invoice.issue`, the Issued event) and every event it records, nested in `Invoice` so that their
stored topics (`ar.domain.invoice:Invoice.<Name>`) never change. What the events do, and the commands that record
them, live by concern in the classes `Invoice` inherits: `invoice_settlement`, `invoice_disputes`, `invoice_dunning`,
`invoice_lifecycle`, `invoice_discount`, all reading the state declared in `invoice_figures`.

Each event is bound under its class to the method that applies it, `_x = event(X)(Concern._x)`: the library reads
`@event` methods in the aggregate class's own body only (a decorator in a base class's body is never registered), and
names the class it triggers after that class (`Invoice.X`). Called on an invoice, `_x` records X and applies it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ar.domain.clock import business_date
from ar.domain.dunning_state import DunningState
from ar.domain.errors import DomainRuleViolation, OverAllocation
from ar.domain.invoice_discount import InvoiceDiscount
from ar.domain.invoice_disputes import InvoiceDisputes
from ar.domain.invoice_dunning import InvoiceDunning
from ar.domain.invoice_figures import positive
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.invoice_lifecycle import InvoiceLifecycle
from ar.domain.invoice_settlement import InvoiceSettlement
from ar.domain.lifecycle import LifecycleState
from ar.domain.money import Money
from ar.domain.terms import LegalCeiling, check_due_on
from ar.domain.vat import VatLine, check_breakdown

__all__ = ["Invoice", "positive"]


class Invoice(InvoiceSettlement, InvoiceLifecycle, InvoiceDisputes, InvoiceDunning, InvoiceDiscount, Aggregate):
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
        self.allocations = {}
        self.credit_notes = {}
        self.credit_note_ids = set()
        self.written_off = Money.zero(total.currency)
        self.disputes = {}
        self.resolved_disputes = set()
        self.deducted_by = None
        self.over_credit_limit = None
        self.dunning = DunningState()
        self.settlements = {}
        self.dispute_periods = {}
        self.discount_offer = None
        self.discount_taken = None
        self.lifecycle = LifecycleState()

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

    # Settlement (invoice_settlement) --------------------------------------------------------------------------------
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

    _allocated = event(PaymentAllocated)(InvoiceSettlement._allocated)

    class AllocationReversed(Aggregate.Event):
        """The payment's allocation is undone (a returned direct debit): the invoice is open again by `amount`."""

        payment_id: UUID
        amount: Money
        reason: str
        at: datetime

    _allocation_reversed = event(AllocationReversed)(InvoiceSettlement._allocation_reversed)

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

    _credited = event(CreditNoteApplied)(InvoiceSettlement._credited)

    class WrittenOff(Aggregate.Event):
        """`amount`: what was open when it was written off."""

        amount: Money
        written_off_on: date
        reason: str
        at: datetime

    _written_off = event(WrittenOff)(InvoiceSettlement._written_off)

    class DepositDeducted(Aggregate.Event):
        """This deposit invoice is deducted by the final invoice `final_invoice_id`."""

        final_invoice_id: UUID
        at: datetime

    _deducted = event(DepositDeducted)(InvoiceSettlement._deducted)

    # Disputes (invoice_disputes) ------------------------------------------------------------------------------------
    class DisputeOpened(Aggregate.Event):
        dispute_id: UUID
        amount: Money
        reason: str
        opened_on: date
        at: datetime

    _dispute_opened = event(DisputeOpened)(InvoiceDisputes._dispute_opened)

    class DisputeResolved(Aggregate.Event):
        """`amount`: what was in dispute; the schedule restarts from `resolved_on`."""

        dispute_id: UUID
        amount: Money
        outcome: str
        resolved_on: date
        at: datetime

    _dispute_resolved = event(DisputeResolved)(InvoiceDisputes._dispute_resolved)

    # Dunning (invoice_dunning) --------------------------------------------------------------------------------------
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

    _dunning_step_taken = event(DunningStepTaken)(InvoiceDunning._dunning_step_taken)

    class DunningStepSkipped(Aggregate.Event):
        step_key: str
        reason: str
        on: date
        at: datetime

    _dunning_step_skipped = event(DunningStepSkipped)(InvoiceDunning._dunning_step_skipped)

    class LatePenaltyClaimed(Aggregate.Event):
        """`computation` is the penalty's `to_dict()`: the evidence a person will question."""

        reminder_id: UUID
        interest: Money
        indemnity: Money
        as_of: date
        computation: dict[str, Any]
        at: datetime

    _penalty_claimed = event(LatePenaltyClaimed)(InvoiceDunning._penalty_claimed)

    class DunningPaused(Aggregate.Event):
        reason: str
        at: datetime

    _dunning_paused = event(DunningPaused)(InvoiceDunning._dunning_paused)

    class DunningResumed(Aggregate.Event):
        resumed_on: date
        at: datetime

    _dunning_resumed = event(DunningResumed)(InvoiceDunning._dunning_resumed)

    class DunningOptedOut(Aggregate.Event):
        reason: str
        at: datetime

    _dunning_opted_out = event(DunningOptedOut)(InvoiceDunning._dunning_opted_out)

    class DunningOptedIn(Aggregate.Event):
        opted_in_on: date
        at: datetime

    _dunning_opted_in = event(DunningOptedIn)(InvoiceDunning._dunning_opted_in)

    class PaymentPromised(Aggregate.Event):
        promise_id: UUID
        promised_on: date
        amount: Money
        made_on: date
        at: datetime

    _payment_promised = event(PaymentPromised)(InvoiceDunning._payment_promised)

    class PromiseBroken(Aggregate.Event):
        promise_id: UUID
        broken_on: date
        at: datetime

    _promise_broken = event(PromiseBroken)(InvoiceDunning._promise_broken)

    # E-invoices (invoice_lifecycle) ---------------------------------------------------------------------------------
    class DocumentAttached(Aggregate.Event):
        """The original document (Factur-X PDF, CII or UBL XML) and the payment terms it states in words."""

        sha256: str
        media_type: str
        filename: str | None
        payment_terms: str | None
        at: datetime

    _document_attached = event(DocumentAttached)(InvoiceLifecycle._document_attached)

    class LifecycleStatusReceived(Aggregate.Event):
        """A platform's lifecycle status (207, 208, 210, 211, 213) with its reason and the platform's message id."""

        code: str
        reason: str | None
        message_id: str
        at: datetime

    _lifecycle_status_received = event(LifecycleStatusReceived)(InvoiceLifecycle._lifecycle_status_received)

    class LifecycleStatusSent(Aggregate.Event):
        """A status we report: 212 (Encaissée), `amount` of payment `payment_id` split by VAT rate."""

        code: str
        payment_id: UUID
        amount: Money
        amounts_by_rate: dict[str, Money]
        at: datetime

    _lifecycle_status_sent = event(LifecycleStatusSent)(InvoiceLifecycle._lifecycle_status_sent)

    # Early-payment discount (invoice_discount) ----------------------------------------------------------------------
    class EarlyPaymentDiscountOffered(Aggregate.Event):
        """`rate` percent off the total for a payment whose value date is on or before `until`."""

        rate: Decimal
        until: date
        at: datetime

    _discount_offered = event(EarlyPaymentDiscountOffered)(InvoiceDiscount._discount_offered)

    class EarlyPaymentDiscountTaken(Aggregate.Event):
        """Payment `payment_id` paid at least the discounted amount in time: `amount` (VAT included, split per rate
        in `vat_split` as the Issued event's `vat` lines) settles the rest; `on`: the payment's value date."""

        payment_id: UUID
        amount: Money
        vat_split: list[dict[str, Any]]
        on: date
        at: datetime

    _discount_taken = event(EarlyPaymentDiscountTaken)(InvoiceDiscount._discount_taken)

    class EarlyPaymentDiscountWithdrawn(Aggregate.Event):
        """The payment that took the discount was reversed (a returned direct debit): the discount is open again."""

        payment_id: UUID
        amount: Money
        reason: str
        at: datetime

    _discount_withdrawn = event(EarlyPaymentDiscountWithdrawn)(InvoiceDiscount._discount_withdrawn)
