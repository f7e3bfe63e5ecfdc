from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from ar.domain import allocation
from ar.domain.errors import Conflict, DomainRuleViolation, InvoiceClosed, OverAllocation
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.status import InvoiceStatus

AT = datetime(2026, 2, 12, 8, 0, tzinfo=UTC)
ON = date(2026, 2, 12)

Issue = Callable[..., Invoice]
Receive = Callable[..., Payment]


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def event_names(*aggregates: Invoice | Payment) -> list[list[str]]:
    return [[type(e).__name__ for e in aggregate.collect_events()] for aggregate in aggregates]


# allocate / reverse -------------------------------------------------------------------------------------------
def test_allocating_changes_the_payment_and_the_invoice_together(issue_invoice: Issue,
                                                                 receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(1_500)
    allocation.allocate(payment, invoice, eur(1_000), AT)
    assert event_names(payment, invoice) == [["Allocated"], ["PaymentAllocated"]]
    assert payment.allocations == {invoice.id: eur(1_000)}
    assert invoice.allocations == {payment.id: eur(1_000)}
    assert payment.unapplied == eur(500)
    assert invoice.open_amount == eur(0)
    assert invoice.status is InvoiceStatus.PAID


def test_a_retried_allocation_produces_no_new_event_on_either_side(issue_invoice: Issue,
                                                                   receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(1_000)
    allocation.allocate(payment, invoice, eur(400), AT)
    payment.collect_events(), invoice.collect_events()
    allocation.allocate(payment, invoice, eur(400), AT)
    assert event_names(payment, invoice) == [[], []]
    assert payment.unapplied == eur(600)
    assert invoice.open_amount == eur(600)


def test_an_allocation_beyond_the_unapplied_cash_changes_neither_side(issue_invoice: Issue,
                                                                     receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(300)
    with pytest.raises(OverAllocation):
        allocation.allocate(payment, invoice, eur(301), AT)
    assert event_names(payment, invoice) == [[], []]
    assert invoice.open_amount == eur(1_000)
    assert payment.unapplied == eur(300)


def test_an_allocation_beyond_the_open_amount_changes_neither_side(issue_invoice: Issue,
                                                                  receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(5_000)
    with pytest.raises(OverAllocation):
        allocation.allocate(payment, invoice, eur(1_001), AT)
    assert event_names(payment, invoice) == [[], []]
    assert payment.unapplied == eur(5_000)


def test_an_allocation_to_a_closed_invoice_changes_neither_side(issue_invoice: Issue,
                                                               receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(1_000)
    invoice.write_off(ON, "insolvent", AT)
    invoice.collect_events()
    with pytest.raises(InvoiceClosed):
        allocation.allocate(payment, invoice, eur(100), AT)
    assert event_names(payment, invoice) == [[], []]


def test_an_allocation_across_currencies_changes_neither_side(issue_invoice: Issue,
                                                             receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000, currency="USD"), receive_payment(1_000)
    with pytest.raises(DomainRuleViolation) as refused:
        allocation.allocate(payment, invoice, eur(100), AT)
    assert refused.value.field == "currency"
    assert event_names(payment, invoice) == [[], []]


def test_reversing_reopens_the_invoice_and_frees_the_cash(issue_invoice: Issue, receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(1_000)
    allocation.allocate(payment, invoice, eur(1_000), AT)
    payment.collect_events(), invoice.collect_events()
    allocation.reverse(payment, invoice, "wrong customer", AT)
    assert event_names(payment, invoice) == [["AllocationReversed"], ["AllocationReversed"]]
    assert invoice.open_amount == eur(1_000)
    assert payment.unapplied == eur(1_000)


def test_one_payment_can_settle_several_invoices(issue_invoice: Issue, receive_payment: Receive) -> None:
    first, second, payment = issue_invoice(600), issue_invoice(400), receive_payment(1_000)
    allocation.allocate(payment, first, eur(600), AT)
    allocation.allocate(payment, second, eur(400), AT)
    assert first.status is InvoiceStatus.PAID
    assert second.status is InvoiceStatus.PAID
    assert payment.unapplied == eur(0)


def test_several_payments_can_settle_one_invoice(issue_invoice: Issue, receive_payment: Receive) -> None:
    invoice, first, second = issue_invoice(1_000), receive_payment(300), receive_payment(2_000)
    allocation.allocate(first, invoice, eur(300), AT)
    seen = [invoice.status]
    allocation.allocate(second, invoice, eur(700), AT)
    seen.append(invoice.status)
    assert seen == [InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID]
    assert second.unapplied == eur(1_300)


# plan ---------------------------------------------------------------------------------------------------------
def test_plan_spreads_the_cash_over_candidates_in_the_given_order(issue_invoice: Issue,
                                                                  receive_payment: Receive) -> None:
    oldest, middle, newest = issue_invoice(400), issue_invoice(500), issue_invoice(300)
    payment = receive_payment(1_000)
    planned = allocation.plan(payment, [oldest, middle, newest])
    assert [(invoice.number, amount) for invoice, amount in planned] == [
        (oldest.number, eur(400)), (middle.number, eur(500)), (newest.number, eur(100)),
    ]


def test_plan_follows_the_order_it_is_given_not_the_invoice_order(issue_invoice: Issue,
                                                                  receive_payment: Receive) -> None:
    first, second = issue_invoice(400), issue_invoice(500)
    planned = allocation.plan(receive_payment(500), [second, first])
    assert [(invoice.id, amount) for invoice, amount in planned] == [(second.id, eur(500))]


def test_plan_never_plans_more_than_the_unapplied_cash(issue_invoice: Issue, receive_payment: Receive) -> None:
    invoices = [issue_invoice(1_000) for _ in range(3)]
    payment = receive_payment(2_500)
    payment.refund(uuid4(), eur(1_000), ON, AT)
    planned = allocation.plan(payment, invoices)
    assert sum(amount.minor for _, amount in planned) == 1_500
    assert [amount for _, amount in planned] == [eur(1_000), eur(500)]


def test_plan_takes_open_amounts_not_totals(issue_invoice: Issue, receive_payment: Receive) -> None:
    invoice = issue_invoice(1_000)
    invoice.allocate(uuid4(), eur(700), AT)
    assert allocation.plan(receive_payment(1_000), [invoice]) == [(invoice, eur(300))]


def test_plan_skips_closed_invoices(issue_invoice: Issue, receive_payment: Receive) -> None:
    written_off, credited, paid, open_one = (issue_invoice(100) for _ in range(4))
    written_off.write_off(ON, "insolvent", AT)
    credited.apply_credit_note("AV2026-000001", eur(100), ON, "cancelled", AT)
    paid.allocate(uuid4(), eur(100), AT)
    planned = allocation.plan(receive_payment(1_000), [written_off, credited, paid, open_one])
    assert planned == [(open_one, eur(100))]


def test_plan_skips_invoices_in_another_currency(issue_invoice: Issue, receive_payment: Receive) -> None:
    dollars, euros = issue_invoice(100, currency="USD"), issue_invoice(100)
    assert allocation.plan(receive_payment(1_000), [dollars, euros]) == [(euros, eur(100))]


def test_plan_counts_a_candidate_listed_twice_once(issue_invoice: Issue, receive_payment: Receive) -> None:
    invoice = issue_invoice(300)
    assert allocation.plan(receive_payment(1_000), [invoice, invoice]) == [(invoice, eur(300))]


def test_plan_for_a_returned_payment_is_empty(issue_invoice: Issue, receive_payment: Receive) -> None:
    payment = receive_payment(1_000, method=PaymentMethod.DIRECT_DEBIT)
    payment.mark_returned(ON, "AM04", AT)
    assert allocation.plan(payment, [issue_invoice(100)]) == []


def test_plan_changes_nothing(issue_invoice: Issue, receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(100), receive_payment(1_000)
    allocation.plan(payment, [invoice])
    assert event_names(payment, invoice) == [[], []]


def test_a_plan_applied_leaves_both_sides_consistent(issue_invoice: Issue, receive_payment: Receive) -> None:
    invoices = [issue_invoice(total) for total in (250, 400, 900)]
    payment = receive_payment(1_000)
    for invoice, amount in allocation.plan(payment, invoices):
        allocation.allocate(payment, invoice, amount, AT)
    assert [invoice.open_amount for invoice in invoices] == [eur(0), eur(0), eur(550)]
    assert payment.unapplied == eur(0)
    assert sum(i.allocated.minor for i in invoices) == payment.allocated.minor == 1_000


# numbers_in ---------------------------------------------------------------------------------------------------
def test_numbers_in_finds_invoice_numbers_as_written_in_order() -> None:
    # the finder looks them up regardless of case: a token is not repeated in capitals
    assert allocation.numbers_in("Payment for F2026-000012 and f2026-000013") == ["F2026-000012", "f2026-000013"]


def test_numbers_in_lists_a_number_written_in_two_cases_once_as_first_written() -> None:
    assert allocation.numbers_in("fa-2026-0042 FA-2026-0042 Fa-2026-0042") == ["fa-2026-0042"]


def test_numbers_in_lists_a_number_repeated_once() -> None:
    assert allocation.numbers_in("F2026-000013, F2026-000012, F2026-000013") == ["F2026-000013", "F2026-000012"]


@pytest.mark.parametrize("text", [None, "", "thanks for the goods", "paid 117,00 EUR", "order 2026"])
def test_numbers_in_finds_nothing_where_there_is_no_number(text: str | None) -> None:
    assert allocation.numbers_in(text) == []


def test_numbers_in_reads_numbers_glued_to_punctuation() -> None:
    found = allocation.numbers_in("INV:F2026-000001/AV_2026-000002;")
    assert [n for n in found if "/" not in n] == ["F2026-000001", "AV_2026-000002"]  # the parts between slashes


def test_numbers_in_reads_whole_tokens_only() -> None:
    # a series past 999,999 has seven digits; a prefix of a longer token is never taken for another number
    assert allocation.numbers_in("Payment F2026-0000123") == ["F2026-0000123"]


def test_plan_pays_only_the_undisputed_part_of_an_invoice(issue_invoice: Issue, receive_payment: Receive) -> None:
    disputed, other = issue_invoice(1_000), issue_invoice(500)
    disputed.open_dispute(uuid4(), eur(600), "damaged goods", ON, AT)
    planned = allocation.plan(receive_payment(1_000), [disputed, other])
    assert [(invoice.id, amount) for invoice, amount in planned] == [(disputed.id, eur(400)), (other.id, eur(500))]


def test_plan_leaves_other_customers_invoices_alone(issue_invoice: Issue, receive_payment: Receive) -> None:
    someone_elses, own = issue_invoice(300, customer=uuid4()), issue_invoice(300)
    planned = allocation.plan(receive_payment(1_000), [someone_elses, own])
    assert planned == [(own, eur(300))]


def test_the_same_pair_with_another_amount_is_a_conflict_not_a_silent_no_op(issue_invoice: Issue,
                                                                           receive_payment: Receive) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(1_000)
    allocation.allocate(payment, invoice, eur(400), AT)
    allocation.allocate(payment, invoice, eur(400), AT)  # a retry
    with pytest.raises(Conflict):
        allocation.allocate(payment, invoice, eur(500), AT)
    assert invoice.open_amount == eur(600)


def test_plan_skips_an_invoice_this_payment_already_pays(issue_invoice: Issue, receive_payment: Receive) -> None:
    first, second = issue_invoice(1_000), issue_invoice(1_000)
    payment = receive_payment(1_300)
    allocation.allocate(payment, first, eur(700), AT)
    assert allocation.plan(payment, [first, second]) == [(second, eur(600))]


# Third-party cash ------------------------------------------------------------------------------------------------
def test_a_parent_paying_its_subsidiarys_invoice_is_allowed_and_both_events_name_the_other_customer(
        issue_invoice: Issue, receive_payment: Receive, customer_id: UUID) -> None:
    subsidiary = uuid4()
    invoice, payment = issue_invoice(1_000, customer=subsidiary), receive_payment(1_000)  # the payer: customer_id

    allocation.allocate(payment, invoice, eur(600), AT)

    [paid] = payment.collect_events()
    [settled] = invoice.collect_events()
    assert isinstance(paid, Payment.Allocated) and isinstance(settled, Invoice.PaymentAllocated)
    assert (paid.invoice_customer_id, settled.payer_customer_id) == (subsidiary, customer_id)
    assert invoice.open_amount == eur(400) and payment.unapplied == eur(400)


def test_a_customers_own_payment_names_the_same_customer_on_both_sides(issue_invoice: Issue, receive_payment: Receive,
                                                                      customer_id: UUID) -> None:
    invoice, payment = issue_invoice(1_000), receive_payment(1_000)
    allocation.allocate(payment, invoice, eur(1_000), AT)
    [paid], [settled] = payment.collect_events(), invoice.collect_events()
    assert paid.invoice_customer_id == settled.payer_customer_id == customer_id


def test_the_automatic_plan_never_spends_a_payers_cash_on_another_customers_invoice(issue_invoice: Issue,
                                                                                   receive_payment: Receive) -> None:
    others = issue_invoice(300, customer=uuid4())
    own = issue_invoice(200)
    assert allocation.plan(receive_payment(1_000), [others, own]) == [(own, eur(200))]
