"""Imported e-invoices through the application, on SQLite and PostgreSQL: an invoice whose prepaid part was not
recorded (the process stopped between its two saves) is completed by the same document again; a credit note
imported twice, or by two requests at once, credits the invoice once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.support.einvoices import Sample, cii, ubl

from ar.adapters.einvoices import read_einvoice
from ar.application.einvoices import Document
from ar.domain.money import Money
from ar.runtime import Runtime

DOCUMENT = Document("0" * 64, "application/xml", None)
CREDIT_NOTE = Sample(number="AV-2026-0012", type_code="381", corrects="FA-2026-0107",
                     vat=[("20.00", "200.00", "40.00")])


def test_an_invoice_whose_prepaid_part_was_not_recorded_is_completed_by_the_same_document(runtime: Runtime) -> None:
    app = runtime.app
    einvoice = read_einvoice(cii(Sample(prepaid="411.00")), "application/xml")
    # the invoice saved, then the process stopped before the payment of its prepaid part
    interrupted = app.import_einvoice(replace(einvoice, prepaid=None, amount_due=einvoice.grand_total), DOCUMENT)
    assert interrupted.aggregate.open_amount == Money(141100, "EUR")
    completed = app.import_einvoice(einvoice, DOCUMENT)
    assert completed.position is not None
    assert (completed.aggregate.open_amount, completed.aggregate.allocated) == (Money(100000, "EUR"),
                                                                                Money(41100, "EUR"))
    again = app.import_einvoice(einvoice, DOCUMENT)
    assert again.position is None
    assert app.get_invoice(completed.aggregate.id).allocated == Money(41100, "EUR")


def test_a_credit_note_imported_by_two_requests_at_once_credits_the_invoice_once(
    runtime: Runtime, race: Any,
) -> None:
    app = runtime.app
    invoice = app.import_einvoice(read_einvoice(ubl(), "application/xml"), DOCUMENT).aggregate
    credit_note = read_einvoice(ubl(CREDIT_NOTE), "application/xml")
    outcomes = race(lambda: app.import_einvoice(credit_note, DOCUMENT),
                    lambda: app.import_einvoice(credit_note, DOCUMENT))
    assert outcomes == [None, None]
    credited = app.get_invoice(invoice.id)
    assert (credited.credit_notes, credited.credited) == ({"AV-2026-0012": Money(24000, "EUR")}, Money(24000, "EUR"))
