"""A command already applied is a no-op: the same aggregate comes back and nothing new is written."""

from __future__ import annotations

from uuid import uuid4

from ar.application.receivables import new_id
from ar.domain.customer import Language
from ar.domain.money import Money
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.runtime import Runtime


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_register_customer_again_with_the_same_external_id_writes_nothing(runtime: Runtime, desk) -> None:
    first = desk.customer(external_id="ERP-C-42")
    head = runtime.projections.head()

    again = desk.customer(external_id="ERP-C-42", name="Another name, same ERP record")

    assert again.id == first.id
    assert (again.name, again.version) == ("Boulangerie Martin SARL", 1)
    assert runtime.projections.head() == head


def test_same_idempotency_key_gives_the_same_id_and_one_customer(runtime: Runtime) -> None:
    customer_id = new_id("customer", idempotency="key-7f3a")
    assert new_id("customer", idempotency="key-7f3a") == customer_id
    assert new_id("customer", idempotency="key-other") != customer_id
    assert new_id("invoice", idempotency="key-7f3a") != customer_id

    def register() -> int | None:
        return runtime.app.register_customer(
            customer_id=new_id("customer", idempotency="key-7f3a"), name="Dupont", kind=CustomerKind.INDIVIDUAL,
            country="FR", language=Language.FR, emails=[], terms=PaymentTerms(), credit_limit=None, external_id=None,
        ).position

    first = register()
    assert first == runtime.projections.head()
    assert register() is None
    assert runtime.projections.head() == first


def test_issue_invoice_again_with_the_same_external_id_keeps_its_number(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    first = desk.invoice(customer.id, 1_000, external_id="ERP-F-1001")
    head = runtime.projections.head()

    again = desk.invoice(customer.id, 9_999, external_id="ERP-F-1001")

    assert (again.id, again.number, again.total, again.version) == (first.id, "F2026-000001", eur(1_000), 1)
    assert runtime.projections.head() == head
    assert desk.invoice(customer.id, 500).number == "F2026-000002"


def test_record_payment_again_with_the_same_external_id_allocates_once(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    first = desk.payment(customer.id, 600, external_id="BANK-2026-03-02-17", allocations=[(invoice.id, 600)])
    head = runtime.projections.head()

    again = desk.payment(customer.id, 600, external_id="BANK-2026-03-02-17", allocations=[(invoice.id, 600)])

    assert (again.id, again.version) == (first.id, 2)
    assert runtime.projections.head() == head
    stored = runtime.app.get_invoice(invoice.id)
    assert (stored.open_amount, stored.version) == (eur(400), 2)


def test_retried_updates_write_nothing(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    payment = desk.payment(customer.id, 700)
    dispute = uuid4()
    runtime.app.allocate_payment(payment.id, allocations=[(invoice.id, eur(700))])
    runtime.app.open_dispute(invoice.id, dispute_id=dispute, amount=eur(200), reason="quantite")
    head = runtime.projections.head()

    retried = [
        runtime.app.allocate_payment(payment.id, allocations=[(invoice.id, eur(700))]),
        runtime.app.open_dispute(invoice.id, dispute_id=dispute, amount=eur(200), reason="quantite"),
    ]

    assert [r.position for r in retried] == [None, None]
    assert runtime.projections.head() == head
    stored = runtime.app.get_invoice(invoice.id)
    assert (stored.open_amount, stored.disputed, stored.version) == (eur(300), eur(200), 3)


def test_same_bank_line_recorded_by_two_processes_at_once_is_recorded_once(runtime: Runtime, second_runtime: Runtime,
                                                                           desk, desk_for, race) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    desks = (desk, desk_for(second_runtime.app))

    for n in range(3):
        outcomes = race(*(
            lambda d=d, k=f"BANK-{n}": d.payment(customer.id, 300, external_id=k, allocations=[(invoice.id, 300)])
            for d in desks
        ))

        assert outcomes == [None, None]
    stored = runtime.app.get_invoice(invoice.id)
    assert (stored.open_amount, len(stored.allocations), stored.version) == (eur(100), 3, 4)
    events = [n for n in runtime.app.recorder.select_notifications(0, 100)  # less what start-up seeds:
              if not n.topic.startswith(("ar.domain.dunning_policy", "ar.domain.rate_book"))]  # policies, rates
    assert len(events) == 1 + 3 + 3 * 3  # customer; series opened, number, invoice; then 3 events per payment


def test_a_credit_note_retried_with_its_key_after_a_lost_response_credits_once(runtime: Runtime, desk) -> None:
    """The response of the first attempt was lost with its process (the Idempotency-Key's stored response never
    written): the retry runs the command again, and must find the credit note already applied."""
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_200)
    credit_note_id = new_id("credit-note", idempotency="caller:key-cn-1")

    def credit() -> int | None:
        return runtime.app.issue_credit_note(invoice.id, amount=eur(200), reason="damaged goods", series="AV2026",
                                             credit_note_id=credit_note_id).position

    first = credit()
    assert first == runtime.projections.head()
    assert credit() is None
    assert runtime.projections.head() == first
    after = runtime.app.get_invoice(invoice.id)
    assert (after.credited, after.open_amount, list(after.credit_notes)) == (eur(200), eur(1_000), ["AV2026-000001"])
    other = runtime.app.issue_credit_note(invoice.id, amount=eur(100), reason="late delivery", series="AV2026",
                                          credit_note_id=new_id("credit-note", idempotency="caller:key-cn-2"))
    assert other.aggregate.credit_notes == {"AV2026-000001": eur(200), "AV2026-000002": eur(100)}
