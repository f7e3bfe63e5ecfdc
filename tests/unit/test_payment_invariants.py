from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from ar.domain.errors import DomainRuleViolation, OverAllocation, PaymentReturned
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod

AT = datetime(2026, 2, 12, 8, 0, tzinfo=UTC)
ON = date(2026, 2, 12)

Receive = Callable[..., Payment]


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def event_names(payment: Payment) -> list[str]:
    return [type(e).__name__ for e in payment.collect_events()]


def test_receiving_records_one_event_with_all_the_cash_unapplied(customer_id: UUID) -> None:
    payment = Payment.receive(id=uuid4(), customer_id=customer_id, amount=eur(5_000), method=PaymentMethod.TRANSFER,
                              value_on=ON, payer_reference="RF76F2026000012", remittance=None, external_id=None,
                              at=AT)
    assert event_names(payment) == ["Received"]
    assert payment.unapplied == eur(5_000)
    assert payment.currency == "EUR"


@pytest.mark.parametrize("amount", [0, -500])
def test_a_payment_amount_must_be_positive(amount: int) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        Payment.receive(id=uuid4(), customer_id=None, amount=eur(amount), method=PaymentMethod.CARD, value_on=ON,
                        payer_reference=None, remittance=None, external_id=None, at=AT)
    assert refused.value.field == "amount_minor"


def test_allocations_never_exceed_the_payment_amount(receive_payment: Receive) -> None:
    payment = receive_payment(1_000)
    payment.allocate(uuid4(), eur(700), AT)
    payment.collect_events()
    with pytest.raises(OverAllocation) as refused:
        payment.allocate(uuid4(), eur(301), AT)
    assert refused.value.field == "amount_minor"
    assert payment.collect_events() == []
    assert payment.unapplied == eur(300)


def test_allocations_and_refunds_together_never_exceed_the_payment_amount(receive_payment: Receive) -> None:
    payment = receive_payment(1_000)
    payment.allocate(uuid4(), eur(600), AT)
    payment.refund(uuid4(), eur(400), ON, AT)
    assert payment.unapplied == eur(0)
    payment.collect_events()
    with pytest.raises(OverAllocation):
        payment.refund(uuid4(), eur(1), ON, AT)
    with pytest.raises(OverAllocation):
        payment.allocate(uuid4(), eur(1), AT)
    assert payment.collect_events() == []


def test_a_refund_never_exceeds_the_unapplied_cash(receive_payment: Receive) -> None:
    payment = receive_payment(1_000)
    payment.allocate(uuid4(), eur(900), AT)
    with pytest.raises(OverAllocation):
        payment.refund(uuid4(), eur(101), ON, AT)
    assert payment.refunded == eur(0)


def test_an_allocation_in_another_currency_is_refused(receive_payment: Receive) -> None:
    payment = receive_payment(1_000)
    with pytest.raises(DomainRuleViolation) as refused:
        payment.allocate(uuid4(), Money(100, "USD"), AT)
    assert refused.value.field == "currency"
    assert payment.unapplied == eur(1_000)


@pytest.mark.parametrize("amount", [0, -1])
def test_an_allocation_or_refund_must_be_positive(receive_payment: Receive, amount: int) -> None:
    payment = receive_payment(1_000)
    with pytest.raises(DomainRuleViolation):
        payment.allocate(uuid4(), eur(amount), AT)
    with pytest.raises(DomainRuleViolation):
        payment.refund(uuid4(), eur(amount), ON, AT)
    assert payment.collect_events() == []


def test_the_same_invoice_allocated_twice_is_a_no_op(receive_payment: Receive) -> None:
    payment, invoice_id = receive_payment(1_000), uuid4()
    payment.allocate(invoice_id, eur(400), AT)
    assert event_names(payment) == ["Allocated"]
    payment.allocate(invoice_id, eur(400), AT)
    assert payment.collect_events() == []
    assert payment.unapplied == eur(600)


