"""The invoice aggregate is split by concern (settlement, disputes, dunning, lifecycle, discount): every command of
every concern still records an `Invoice.<Name>` event, and the events alone rebuild the state the commands left."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from tests.unit.conftest import AT

from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.terms import EarlyPaymentDiscount
from ar.domain.vat import VatLine

ON = date(2026, 1, 20)
CUSTOMER = uuid4()


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def issue(kind: InvoiceKind, total: int, deposits: list[Invoice] | None = None) -> Invoice:
    base = total * 100 // 120  # 20 % VAT on most of it, the rest exempt
    vat = [VatLine(Decimal(20), eur(base), eur(base // 5)), VatLine(Decimal(0), eur(total - base - base // 5), eur(0))]
    return Invoice.issue(id=uuid4(), number=f"F-{uuid4().hex[:8]}", series="F2026", customer_id=CUSTOMER, kind=kind,
                         total=eur(total), vat=vat, issued_on=ON, due_on=ON + timedelta(days=30),
                         category=Category.SERVICES, purchase_order=None, external_id=None,
                         structured_reference="RF00", deposits=deposits or [], at=AT)


def state(invoice: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(invoice).items() if k != "_pending_events"}


def replay(events: list[Any]) -> Invoice:
    rebuilt: Invoice | None = None
    for e in events:
        rebuilt = e.mutate(rebuilt)
    assert isinstance(rebuilt, Invoice)
    return rebuilt


def test_every_concern_records_invoice_events_that_alone_rebuild_its_state() -> None:
    deposit = issue(InvoiceKind.DEPOSIT, 12_000)
    invoice = issue(InvoiceKind.FINAL, 120_000, deposits=[deposit])
    invoice.flag_over_credit_limit(eur(500_000), eur(400_000), eur(100_000), AT)
    invoice.attach_document(sha256="ab" * 32, media_type="application/xml", filename="f.xml", payment_terms=None,
                            at=AT)
    invoice.offer_early_payment_discount(EarlyPaymentDiscount(Decimal(2), 10), AT)
    for code in ("208", "211"):  # pauses dunning; snoozes it as a promise to pay would
        invoice.receive_lifecycle_status(code=code, reason=None, message_id=f"m-{code}", on=ON, at=AT, stated_at=AT,
                                         dispute_id=uuid4(), promise_id=uuid4(), snooze_days=5)
    invoice.resume_dunning(ON + timedelta(days=1), AT)
    invoice.break_promise(ON + timedelta(days=9), AT)
    invoice.take_dunning_step(reminder_id=uuid4(), step_key="r1", step_kind="reminder", channel="email", on=ON,
                              policy_id=uuid4(), policy_version=1, at=AT)
    invoice.skip_dunning_step(step_key="courtesy", reason="past", on=ON, at=AT)
    invoice.claim_penalty(reminder_id=uuid4(), interest=eur(120), indemnity=eur(4_000), as_of=ON, computation={},
                          at=AT)
    dispute_id = uuid4()
    invoice.open_dispute(dispute_id, eur(1_000), "damaged", ON, AT)
    invoice.resolve_dispute(dispute_id, "credited", ON + timedelta(days=2), AT)
    invoice.opt_out_of_dunning("negotiating", AT)
    invoice.opt_in_to_dunning(ON + timedelta(days=3), AT)
    invoice.apply_credit_note("AV-1", eur(1_000), ON, "damaged", AT, credit_note_id=uuid4())
    payment_id = uuid4()
    invoice.allocate(payment_id, eur(105_000), AT, value_on=ON + timedelta(days=5))  # in time: takes the discount
    assert invoice.discount_taken is not None and invoice.open_amount.is_zero
    invoice.reverse_allocation(payment_id, "MD06", AT)
    invoice.write_off(ON + timedelta(days=60), "bankrupt", AT)

    events = list(invoice.collect_events())
    recorded = {type(e).__name__ for e in events}
    assert recorded == {
        "Issued", "IssuedOverCreditLimit", "DocumentAttached", "EarlyPaymentDiscountOffered",
        "LifecycleStatusReceived", "DunningPaused", "PaymentPromised", "DunningResumed", "PromiseBroken",
        "DunningStepTaken", "DunningStepSkipped", "LatePenaltyClaimed", "DisputeOpened", "DisputeResolved",
        "DunningOptedOut", "DunningOptedIn", "CreditNoteApplied", "PaymentAllocated", "EarlyPaymentDiscountTaken",
        "LifecycleStatusSent", "AllocationReversed", "EarlyPaymentDiscountWithdrawn", "WrittenOff"}
    assert all(get_topic(type(e)) == f"ar.domain.invoice:Invoice.{type(e).__name__}" for e in events)
    assert state(replay(events)) == state(invoice)

    deposit_events = list(deposit.collect_events())
    assert [get_topic(type(e)) for e in deposit_events][-1] == "ar.domain.invoice:Invoice.DepositDeducted"
    assert state(replay(deposit_events)) == state(deposit)


def test_a_concern_applied_twice_by_replay_changes_nothing_more() -> None:
    """Replaying the same events onto a copy of the issued invoice gives the live state: the appliers assign and
    decide nothing (a decision there would run again on every replay)."""
    invoice = issue(InvoiceKind.STANDARD, 60_000)
    issued = copy.deepcopy(invoice)
    invoice.collect_events()
    invoice.open_dispute(uuid4(), eur(6_000), "late delivery", ON, AT)
    invoice.allocate(uuid4(), eur(20_000), AT, value_on=ON)
    events = list(invoice.collect_events())
    rebuilt: Invoice | None = issued
    for e in events:
        rebuilt = e.mutate(rebuilt)
    assert rebuilt is not None and state(rebuilt) == state(invoice)
    assert (rebuilt.disputed, rebuilt.remindable) == (eur(6_000), eur(34_000))
