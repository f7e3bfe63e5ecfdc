"""A refused command changes nothing: no event, no half-applied payment, no number taken from a series."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ar.application.receivables import new_id
from ar.domain.errors import NotFound, OverAllocation, PaymentReturned
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod
from ar.runtime import Runtime


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_allocation_over_the_open_amount_records_neither_payment_nor_allocation(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    payment_id = uuid4()
    head = runtime.projections.head()

    with pytest.raises(OverAllocation) as refused:
        desk.payment(customer.id, 2_000, payment_id=payment_id, allocations=[(invoice.id, 1_500)])

    assert refused.value.field == "allocations[0].amount_minor"
    assert runtime.projections.head() == head
    with pytest.raises(NotFound):
        runtime.app.get_payment(payment_id)
    stored = runtime.app.get_invoice(invoice.id)
    assert (stored.version, stored.open_amount, stored.allocations) == (1, eur(1_000), {})


def test_one_bad_allocation_undoes_the_good_ones_before_it(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    good, bad = desk.invoice(customer.id, 1_000), desk.invoice(customer.id, 300)
    head = runtime.projections.head()

    with pytest.raises(OverAllocation):
        desk.payment(customer.id, 1_500, allocations=[(good.id, 1_000), (bad.id, 500)])

    assert runtime.projections.head() == head
    assert [runtime.app.get_invoice(i.id).version for i in (good, bad)] == [1, 1]
    # The same payment, corrected, goes through whole.
    desk.payment(customer.id, 1_300, allocations=[(good.id, 1_000), (bad.id, 300)])
    assert [desk.open_minor(i.id) for i in (good, bad)] == [0, 0]


def test_allocation_beyond_the_payment_amount_is_refused(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    first, second = desk.invoice(customer.id, 1_000), desk.invoice(customer.id, 1_000)
    payment = desk.payment(customer.id, 1_200)
    runtime.app.allocate_payment(payment.id, allocations=[(first.id, eur(1_000))])
    head = runtime.projections.head()

    with pytest.raises(OverAllocation):
        runtime.app.allocate_payment(payment.id, allocations=[(second.id, eur(300))])

    assert runtime.projections.head() == head
    assert runtime.app.get_payment(payment.id).unapplied == eur(200)


def test_refused_documents_take_no_number_and_write_nothing(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    head = runtime.projections.head()

    with pytest.raises(NotFound):
        desk.invoice(uuid4(), 1_000)  # unknown customer
    with pytest.raises(NotFound):
        desk.payment(uuid4(), 1_000, external_id="BANK-1")
    with pytest.raises(OverAllocation):
        runtime.app.issue_credit_note(invoice.id, amount=eur(1_001), reason="too much", series="AV")

    assert runtime.projections.head() == head
    with pytest.raises(NotFound):
        runtime.app.get_payment(new_id("payment", external_id="BANK-1"))
    assert desk.invoice(customer.id, 500).number == "F2026-000002"
    runtime.app.issue_credit_note(invoice.id, amount=eur(1_000), reason="annulation", series="AV")
    assert list(runtime.app.get_invoice(invoice.id).credit_notes) == ["AV-000001"]


def test_returned_payment_cannot_be_allocated_again(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    debit = desk.payment(customer.id, 1_000, method=PaymentMethod.DIRECT_DEBIT, allocations=[(invoice.id, 1_000)])
    runtime.app.return_payment(debit.id, reason="AM04")
    head = runtime.projections.head()

    with pytest.raises(PaymentReturned):
        runtime.app.allocate_payment(debit.id, allocations=[(invoice.id, eur(1_000))])

    assert runtime.projections.head() == head
    assert desk.open_minor(invoice.id) == 1_000
