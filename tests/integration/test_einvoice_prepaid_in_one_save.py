"""An imported invoice with an amount paid before it is written in one transaction, on SQLite and PostgreSQL: the
invoice, its series and the prepaid payment with its allocation are one submission to the group commit, so a stop
between two saves can no longer leave the invoice without its payment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from tests.support.einvoices import Sample, cii

from ar.adapters.einvoices import read_einvoice
from ar.application.einvoices import Document, prepaid_payment_id
from ar.application.group_commit import Ticket
from ar.domain.money import Money
from ar.runtime import Runtime

DOCUMENT = Document("0" * 64, "application/xml", None)


def submissions(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The events of each submission to the group commit (one submission: one atomic write), by type name."""
    seen: list[list[str]] = []
    submit = runtime.app.group_commit.submit

    def spy(events: Sequence[Any], follows: Ticket | None = None) -> Ticket:
        seen.append([f"{type(e).__qualname__}" for e in events])
        return submit(events, follows)

    monkeypatch.setattr(runtime.app.group_commit, "submit", spy)
    return seen


def test_an_invoice_and_its_prepaid_payment_are_one_write(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    app = runtime.app
    einvoice = read_einvoice(cii(Sample(prepaid="411.00")), "application/xml")
    app.import_einvoice(einvoice, DOCUMENT)  # registers the buyer (its own write) and the invoice
    seen = submissions(runtime, monkeypatch)
    other = read_einvoice(cii(Sample(number="FA-2026-0108", prepaid="411.00")), "application/xml")
    saved = app.import_einvoice(other, DOCUMENT)
    assert len(seen) == 1, seen
    [events] = seen
    assert {"Invoice.Issued", "Invoice.DocumentAttached", "Invoice.PaymentAllocated", "Payment.Received",
            "Payment.Allocated"} <= set(events), events
    invoice = app.get_invoice(saved.aggregate.id)
    assert (invoice.allocated, invoice.open_amount) == (Money(41100, "EUR"), Money(100000, "EUR"))
    payment = app.get_payment(prepaid_payment_id(invoice))
    assert payment.allocations == {invoice.id: Money(41100, "EUR")}
    assert saved.position is not None


def test_the_same_document_again_writes_nothing(runtime: Runtime) -> None:
    app = runtime.app
    einvoice = read_einvoice(cii(Sample(prepaid="411.00")), "application/xml")
    first = app.import_einvoice(einvoice, DOCUMENT)
    head = app.recorder.max_notification_id()
    again = app.import_einvoice(einvoice, DOCUMENT)
    assert again.position is None
    assert app.recorder.max_notification_id() == head
    assert again.aggregate.allocations == first.aggregate.allocations
