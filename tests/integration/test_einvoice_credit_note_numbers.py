"""A seller's credit-note number on two credit notes for two invoices, imported at the same instant, on SQLite and
PostgreSQL: one is applied, the other refused naming the number, never both (the number's record is saved with the
credit note, so the loser's save fails on its id)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.support.einvoices import Sample, ubl

from ar.adapters.einvoices import read_einvoice
from ar.application.einvoices import Document
from ar.domain.issuer_credit_note import CreditNoteNumberTaken
from ar.domain.money import Money
from ar.runtime import Runtime

DOCUMENT = Document("0" * 64, "application/xml", None)
CREDIT_NOTE = Sample(number="AV-2026-0012", type_code="381", corrects="FA-2026-0107",
                     vat=[("20.00", "200.00", "40.00")])


def test_one_credit_note_number_raced_onto_two_invoices_is_applied_once(runtime: Runtime, race: Any) -> None:
    app = runtime.app
    first = app.import_einvoice(read_einvoice(ubl(), "application/xml"), DOCUMENT).aggregate
    second = app.import_einvoice(read_einvoice(ubl(Sample(number="FA-2026-0108")), "application/xml"),
                                 DOCUMENT).aggregate
    to_first = read_einvoice(ubl(CREDIT_NOTE), "application/xml")
    to_second = read_einvoice(ubl(replace(CREDIT_NOTE, corrects="FA-2026-0108")), "application/xml")
    outcomes = race(lambda: app.import_einvoice(to_first, DOCUMENT), lambda: app.import_einvoice(to_second, DOCUMENT))
    assert sorted(type(o).__name__ for o in outcomes) == ["CreditNoteNumberTaken", "NoneType"], outcomes
    refused = next(o for o in outcomes if isinstance(o, CreditNoteNumberTaken))
    assert refused.figures["number"] == "AV-2026-0012"
    credited = [app.get_invoice(i.id).credited for i in (first, second)]
    assert sorted(c.minor for c in credited) == [0, 24000]
    assert sum((c for c in credited), Money(0, "EUR")) == Money(24000, "EUR")
