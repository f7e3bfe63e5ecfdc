"""POST /v1/invoices/import of a credit note (CII 381/261/262/396, UBL CreditNote) and of an invoice with an amount
paid before it: the credit note applied to the invoice it corrects under its own number, once, its document served
back; the prepaid part a payment applied to the invoice, so that what is open is the amount due. Nothing recorded
for a document refused. SQLite and PostgreSQL; the clock fixture stands at Monday 2026-03-02."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, created, ok
from tests.support.einvoices import SELLER_SIREN, Sample, cii, factur_x, ubl

from ar.application.commands import new_id
from ar.application.issuer_numbers import numbered_invoice_id

SERIES = f"EINV-{SELLER_SIREN}"
INVOICE_ID = str(numbered_invoice_id(SERIES, "FA-2026-0107"))
FORMATS: dict[str, tuple[Callable[[Sample], bytes], str]] = {
    "factur-x": (factur_x, "application/pdf"), "cii": (cii, "application/xml"), "ubl": (ubl, "application/xml")}
CREDIT_NOTE = Sample(number="AV-2026-0012", issued_on="2026-03-10", type_code="381", corrects="FA-2026-0107",
                     vat=[("20.00", "200.00", "40.00")])


def credit_notes(invoice: dict[str, Any]) -> dict[str, int]:
    return {number: amount["minor"] for number, amount in invoice["credit_notes"].items()}


def post(client: TestClient, content: bytes, media_type: str, **headers: str) -> httpx.Response:
    return client.post("/v1/invoices/import", content=content, headers={"Content-Type": media_type, **headers})


@pytest.mark.parametrize("syntax", FORMATS)
def test_a_credit_note_is_applied_to_the_invoice_it_corrects_under_its_own_number_once(
    client: TestClient, event_head: EventHead, syntax: str,
) -> None:
    build, media_type = FORMATS[syntax]
    invoice_document = build(Sample())
    created(post(client, invoice_document, media_type))
    document = build(CREDIT_NOTE)
    corrected = created(post(client, document, media_type, **{"Content-Disposition": 'inline; filename="av.x"'}))
    assert corrected["id"] == INVOICE_ID
    assert credit_notes(corrected) == {"AV-2026-0012": 24000}
    assert (corrected["credited"]["minor"], corrected["open_amount"]["minor"]) == (24000, 141100 - 24000)
    history = ok(client.get(f"/v1/invoices/{INVOICE_ID}/events"))
    assert [e["type"] for e in history] == ["Issued", "DocumentAttached", "CreditNoteApplied"]
    applied = history[-1]["data"]
    assert (applied["number"], applied["credited_on"]) == ("AV-2026-0012", "2026-03-10")

    head = event_head()
    again = post(client, document, media_type)
    assert again.status_code == 200, again.text
    assert credit_notes(again.json()) == {"AV-2026-0012": 24000}
    assert event_head() == head

    served = client.get(f"/v1/invoices/{INVOICE_ID}/credit-notes/AV-2026-0012/document")
    assert served.status_code == 200
    assert served.content == document
    assert served.headers["content-type"].startswith(media_type)
    assert served.headers["content-disposition"] == 'inline; filename="av.x"'
    assert client.get(f"/v1/invoices/{INVOICE_ID}/document").content == invoice_document


@pytest.mark.parametrize("type_code", ["261", "262", "396"])
def test_every_credit_note_code_of_the_french_cius_is_applied(client: TestClient, type_code: str) -> None:
    created(post(client, cii(Sample()), "application/xml"))
    corrected = created(post(client, cii(replace(CREDIT_NOTE, type_code=type_code)), "application/xml"))
    assert credit_notes(corrected) == {"AV-2026-0012": 24000}


@pytest.mark.parametrize(("build", "element"), [(cii, "InvoiceReferencedDocument"), (ubl, "BillingReference")])
def test_a_credit_note_of_an_unknown_invoice_is_a_422_naming_it_and_records_nothing(
    client: TestClient, problem: CheckProblem, event_head: EventHead, build: Callable[[Sample], bytes], element: str,
) -> None:
    head = event_head()
    refused = problem(post(client, build(CREDIT_NOTE), "application/xml"), 422, field=element,
                      rule="corrected-invoice-unknown")
    assert refused["invoice_number"] == "FA-2026-0107"
    assert "FA-2026-0107" in refused["detail"]
    assert event_head() == head
    problem(client.get(f"/v1/invoices/{INVOICE_ID}/credit-notes/AV-2026-0012/document"), 404)


@pytest.mark.parametrize(("build", "element"), [(cii, "GrandTotalAmount"), (ubl, "TaxInclusiveAmount")])
def test_a_credit_note_for_more_than_is_open_is_refused_by_the_invoices_rule(
    client: TestClient, problem: CheckProblem, event_head: EventHead, build: Callable[[Sample], bytes], element: str,
) -> None:
    created(post(client, build(Sample()), "application/xml"))
    head = event_head()
    too_much = replace(CREDIT_NOTE, vat=[("20.00", "1200.00", "240.00")])
    problem(post(client, build(too_much), "application/xml"), 422, field=element, rule="over-allocation")
    assert event_head() == head
    assert ok(client.get(f"/v1/invoices/{INVOICE_ID}"))["credit_notes"] == {}


def test_another_credit_note_under_a_number_already_applied_is_a_conflict(
    client: TestClient, problem: CheckProblem,
) -> None:
    created(post(client, ubl(Sample()), "application/xml"))
    created(post(client, ubl(CREDIT_NOTE), "application/xml"))
    problem(post(client, ubl(replace(CREDIT_NOTE, vat=[("20.00", "100.00", "20.00")])), "application/xml"), 409,
            field="number")
    assert ok(client.get(f"/v1/invoices/{INVOICE_ID}"))["credited"]["minor"] == 24000


@pytest.mark.parametrize("syntax", FORMATS)
def test_an_amount_paid_before_is_settled_by_a_payment_so_what_is_open_is_the_amount_due(
    client: TestClient, event_head: EventHead, syntax: str,
) -> None:
    build, media_type = FORMATS[syntax]
    document = build(Sample(prepaid="411.00"))
    invoice = created(post(client, document, media_type))
    assert (invoice["total"]["minor"], invoice["allocated"]["minor"], invoice["open_amount"]["minor"]) == (
        141100, 41100, 100000)
    assert [(v["rate"], v["base"]["minor"], v["vat"]["minor"]) for v in invoice["vat"]] == [
        ("20.00", 100000, 20000), ("5.50", 20000, 1100)]
    [(payment_id, amount)] = invoice["allocations"].items()
    assert amount["minor"] == 41100
    payment = ok(client.get(f"/v1/payments/{payment_id}"))
    assert payment_id == str(new_id("payment", external_id=f"einvoice-prepaid:{SERIES}:FA-2026-0107"))
    assert (payment["customer_id"], payment["method"], payment["value_on"]) == (
        invoice["customer_id"], "transfer", "2026-03-02")
    assert payment["remittance"].startswith("paid before e-invoice FA-2026-0107")
    assert payment["unapplied"]["minor"] == 0
    history = [e["type"] for e in ok(client.get(f"/v1/invoices/{invoice['id']}/events"))]
    assert history[:3] == ["Issued", "DocumentAttached", "PaymentAllocated"]
    assert "LifecycleStatusSent" in history  # the deposit is cash the platform hears of (212)

    head = event_head()
    again = post(client, document, media_type)
    assert again.status_code == 200, again.text
    assert again.json()["open_amount"]["minor"] == 100000
    assert event_head() == head


@pytest.mark.parametrize(("build", "element", "sample"), [
    (cii, "DuePayableAmount", Sample(prepaid="411.00", payable="1411.00")),
    (ubl, "PayableAmount", Sample(prepaid="411.00", payable="1000.01")),
    (ubl, "PayableAmount", Sample(payable="1000.00")),
    (ubl, "PrepaidAmount", Sample(prepaid="1411.01", payable="-0.01")),
])
def test_an_amount_due_other_than_total_less_prepaid_is_a_422_naming_it_and_records_nothing(
    client: TestClient, problem: CheckProblem, event_head: EventHead, build: Callable[[Sample], bytes], element: str,
    sample: Sample,
) -> None:
    head = event_head()
    problem(post(client, build(sample), "application/xml"), 422, field=element)
    assert event_head() == head


def test_a_ubl_invalid_against_the_ubl_xsd_is_a_422_naming_the_element(
    client: TestClient, problem: CheckProblem, event_head: EventHead,
) -> None:
    head = event_head()
    no_lines = ubl().split(b"<cac:InvoiceLine>")[0] + b"</Invoice>"
    refused = problem(post(client, no_lines, "application/xml"), 422, field="Invoice", rule="einvoice-unreadable")
    assert refused["expected"] == ["InvoiceLine"]
    assert event_head() == head


@pytest.mark.parametrize(("build", "element"), [(cii, "BuyerTradeParty"), (ubl, "AccountingCustomerParty")])
def test_a_credit_note_to_another_buyer_than_the_invoices_is_a_422_naming_the_buyer(
    client: TestClient, problem: CheckProblem, event_head: EventHead, build: Callable[[Sample], bytes], element: str,
) -> None:
    created(post(client, build(Sample()), "application/xml"))
    head = event_head()
    problem(post(client, build(replace(CREDIT_NOTE, buyer_siren="356000000")), "application/xml"), 422,
            field=element)
    assert event_head() == head
