from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent

from ar.application import transcodings
from ar.domain.clock import business_date
from ar.domain.errors import (
    Conflict,
    DomainRuleViolation,
    InvoiceClosed,
    InvoiceSettled,
    OverAllocation,
    TermsBeyondLegalMaximum,
)
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.status import InvoiceStatus, derive_status, is_overdue
from ar.domain.terms import CustomerKind, legal_ceiling
from ar.domain.vat import VatLine

AT = datetime(2026, 2, 10, 8, 0, tzinfo=UTC)
ON = date(2026, 2, 10)

Issue = Callable[..., Invoice]


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def event_names(invoice: Invoice) -> list[str]:
    return [type(e).__name__ for e in invoice.collect_events()]


# Issuing ------------------------------------------------------------------------------------------------------
def test_issuing_records_one_issued_event_with_everything_open(customer_id: UUID) -> None:
    total = eur(12_000)
    invoice = Invoice.issue(
        id=uuid4(), number="F2026-000001", series="F2026", customer_id=customer_id, kind=InvoiceKind.STANDARD,
        total=total, vat=[VatLine(Decimal("20"), eur(10_000), eur(2_000))], issued_on=date(2026, 1, 20),
        due_on=date(2026, 2, 19), category=Category.GOODS, purchase_order="PO-7", external_id=None,
        structured_reference="RF76F2026000012", deposits=[], at=AT,
    )
    assert event_names(invoice) == ["Issued"]
    assert invoice.open_amount == total
    assert invoice.status is InvoiceStatus.ISSUED
    assert invoice.vat == [VatLine(Decimal("20"), eur(10_000), eur(2_000))]
    assert not invoice.is_closed


def test_due_date_before_issue_date_is_refused(issue_invoice: Issue) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        issue_invoice(1_000, issued_on=date(2026, 1, 20), due_on=date(2026, 1, 19))
    assert refused.value.field == "due_on"


def test_due_on_the_issue_date_is_accepted(issue_invoice: Issue) -> None:
    assert issue_invoice(1_000, issued_on=ON, due_on=ON).due_on == ON


@pytest.mark.parametrize("total", [0, -100])
def test_an_invoice_total_must_be_positive(issue_invoice: Issue, total: int) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        issue_invoice(total)
    assert refused.value.field == "total_minor"


def test_an_invoice_whose_vat_lines_do_not_add_up_is_refused(customer_id: UUID) -> None:
    with pytest.raises(DomainRuleViolation):
        Invoice.issue(
            id=uuid4(), number="F2026-000001", series="F2026", customer_id=customer_id, kind=InvoiceKind.STANDARD,
            total=eur(12_500), vat=[VatLine(Decimal("20"), eur(10_000), eur(2_000))], issued_on=ON, due_on=ON,
            category=Category.GOODS, purchase_order=None, external_id=None, structured_reference="RF00",
            deposits=[], at=AT,
        )


# Allocations --------------------------------------------------------------------------------------------------
def test_allocation_never_exceeds_open_amount(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(600), AT)
    with pytest.raises(OverAllocation) as refused:
        invoice.allocate(uuid4(), eur(401), AT)
    assert refused.value.field == "amount_minor"
    assert invoice.open_amount == eur(400)


