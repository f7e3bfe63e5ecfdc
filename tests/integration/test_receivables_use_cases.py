"""The use cases end to end through `Receivables`, stored and reloaded on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from ar.domain.errors import Conflict, DomainRuleViolation, InvoiceClosed, OverAllocation
from ar.domain.invoice_kind import InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod
from ar.domain.reference import is_valid_creditor_reference
from ar.domain.status import InvoiceStatus
from ar.domain.terms import EndOfMonthReading, PaymentTerms, TermsKind
from ar.runtime import Runtime

TODAY = date(2026, 3, 2)  # the `clock` fixture's business date


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def spaced(reference: str) -> str:
    """A reference as people type it from paper: groups of four, lower case."""
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4)).lower()


def test_due_date_follows_the_customer_terms_net_30_by_default(runtime: Runtime, desk) -> None:
    default = desk.customer()
    end_of_month = desk.customer(terms=PaymentTerms(TermsKind.END_OF_MONTH_45, 0,
                                                    EndOfMonthReading.END_OF_MONTH_THEN_PLUS_45))

    net_30 = desk.invoice(default.id, 12_000)
    eom_45 = desk.invoice(end_of_month.id, 5_000)

    assert runtime.app.get_customer(default.id).terms == PaymentTerms(TermsKind.NET, 30)
    assert (net_30.issued_on, net_30.due_on) == (TODAY, date(2026, 4, 1))
    assert eom_45.due_on == date(2026, 5, 15)  # 31 March + 45 days
    assert runtime.app.get_invoice(eom_45.id).due_on == date(2026, 5, 15)


def test_invoices_of_a_series_are_numbered_from_one_without_gap(runtime: Runtime, desk) -> None:
    customer = desk.customer()

    numbers = [desk.invoice(customer.id, 1_000 * n).number for n in range(1, 4)]

    assert numbers == ["F2026-000001", "F2026-000002", "F2026-000003"]
    assert desk.invoice(customer.id, 100, series="F2026B").number == "F2026B-000001"
    stored = runtime.app.get_invoice(desk.invoice(customer.id, 100).id)
    assert stored.number == "F2026-000004"
    assert is_valid_creditor_reference(stored.structured_reference)


def test_payment_and_its_allocations_are_saved_in_one_transaction(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    first, second = desk.invoice(customer.id, 10_000), desk.invoice(customer.id, 5_000)
    head = runtime.projections.head()

    saved = runtime.app.record_payment(
        payment_id=uuid4(), customer_id=customer.id, amount=eur(12_000), method=PaymentMethod.TRANSFER,
        allocations=[(first.id, eur(10_000)), (second.id, eur(2_000))])

    payment = runtime.app.get_payment(saved.aggregate.id)
    assert payment.version == 3  # received + two allocations
    assert payment.unapplied == eur(0)
    paid, partly = runtime.app.get_invoice(first.id), runtime.app.get_invoice(second.id)
    assert (paid.version, paid.status, paid.open_amount) == (2, InvoiceStatus.PAID, eur(0))
    assert (partly.version, partly.status, partly.open_amount) == (2, InvoiceStatus.PARTLY_PAID, eur(3_000))
    # One write: the five new events are the last five of the log, and the command reports the last one.
    assert saved.position == runtime.projections.head() == head + 5
    written = runtime.app.recorder.select_notifications(head, 10, inclusive_of_start=False)
    assert {n.originator_id for n in written} == {payment.id, first.id, second.id}


def test_auto_allocation_follows_the_structured_reference(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    older, referenced = desk.invoice(customer.id, 1_000), desk.invoice(customer.id, 2_000)

    payment = desk.payment(customer.id, 2_000, auto=True, payer_reference=spaced(referenced.structured_reference))

    assert payment.allocations == {referenced.id: eur(2_000)}
    assert desk.open_minor(referenced.id) == 0
    assert desk.open_minor(older.id) == 1_000


def test_auto_allocation_reads_invoice_numbers_in_the_remittance_text(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    first, second, third = (desk.invoice(customer.id, m) for m in (1_000, 2_000, 3_000))

    payment = desk.payment(customer.id, 4_000, auto=True,
                           remittance=f"Reglement factures {third.number.lower()} / {second.number}, merci")

    assert payment.allocations == {third.id: eur(3_000), second.id: eur(1_000)}
    assert [desk.open_minor(i.id) for i in (first, second, third)] == [1_000, 1_000, 0]


def test_auto_allocation_pays_the_oldest_due_first_and_keeps_the_rest_unapplied(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    due_last = desk.invoice(customer.id, 1_000, due_on=date(2026, 5, 15))  # the legal maximum (L441-10)
    due_second = desk.invoice(customer.id, 1_500, due_on=date(2026, 4, 15))
    due_first = desk.invoice(customer.id, 700)  # net 30: 1 April
    other_customer = desk.customer(name="Autre SA")
    foreign = desk.invoice(other_customer.id, 500, due_on=TODAY)

    first = desk.payment(customer.id, 2_500, auto=True)

    assert first.allocations == {due_first.id: eur(700), due_second.id: eur(1_500), due_last.id: eur(300)}
    second = desk.payment(customer.id, 1_000, auto=True)
    assert second.allocations == {due_last.id: eur(700)}
    assert runtime.app.get_payment(second.id).unapplied == eur(300)
    assert desk.open_minor(foreign.id) == 500


def test_cash_without_a_match_stays_unapplied_until_allocated(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    anonymous = desk.payment(None, 800, auto=True, remittance="virement sans reference")
    early = desk.payment(customer.id, 1_000, auto=True)  # nothing is invoiced yet
    invoice = desk.invoice(customer.id, 1_500)

    assert [runtime.app.get_payment(p.id).unapplied for p in (anonymous, early)] == [eur(800), eur(1_000)]
    runtime.app.allocate_payment(early.id, allocations=None)  # none given: automatic, for the payment's customer
    runtime.app.allocate_payment(anonymous.id, allocations=[(invoice.id, eur(500))])

    assert runtime.app.get_payment(early.id).allocations == {invoice.id: eur(1_000)}
    assert runtime.app.get_payment(anonymous.id).unapplied == eur(300)
    assert runtime.app.get_invoice(invoice.id).status is InvoiceStatus.PAID


def test_credit_notes_are_numbered_in_their_own_series(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    partly, fully = desk.invoice(customer.id, 1_000), desk.invoice(customer.id, 2_000)

    runtime.app.issue_credit_note(partly.id, amount=eur(300), reason="retour marchandise", series="AV")
    runtime.app.issue_credit_note(fully.id, amount=eur(2_000), reason="annulation", series="AV")

    assert runtime.app.get_invoice(partly.id).credit_notes == {"AV-000001": eur(300)}
    credited = runtime.app.get_invoice(fully.id)
    assert credited.credit_notes == {"AV-000002": eur(2_000)}
    assert (credited.status, credited.open_amount) == (InvoiceStatus.CREDITED, eur(0))
    assert desk.invoice(customer.id, 100).number == "F2026-000003"
    with pytest.raises(InvoiceClosed):
        desk.payment(customer.id, 100, allocations=[(fully.id, 100)])


def test_write_off_closes_the_open_rest(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    desk.payment(customer.id, 400, allocations=[(invoice.id, 400)])

    runtime.app.write_off_invoice(invoice.id, reason="client en liquidation")

    written_off = runtime.app.get_invoice(invoice.id)
    assert (written_off.written_off, written_off.open_amount) == (eur(600), eur(0))
    assert written_off.status is InvoiceStatus.WRITTEN_OFF
    with pytest.raises(InvoiceClosed):
        desk.payment(customer.id, 100, allocations=[(invoice.id, 100)])


def test_dispute_is_opened_then_resolved(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    dispute = uuid4()

    runtime.app.open_dispute(invoice.id, dispute_id=dispute, amount=None, reason="prestation incomplete")

    disputed = runtime.app.get_invoice(invoice.id)
    assert (disputed.status, disputed.disputes) == (InvoiceStatus.DISPUTED, {dispute: eur(1_000)})
    with pytest.raises(Conflict):
        runtime.app.open_dispute(invoice.id, dispute_id=uuid4(), amount=eur(10), reason="second")
    runtime.app.resolve_dispute(invoice.id, dispute_id=dispute, outcome="prestation terminee")
    resolved = runtime.app.get_invoice(invoice.id)
    assert (resolved.status, resolved.disputes, resolved.version) == (InvoiceStatus.ISSUED, {}, 3)


def test_refund_gives_back_unapplied_cash_only(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    payment = desk.payment(customer.id, 1_500, allocations=[(invoice.id, 1_000)])

    runtime.app.refund_payment(payment.id, refund_id=uuid4(), amount=eur(500))

    refunded = runtime.app.get_payment(payment.id)
    assert (refunded.refunded, refunded.unapplied) == (eur(500), eur(0))
    with pytest.raises(OverAllocation):
        runtime.app.refund_payment(payment.id, refund_id=uuid4(), amount=eur(1))
    assert runtime.app.get_invoice(invoice.id).status is InvoiceStatus.PAID


def test_returned_direct_debit_reopens_the_invoices_it_paid(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    first, second = desk.invoice(customer.id, 1_000), desk.invoice(customer.id, 500)
    debit = desk.payment(customer.id, 1_500, method=PaymentMethod.DIRECT_DEBIT,
                         allocations=[(first.id, 1_000), (second.id, 500)])
    head = runtime.projections.head()

    runtime.app.return_payment(debit.id, reason="AM04 provision insuffisante")

    returned = runtime.app.get_payment(debit.id)
    assert (returned.returned_on, returned.allocations, returned.unapplied) == (TODAY, {}, eur(0))
    for invoice, total in ((first, 1_000), (second, 500)):
        reopened = runtime.app.get_invoice(invoice.id)
        assert (reopened.status, reopened.open_amount, reopened.version) == (InvoiceStatus.ISSUED, eur(total), 3)
    assert runtime.projections.head() == head + 5  # 2 x 2 reversals + Returned, in one save
    with pytest.raises(DomainRuleViolation):
        runtime.app.return_payment(desk.payment(customer.id, 100).id, reason="a transfer cannot bounce")


def test_final_invoice_deducts_the_deposit_invoice(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    deposit = desk.invoice(customer.id, 3_000, kind=InvoiceKind.DEPOSIT)
    desk.payment(customer.id, 3_000, allocations=[(deposit.id, 3_000)])

    final = desk.invoice(customer.id, 10_000, kind=InvoiceKind.FINAL, deposits=(deposit.id,))

    stored = runtime.app.get_invoice(final.id)
    assert (stored.deducted, stored.open_amount, stored.status) == (eur(3_000), eur(7_000), InvoiceStatus.PARTLY_PAID)
    assert runtime.app.get_invoice(deposit.id).deducted_by == final.id
    with pytest.raises(DomainRuleViolation):
        desk.invoice(customer.id, 10_000, kind=InvoiceKind.FINAL, deposits=(deposit.id,))
    assert desk.invoice(customer.id, 100).number == "F2026-000003"  # the refused final invoice took no number


def test_history_lists_the_invoice_events_in_order(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    payment = desk.payment(customer.id, 400, method=PaymentMethod.DIRECT_DEBIT, allocations=[(invoice.id, 400)])
    runtime.app.issue_credit_note(invoice.id, amount=eur(100), reason="remise", series="AV")
    runtime.app.return_payment(payment.id, reason="AM04")
    runtime.app.write_off_invoice(invoice.id, reason="irrecouvrable")

    history = runtime.app.history(invoice.id)

    assert [(e["version"], e["type"]) for e in history] == [
        (1, "Issued"), (2, "PaymentAllocated"), (3, "CreditNoteApplied"), (4, "AllocationReversed"),
        (5, "WrittenOff"),
    ]
    assert history[0]["data"]["number"] == "F2026-000001"
    assert history[1]["data"]["payment_id"] == str(payment.id)
    assert history[2]["data"]["number"] == "AV-000001"
    assert history[4]["data"]["amount"] == {"minor": 900, "currency": "EUR"}
    assert [e["type"] for e in runtime.app.history(payment.id)] == [
        "Received", "Allocated", "AllocationReversed", "Returned"]