def test_a_refund_with_the_same_refund_id_twice_is_a_no_op(receive_payment: Receive) -> None:
    payment, refund_id = receive_payment(1_000), uuid4()
    payment.refund(refund_id, eur(250), ON, AT)
    assert event_names(payment) == ["Refunded"]
    payment.refund(refund_id, eur(250), ON, AT)
    assert payment.collect_events() == []
    assert payment.refunded == eur(250)
    assert payment.unapplied == eur(750)


def test_reversing_an_allocation_frees_its_cash(receive_payment: Receive) -> None:
    payment, invoice_id = receive_payment(1_000), uuid4()
    payment.allocate(invoice_id, eur(1_000), AT)
    payment.collect_events()
    payment.reverse_allocation(invoice_id, "wrong invoice", AT)
    assert event_names(payment) == ["AllocationReversed"]
    assert payment.unapplied == eur(1_000)
    payment.reverse_allocation(invoice_id, "again", AT)
    assert payment.collect_events() == []


@pytest.mark.parametrize("method", [PaymentMethod.DIRECT_DEBIT, PaymentMethod.CHEQUE])
def test_a_returned_payment_reverses_its_allocations_and_leaves_nothing_unapplied(
    receive_payment: Receive, method: PaymentMethod
) -> None:
    payment = receive_payment(1_000, method=method)
    first, second = uuid4(), uuid4()
    payment.allocate(first, eur(600), AT)
    payment.allocate(second, eur(300), AT)
    payment.collect_events()
    payment.mark_returned(ON, "AM04 insufficient funds", AT)
    assert event_names(payment) == ["AllocationReversed", "AllocationReversed", "Returned"]
    assert payment.allocations == {}
    assert payment.allocated == eur(0)
    assert payment.unapplied == eur(0)
    assert payment.returned_on == ON


def test_returning_a_payment_twice_is_a_no_op(receive_payment: Receive) -> None:
    payment = receive_payment(1_000, method=PaymentMethod.DIRECT_DEBIT)
    payment.mark_returned(ON, "AM04", AT)
    payment.collect_events()
    payment.mark_returned(date(2026, 2, 20), "AM04", AT)
    assert payment.collect_events() == []
    assert payment.returned_on == ON


@pytest.mark.parametrize("method", [PaymentMethod.TRANSFER, PaymentMethod.CARD, PaymentMethod.CASH])
def test_a_transfer_card_or_cash_payment_cannot_be_returned(receive_payment: Receive, method: PaymentMethod) -> None:
    payment, invoice_id = receive_payment(1_000, method=method), uuid4()
    payment.allocate(invoice_id, eur(500), AT)
    payment.collect_events()
    with pytest.raises(DomainRuleViolation) as refused:
        payment.mark_returned(ON, "not returnable", AT)
    assert refused.value.field == "method"
    assert payment.collect_events() == []
    assert payment.allocations == {invoice_id: eur(500)}
    assert payment.returned_on is None


def test_a_refunded_direct_debit_cannot_be_returned(receive_payment: Receive) -> None:
    payment = receive_payment(1_000, method=PaymentMethod.DIRECT_DEBIT)
    payment.refund(uuid4(), eur(100), ON, AT)
    payment.collect_events()
    with pytest.raises(DomainRuleViolation):
        payment.mark_returned(ON, "AM04", AT)
    assert payment.collect_events() == []
    assert payment.returned_on is None


def test_a_returned_payment_can_neither_be_allocated_nor_refunded(receive_payment: Receive) -> None:
    payment = receive_payment(1_000, method=PaymentMethod.DIRECT_DEBIT)
    payment.mark_returned(ON, "AM04", AT)
    payment.collect_events()
    with pytest.raises(PaymentReturned) as refused:
        payment.allocate(uuid4(), eur(100), AT)
    assert refused.value.field == "payment_id"
    with pytest.raises(PaymentReturned):
        payment.refund(uuid4(), eur(100), ON, AT)
    assert payment.collect_events() == []
