"""A settlement's effect on the dunning schedule is decided by the command and recorded on its event (v3), so a
later change of the rule never changes how recorded history replays."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from uuid import uuid4

from tests.unit.conftest import IssueInvoice

from ar.domain.invoice import Invoice
from ar.domain.money import Money

AT = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)  # 11 February in Paris: the business day re-anchors on


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def promised(issue_invoice: IssueInvoice) -> Invoice:
    invoice = issue_invoice(1_000)
    invoice.promise_payment(promise_id=uuid4(), promised_on=date(2026, 3, 1), amount=eur(600),
                            made_on=date(2026, 2, 1), at=AT)
    invoice.collect_events()
    return invoice


def test_a_partial_payment_records_the_day_it_re_anchors_the_schedule_and_that_the_promise_still_stands(
        issue_invoice: IssueInvoice) -> None:
    invoice = promised(issue_invoice)
    invoice.allocate(uuid4(), eur(400), AT)
    [allocated] = invoice.collect_events()
    assert isinstance(allocated, Invoice.PaymentAllocated)
    assert (allocated.reanchored_on, allocated.promise_kept) == (date(2026, 2, 11), False)
    assert invoice.dunning.anchor_on == date(2026, 2, 11) and invoice.dunning.promise is not None


def test_the_settlement_reaching_the_promised_amount_records_the_promise_kept(issue_invoice: IssueInvoice) -> None:
    invoice = promised(issue_invoice)
    invoice.allocate(uuid4(), eur(400), AT)
    invoice.apply_credit_note("AV-1", eur(200), date(2026, 2, 11), "discount", AT)
    credited = invoice.collect_events()[-1]
    assert isinstance(credited, Invoice.CreditNoteApplied)
    assert credited.promise_kept is True and invoice.dunning.promise is None


def test_a_settlement_leaving_nothing_open_re_anchors_nothing(issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(1_000), AT)
    [allocated] = invoice.collect_events()
    assert isinstance(allocated, Invoice.PaymentAllocated)
    assert (allocated.reanchored_on, allocated.promise_kept) == (None, False)
    assert invoice.dunning.anchor_on is None


def test_replay_applies_what_the_event_recorded_not_the_rule_of_today(issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(1_000)
    before = copy.deepcopy(invoice)
    invoice.allocate(uuid4(), eur(400), AT)
    [allocated] = invoice.collect_events()
    assert isinstance(allocated, Invoice.PaymentAllocated)
    # the same settlement, as a version with another rule might have recorded it
    recorded_otherwise = Invoice.PaymentAllocated(
        originator_id=allocated.originator_id, originator_version=allocated.originator_version,
        timestamp=allocated.timestamp, payment_id=allocated.payment_id, amount=allocated.amount, at=allocated.at,
        value_on=allocated.value_on, payer_customer_id=None, reanchored_on=date(2026, 1, 31), promise_kept=False)
    after = recorded_otherwise.mutate(before)
    assert after is not None and after.dunning.anchor_on == date(2026, 1, 31)
    assert after.open_amount == invoice.open_amount
