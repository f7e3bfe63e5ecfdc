"""`If-Match`: a command made against an old version is refused, and refused without writing anything."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ar.domain.errors import PreconditionFailed
from ar.domain.money import Money
from ar.domain.terms import EndOfMonthReading, PaymentTerms, TermsKind
from ar.runtime import Runtime


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_terms_change_based_on_an_old_version_is_refused(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    old = customer.version
    runtime.app.change_credit_limit(customer.id, eur(500_000), expected_version=old)
    head = runtime.projections.head()

    with pytest.raises(PreconditionFailed) as refused:
        runtime.app.change_customer_terms(customer.id, PaymentTerms(TermsKind.NET, 45), expected_version=old)

    assert refused.value.field == "If-Match"
    assert runtime.projections.head() == head
    current = runtime.app.get_customer(customer.id)
    assert (current.terms, current.version) == (PaymentTerms(), old + 1)
    eom = PaymentTerms(TermsKind.END_OF_MONTH_45, 0, EndOfMonthReading.PLUS_45_THEN_END_OF_MONTH)
    changed = runtime.app.change_customer_terms(customer.id, eom, expected_version=current.version).aggregate
    assert (changed.terms, changed.version) == (eom, old + 2)


def test_invoice_commands_based_on_an_old_version_are_refused(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    desk.payment(customer.id, 200, allocations=[(invoice.id, 200)])
    head = runtime.projections.head()

    with pytest.raises(PreconditionFailed):
        runtime.app.write_off_invoice(invoice.id, reason="irrecouvrable", expected_version=invoice.version)
    with pytest.raises(PreconditionFailed):
        runtime.app.issue_credit_note(invoice.id, amount=eur(100), reason="remise", series="AV",
                                      expected_version=invoice.version)
    with pytest.raises(PreconditionFailed):
        runtime.app.open_dispute(invoice.id, dispute_id=uuid4(), amount=None, reason="x",
                                 expected_version=invoice.version)

    assert runtime.projections.head() == head
    credited = runtime.app.issue_credit_note(invoice.id, amount=eur(100), reason="remise", series="AV",
                                             expected_version=invoice.version + 1).aggregate
    assert list(credited.credit_notes) == ["AV-000001"]  # the refused attempt took no number