def test_allocations_and_credit_notes_together_never_exceed_total(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.apply_credit_note("AV2026-000001", eur(300), ON, "discount", AT)
    invoice.allocate(uuid4(), eur(700), AT)
    invoice.collect_events()
    with pytest.raises(OverAllocation):
        invoice.allocate(uuid4(), eur(1), AT)
    with pytest.raises(DomainRuleViolation):
        invoice.apply_credit_note("AV2026-000002", eur(1), ON, "more", AT)
    assert invoice.open_amount == eur(0)
    assert invoice.collect_events() == []


def test_credit_note_never_exceeds_open_amount(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(900), AT)
    with pytest.raises(OverAllocation):
        invoice.apply_credit_note("AV2026-000001", eur(101), ON, "too much", AT)
    assert invoice.credited == eur(0)


@pytest.mark.parametrize("amount", [0, -1])
def test_an_allocation_must_be_positive(issue_invoice: Issue, amount: int) -> None:
    invoice = issue_invoice(1_000)
    with pytest.raises(DomainRuleViolation) as refused:
        invoice.allocate(uuid4(), eur(amount), AT)
    assert refused.value.field == "amount_minor"
    assert invoice.collect_events() == []


def test_an_allocation_in_another_currency_is_refused(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    with pytest.raises(DomainRuleViolation) as refused:
        invoice.allocate(uuid4(), Money(500, "USD"), AT)
    assert refused.value.field == "currency"
    assert invoice.allocated == eur(0)


def test_a_credit_note_in_another_currency_is_refused(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    with pytest.raises(DomainRuleViolation) as refused:
        invoice.apply_credit_note("AV2026-000001", Money(500, "GBP"), ON, "wrong currency", AT)
    assert refused.value.field == "currency"


def test_nothing_is_allocated_to_a_fully_credited_invoice(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.apply_credit_note("AV2026-000001", eur(1_000), ON, "cancelled", AT)
    invoice.collect_events()
    assert invoice.is_closed
    with pytest.raises(InvoiceClosed) as refused:
        invoice.allocate(uuid4(), eur(1), AT)
    assert refused.value.field == "invoice_id"
    assert invoice.collect_events() == []


def test_nothing_is_allocated_to_a_written_off_invoice(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(200), AT)
    invoice.write_off(ON, "insolvent", AT)
    invoice.collect_events()
    assert invoice.is_closed
    with pytest.raises(InvoiceClosed):
        invoice.allocate(uuid4(), eur(1), AT)
    with pytest.raises(InvoiceClosed):
        invoice.apply_credit_note("AV2026-000001", eur(1), ON, "late credit", AT)
    assert invoice.collect_events() == []


def test_a_paid_invoice_is_not_closed_so_an_allocation_can_be_reversed_and_reapplied(issue_invoice: Issue) -> None:
    invoice, payment_id = issue_invoice(1_000), uuid4()
    invoice.allocate(payment_id, eur(1_000), AT)
    assert not invoice.is_closed
    invoice.reverse_allocation(payment_id, "wrong customer", AT)
    other = uuid4()
    invoice.allocate(other, eur(1_000), AT)
    assert invoice.allocations == {other: eur(1_000)}


def test_the_same_payment_allocated_twice_is_a_no_op(issue_invoice: Issue) -> None:
    invoice, payment_id = issue_invoice(1_000), uuid4()
    invoice.allocate(payment_id, eur(400), AT)
    assert event_names(invoice) == ["PaymentAllocated"]
    invoice.allocate(payment_id, eur(400), AT)
    assert invoice.collect_events() == []
    assert invoice.allocated == eur(400)
    assert invoice.open_amount == eur(600)


def test_a_retried_allocation_with_another_amount_keeps_the_first_amount(issue_invoice: Issue) -> None:
    invoice, payment_id = issue_invoice(1_000), uuid4()
    invoice.allocate(payment_id, eur(400), AT)
    invoice.collect_events()
    invoice.allocate(payment_id, eur(100), AT)
    assert invoice.collect_events() == []
    assert invoice.allocations[payment_id] == eur(400)


def test_the_same_credit_note_number_twice_is_a_no_op(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.apply_credit_note("AV2026-000001", eur(250), ON, "discount", AT)
    assert event_names(invoice) == ["CreditNoteApplied"]
    invoice.apply_credit_note("AV2026-000001", eur(250), ON, "discount", AT)
    assert invoice.collect_events() == []
    assert invoice.credited == eur(250)
    assert invoice.open_amount == eur(750)


def test_two_different_credit_notes_both_count(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.apply_credit_note("AV2026-000001", eur(250), ON, "discount", AT)
    invoice.apply_credit_note("AV2026-000002", eur(250), ON, "discount", AT)
    assert invoice.credited == eur(500)
    assert invoice.open_amount == eur(500)


def test_reversing_an_allocation_reopens_its_amount(issue_invoice: Issue) -> None:
    invoice, payment_id = issue_invoice(1_000), uuid4()
    invoice.allocate(payment_id, eur(1_000), AT)
    invoice.collect_events()
    invoice.reverse_allocation(payment_id, "direct debit returned", AT)
    assert event_names(invoice) == ["AllocationReversed"]
    assert invoice.open_amount == eur(1_000)
    assert invoice.status is InvoiceStatus.ISSUED
    assert payment_id not in invoice.allocations


def test_reversing_an_allocation_that_does_not_exist_is_a_no_op(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(300), AT)
    invoice.collect_events()
    invoice.reverse_allocation(uuid4(), "unknown payment", AT)
    assert invoice.collect_events() == []
    assert invoice.open_amount == eur(700)


# Status -------------------------------------------------------------------------------------------------------
def test_status_progresses_from_issued_to_partly_paid_to_paid(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    seen = [invoice.status]
    invoice.allocate(uuid4(), eur(400), AT)
    seen.append(invoice.status)
    invoice.allocate(uuid4(), eur(600), AT)
    seen.append(invoice.status)
    assert seen == [InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID]
    assert invoice.open_amount == eur(0)


def test_an_invoice_is_disputed_while_a_dispute_is_open(issue_invoice: Issue) -> None:
    invoice, dispute_id = issue_invoice(1_000), uuid4()
    invoice.allocate(uuid4(), eur(200), AT)
    invoice.open_dispute(dispute_id, eur(300), "damaged goods", ON, AT)
    seen = [invoice.status]
    assert invoice.disputed == eur(300)
    invoice.resolve_dispute(dispute_id, "rejected", ON, AT)
    seen.append(invoice.status)
    assert seen == [InvoiceStatus.DISPUTED, InvoiceStatus.PARTLY_PAID]
    assert invoice.disputed == eur(0)


def test_a_second_dispute_while_one_is_open_is_a_conflict(issue_invoice: Issue) -> None:
    invoice, dispute_id = issue_invoice(1_000), uuid4()
    invoice.open_dispute(dispute_id, eur(300), "damaged goods", ON, AT)
    invoice.collect_events()
    invoice.open_dispute(dispute_id, eur(300), "damaged goods", ON, AT)  # a retry
    assert invoice.collect_events() == []
    with pytest.raises(Conflict):
        invoice.open_dispute(uuid4(), eur(100), "another", ON, AT)


def test_a_dispute_cannot_exceed_the_open_amount(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(800), AT)
    with pytest.raises(OverAllocation):
        invoice.open_dispute(uuid4(), eur(201), "too much", ON, AT)


def test_resolving_an_unknown_dispute_is_refused(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    with pytest.raises(DomainRuleViolation) as refused:
        invoice.resolve_dispute(uuid4(), "accepted", ON, AT)
    assert refused.value.field == "dispute_id"


def test_a_fully_paid_invoice_reads_paid_even_with_an_open_dispute(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.open_dispute(uuid4(), eur(1_000), "quality", ON, AT)
    invoice.allocate(uuid4(), eur(1_000), AT)
    assert invoice.status is InvoiceStatus.PAID


def test_a_fully_credit_noted_invoice_is_credited(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.apply_credit_note("AV2026-000001", eur(400), ON, "discount", AT)
    seen = [invoice.status]
    invoice.apply_credit_note("AV2026-000002", eur(600), ON, "cancelled", AT)
    seen.append(invoice.status)
    assert seen == [InvoiceStatus.ISSUED, InvoiceStatus.CREDITED]
    assert invoice.open_amount == eur(0)


def test_an_invoice_settled_partly_by_credit_note_and_partly_by_payment_is_paid(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.apply_credit_note("AV2026-000001", eur(300), ON, "discount", AT)
    invoice.allocate(uuid4(), eur(700), AT)
    assert invoice.status is InvoiceStatus.PAID


def test_writing_off_closes_the_open_remainder(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(300), AT)
    invoice.collect_events()
    invoice.write_off(ON, "insolvent", AT)
    assert event_names(invoice) == ["WrittenOff"]
    assert invoice.written_off == eur(700)
    assert invoice.open_amount == eur(0)
    assert invoice.status is InvoiceStatus.WRITTEN_OFF


def test_writing_off_twice_is_a_no_op(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.write_off(ON, "insolvent", AT)
    invoice.collect_events()
    invoice.write_off(ON, "insolvent", AT)
    assert invoice.collect_events() == []
    assert invoice.written_off == eur(1_000)


def test_a_paid_invoice_cannot_be_written_off(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(1_000), AT)
    with pytest.raises(InvoiceClosed):
        invoice.write_off(ON, "nothing open", AT)
    assert invoice.status is InvoiceStatus.PAID


def test_an_amount_reopened_on_a_written_off_invoice_can_still_be_settled(issue_invoice: Issue) -> None:
    invoice, returned_debit = issue_invoice(1_000), uuid4()
    invoice.allocate(returned_debit, eur(400), AT)
    invoice.write_off(ON, "insolvent", AT)
    invoice.reverse_allocation(returned_debit, "direct debit returned", AT)
    assert invoice.open_amount == eur(400)
    invoice.write_off(ON, "returned debit written off too", AT)
    assert invoice.open_amount == eur(0)


@pytest.mark.parametrize(
    ("figures", "status"),
    [
        ({"open_minor": 100, "allocated_minor": 0, "credited_minor": 0, "written_off_minor": 0}, "issued"),
        ({"open_minor": 50, "allocated_minor": 50, "credited_minor": 0, "written_off_minor": 0}, "partly_paid"),
        ({"open_minor": 0, "allocated_minor": 100, "credited_minor": 0, "written_off_minor": 0}, "paid"),
        ({"open_minor": 0, "allocated_minor": 0, "credited_minor": 100, "written_off_minor": 0}, "credited"),
        ({"open_minor": 0, "allocated_minor": 50, "credited_minor": 0, "written_off_minor": 50}, "written_off"),
    ],
)
def test_status_is_derived_from_amounts_alone(figures: dict[str, int], status: str) -> None:
    assert derive_status(**figures, disputed=False) == status


def test_overdue_is_asked_on_a_date_and_needs_something_open() -> None:
    due = date(2026, 3, 31)
    assert not is_overdue(open_minor=100, due_on=due, as_of=due)
    assert is_overdue(open_minor=100, due_on=due, as_of=date(2026, 4, 1))
    assert not is_overdue(open_minor=0, due_on=due, as_of=date(2026, 4, 1))


# Deposits -----------------------------------------------------------------------------------------------------
def test_a_final_invoice_deducts_its_deposits(issue_invoice: Issue) -> None:
    first = issue_invoice(300, kind=InvoiceKind.DEPOSIT)
    second = issue_invoice(200, kind=InvoiceKind.DEPOSIT)
    final = issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[first, second])
    assert final.deducted == eur(500)
    assert final.open_amount == eur(500)
    assert final.deductions == {str(first.id): eur(300), str(second.id): eur(200)}
    assert final.status is InvoiceStatus.PARTLY_PAID


def test_each_deducted_deposit_records_deposit_deducted_naming_the_final_invoice(customer_id: UUID,
                                                                                  issue_invoice: Issue) -> None:
    deposit = issue_invoice(300, kind=InvoiceKind.DEPOSIT)
    final = Invoice.issue(
        id=uuid4(), number="F2026-000900", series="F2026", customer_id=customer_id, kind=InvoiceKind.FINAL,
        total=eur(1_000), vat=[VatLine(Decimal(0), eur(1_000), eur(0))], issued_on=ON, due_on=ON,
        category=Category.SERVICES, purchase_order=None, external_id=None, structured_reference="RF00",
        deposits=[deposit], at=AT,
    )
    assert event_names(deposit) == ["DepositDeducted"]
    assert deposit.deducted_by == final.id
    assert event_names(final) == ["Issued"]


def test_deposits_fully_covering_a_final_invoice_leave_it_paid(issue_invoice: Issue) -> None:
    deposit = issue_invoice(1_000, kind=InvoiceKind.DEPOSIT)
    final = issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[deposit])
    assert final.open_amount == eur(0)
    assert final.status is InvoiceStatus.PAID


def test_allocations_and_deposit_deductions_together_never_exceed_total(issue_invoice: Issue) -> None:
    deposit = issue_invoice(600, kind=InvoiceKind.DEPOSIT)
    final = issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[deposit])
    with pytest.raises(OverAllocation):
        final.allocate(uuid4(), eur(401), AT)
    final.allocate(uuid4(), eur(400), AT)
    assert final.open_amount == eur(0)


def test_deposits_beyond_the_final_total_are_refused(issue_invoice: Issue) -> None:
    deposit = issue_invoice(1_200, kind=InvoiceKind.DEPOSIT)
    with pytest.raises(OverAllocation) as refused:
        issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[deposit])
    assert refused.value.field == "deposit_invoice_ids"
    assert deposit.deducted_by is None
    assert deposit.collect_events() == []


@pytest.mark.parametrize("kind", [InvoiceKind.STANDARD, InvoiceKind.DEPOSIT])
def test_only_a_final_invoice_may_deduct_deposits(issue_invoice: Issue, kind: InvoiceKind) -> None:
    deposit = issue_invoice(300, kind=InvoiceKind.DEPOSIT)
    with pytest.raises(DomainRuleViolation) as refused:
        issue_invoice(1_000, kind=kind, deposits=[deposit])
    assert refused.value.field == "deposit_invoice_ids"
    assert deposit.deducted_by is None


def test_a_standard_invoice_cannot_be_deducted_as_a_deposit(issue_invoice: Issue) -> None:
    standard = issue_invoice(300)
    with pytest.raises(DomainRuleViolation) as refused:
        issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[standard])
    assert refused.value.field == "deposit_invoice_ids[0]"
    assert standard.collect_events() == []


def test_a_deposit_of_another_customer_cannot_be_deducted(issue_invoice: Issue) -> None:
    deposit = issue_invoice(300, kind=InvoiceKind.DEPOSIT, customer=uuid4())
    with pytest.raises(DomainRuleViolation) as refused:
        issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[deposit])
    assert refused.value.field == "deposit_invoice_ids[0]"


def test_a_deposit_in_another_currency_cannot_be_deducted(issue_invoice: Issue) -> None:
    deposit = issue_invoice(300, kind=InvoiceKind.DEPOSIT, currency="USD")
    with pytest.raises(DomainRuleViolation):
        issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[deposit])
    assert deposit.deducted_by is None


def test_a_deposit_is_deducted_by_one_final_invoice_only(issue_invoice: Issue) -> None:
    deposit = issue_invoice(300, kind=InvoiceKind.DEPOSIT)
    first_final = issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[deposit])
    with pytest.raises(DomainRuleViolation) as refused:
        issue_invoice(800, kind=InvoiceKind.FINAL, deposits=[deposit])
    assert refused.value.field == "deposit_invoice_ids[0]"
    assert deposit.deducted_by == first_final.id


def test_a_refused_deduction_leaves_the_earlier_deposits_untouched(issue_invoice: Issue) -> None:
    good = issue_invoice(300, kind=InvoiceKind.DEPOSIT)
    foreign = issue_invoice(200, kind=InvoiceKind.DEPOSIT, customer=uuid4())
    with pytest.raises(DomainRuleViolation) as refused:
        issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[good, foreign])
    assert refused.value.field == "deposit_invoice_ids[1]"
    assert good.deducted_by is None
    assert good.collect_events() == []


def test_a_deposit_cancelled_by_a_credit_note_cannot_be_deducted(issue_invoice: Issue) -> None:
    deposit = issue_invoice(300, kind=InvoiceKind.DEPOSIT)
    deposit.apply_credit_note("AV2026-000001", eur(300), ON, "deposit cancelled", AT)
    assert deposit.status is InvoiceStatus.CREDITED
    with pytest.raises(DomainRuleViolation):
        issue_invoice(1_000, kind=InvoiceKind.FINAL, deposits=[deposit])


# Due date and the legal maximum ------------------------------------------------------------------------------------
def issue_due(customer_id: UUID, due_on: date, *, kind: CustomerKind = CustomerKind.PROFESSIONAL,
              derogation: str | None = None) -> Invoice:
    return Invoice.issue(
        id=uuid4(), number="F2026-000001", series="F2026", customer_id=customer_id, kind=InvoiceKind.STANDARD,
        total=eur(1_000), vat=[VatLine(Decimal(0), eur(1_000), eur(0))], issued_on=ON, due_on=due_on,
        category=Category.SERVICES, purchase_order=None, external_id=None, structured_reference="RF00", deposits=[],
        at=AT, ceiling=legal_ceiling(kind, ON, None), due_on_derogation=derogation)


def test_a_due_date_two_years_out_for_a_professional_is_refused_and_nothing_is_issued(customer_id: UUID) -> None:
    with pytest.raises(TermsBeyondLegalMaximum) as refused:
        issue_due(customer_id, date(2028, 2, 10))
    assert refused.value.field == "due_on"
    # 60 days: 11 April; 45 days end of month: 31 March or (end of February + 45) 14 April, the later
    assert refused.value.figures["maximum_due_on"] == "2026-04-14"


def test_a_due_date_beyond_the_maximum_with_a_derogation_records_the_reason_on_the_issued_event(
        customer_id: UUID) -> None:
    invoice = issue_due(customer_id, date(2028, 2, 10), derogation="  contrat-cadre art. 7  ")
    [issued] = invoice.collect_events()
    assert isinstance(issued, Invoice.Issued)
    assert issued.due_on_derogation == invoice.due_on_derogation == "contrat-cadre art. 7"
    assert type(issued).class_version >= 2  # v2 added the derogation


def test_an_invoice_within_the_maximum_records_no_derogation(customer_id: UUID) -> None:
    assert issue_due(customer_id, date(2026, 4, 14)).due_on_derogation is None


def test_a_consumers_due_date_is_not_capped(customer_id: UUID) -> None:
    assert issue_due(customer_id, date(2028, 2, 10), kind=CustomerKind.INDIVIDUAL).due_on == date(2028, 2, 10)


# Nothing left open -------------------------------------------------------------------------------------------------
def test_disputing_a_paid_invoice_says_it_is_paid_not_that_the_amount_must_be_positive(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(1_000), AT)
    invoice.collect_events()
    with pytest.raises(InvoiceSettled) as refused:
        invoice.open_dispute(uuid4(), invoice.open_amount, "late delivery", ON, AT)
    assert refused.value.rule == "invoice-settled"
    assert refused.value.detail == f"invoice {invoice.number} is paid; there is nothing left to dispute"
    assert refused.value.field == "invoice_id"
    assert invoice.collect_events() == []


def test_promising_to_pay_a_paid_invoice_is_refused_as_settled(issue_invoice: Issue) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(1_000), AT)
    with pytest.raises(InvoiceSettled):
        invoice.promise_payment(promise_id=uuid4(), promised_on=ON, amount=eur(100), made_on=ON, at=AT)


# Events recorded before their second version ----------------------------------------------------------------------
class Store(Application[UUID]):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register(transcoder)


def reloaded_as_v1(store: Store, aggregate_id: UUID, v2_fields: dict[str, tuple[str, ...]]) -> Any:
    """The aggregate read back from a copy of its stream whose events of the given names are stored as v1 was
    (without `class_version` and without the fields given): what a database written before v2 holds."""
    copy_id, copied = uuid4(), []
    for stored in store.recorder.select_events(aggregate_id):
        state = json.loads(stored.state)
        name = stored.topic.rsplit(".", 1)[-1]
        if name in v2_fields:
            assert state.pop("class_version") >= 2
            for field in v2_fields[name]:
                del state[field]
        copied.append(StoredEvent(originator_id=copy_id, originator_version=stored.originator_version,
                                  topic=stored.topic, state=json.dumps(state).encode()))
    store.recorder.insert_events(copied)
    return store.repository.get(copy_id)


@pytest.mark.parametrize("v1_without", [("payer_customer_id",), ("payer_customer_id", "value_on")])
def test_issued_and_payment_allocated_events_stored_as_v1_are_upcast(customer_id: UUID,
                                                                     v1_without: tuple[str, ...]) -> None:
    """v1 PaymentAllocated events carry a value date since the dunning release, none before it: those read as the
    recording day (an upcaster says so, where a default used to)."""
    store = Store()
    invoice = issue_due(customer_id, ON)
    invoice.allocate(uuid4(), eur(400), AT, value_on=date(2026, 2, 9), payer_customer_id=uuid4())
    store.save(invoice)

    old = reloaded_as_v1(store, invoice.id, {"Issued": ("due_on_derogation",),
                                             "PaymentAllocated": (*v1_without, "reanchored_on", "promise_kept")})

    assert old.due_on_derogation is None and old.open_amount == eur(600)
    [allocated] = [e for e in store.events.get(old.id) if isinstance(e, Invoice.PaymentAllocated)]
    assert allocated.payer_customer_id is None
    assert allocated.value_on == (business_date(AT) if "value_on" in v1_without else date(2026, 2, 9))


def test_a_payment_allocated_event_stored_as_v1_is_upcast(customer_id: UUID) -> None:
    store = Store()
    payment = Payment.receive(id=uuid4(), customer_id=customer_id, amount=eur(1_000), method=PaymentMethod.TRANSFER,
                              value_on=ON, payer_reference=None, remittance=None, external_id=None, at=AT)
    payment.allocate(uuid4(), eur(300), AT, invoice_customer_id=uuid4())
    store.save(payment)

    old = reloaded_as_v1(store, payment.id, {"Allocated": ("invoice_customer_id",)})

    assert old.unapplied == eur(700)
    [allocated] = [e for e in store.events.get(old.id) if isinstance(e, Payment.Allocated)]
    assert allocated.invoice_customer_id is None
