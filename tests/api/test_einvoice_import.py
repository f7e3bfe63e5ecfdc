"""POST /v1/invoices/import: a Factur-X PDF, a CII or a UBL XML recorded as the invoice it states (its own number,
dates, buyer by SIREN, totals, VAT breakdown, due date, payment terms), once; the document served back byte for byte.
SQLite and PostgreSQL; the clock fixture stands at Monday 2026-03-02."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, Json, created, ok
from tests.support.einvoices import BUYER_SIREN, SELLER_SIREN, Sample, cii, factur_x, ubl

from ar.adapters.invoice_documents import sha256
from ar.application.commands import new_id
from ar.application.issuer_numbers import numbered_invoice_id

SERIES = f"EINV-{SELLER_SIREN}"
FORMATS: dict[str, tuple[Callable[[Sample], bytes], str]] = {
    "factur-x": (factur_x, "application/pdf"), "cii": (cii, "application/xml"), "ubl": (ubl, "application/xml")}


def post(client: TestClient, content: bytes, media_type: str, **headers: str) -> httpx.Response:
    return client.post("/v1/invoices/import", content=content, headers={"Content-Type": media_type, **headers})


@pytest.mark.parametrize("syntax", FORMATS)
def test_each_format_is_recorded_as_the_invoice_it_states_once_and_served_back(
    client: TestClient, event_head: EventHead, syntax: str,
) -> None:
    build, media_type = FORMATS[syntax]
    document = build(Sample())
    invoice = created(post(client, document, media_type, **{"Content-Disposition": 'attachment; filename="fa.x"'}))
    assert invoice["id"] == str(numbered_invoice_id(SERIES, "FA-2026-0107"))
    assert (invoice["number"], invoice["series"], invoice["numbered_by"]) == ("FA-2026-0107", SERIES, "issuer")
    assert (invoice["issued_on"], invoice["due_on"], invoice["purchase_order"]) == ("2026-03-02", "2026-04-01",
                                                                                    "PO-7781")
    assert invoice["total"]["minor"] == 141100
    assert [(v["rate"], v["base"]["minor"], v["vat"]["minor"]) for v in invoice["vat"]] == [
        ("20.00", 100000, 20000), ("5.50", 20000, 1100)]
    assert invoice["customer_id"] == str(new_id("customer", external_id=f"siren:{BUYER_SIREN}"))
    customer = ok(client.get(f"/v1/customers/{invoice['customer_id']}"))
    assert (customer["name"], customer["kind"], customer["country"], customer["external_id"]) == (
        "Boulangerie Martin SARL", "professional", "FR", f"siren:{BUYER_SIREN}")
    history = ok(client.get(f"/v1/invoices/{invoice['id']}/events"))
    assert [e["type"] for e in history] == ["Issued", "DocumentAttached"]
    attached = history[1]["data"]
    assert (attached["sha256"], attached["media_type"]) == (sha256(document), media_type)
    assert attached["payment_terms"].startswith("Paiement à 30 jours")
    assert attached["filename"] == "fa.x"

    head = event_head()
    again = post(client, document, media_type)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == invoice["id"]
    assert event_head() == head

    served = client.get(f"/v1/invoices/{invoice['id']}/document")
    assert served.status_code == 200
    assert served.content == document
    assert served.headers["content-type"].startswith(media_type)


def test_the_buyer_is_the_customer_of_its_siren_whatever_the_format(client: TestClient) -> None:
    first = created(post(client, cii(Sample(number="FA-1")), "application/xml"))
    second = created(post(client, ubl(Sample(number="FA-2", buyer_name="Another name")), "application/xml"))
    assert first["customer_id"] == second["customer_id"]
    registered = created(client.post("/v1/customers", json={"name": "Known", "kind": "professional",
                                                            "external_id": "siren:356000000"}))
    third = created(post(client, cii(Sample(number="FA-3", buyer_siren="356000000")), "application/xml"))
    assert third["customer_id"] == registered["id"]


def test_a_due_date_beyond_the_legal_maximum_is_recorded_as_stated(client: TestClient) -> None:
    invoice = created(post(client, ubl(Sample(due_on="2026-07-30")), "application/xml"))
    assert (invoice["due_on"], invoice["due_on_derogation"]) == ("2026-07-30", "as stated on the e-invoice")


def test_an_invoice_without_a_document_has_none_to_serve(
    client: TestClient, problem: CheckProblem, register_customer: Callable[..., Json],
    issue_invoice: Callable[..., httpx.Response],
) -> None:
    invoice = created(issue_invoice(register_customer()["id"]))
    problem(client.get(f"/v1/invoices/{invoice['id']}/document"), 404, field="invoice_id")


@pytest.mark.parametrize(("content", "media_type", "field"), [
    (b"<Invoice><unclosed></Invoice>", "application/xml", "document"),
    (b"%PDF-1.4 not really", "application/pdf", "document"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Invoice>&e;</Invoice>',
     "application/xml", "document"),
    (b"<Order xmlns='urn:x'/>", "application/xml", "Order"),
    (cii(), "text/plain", "Content-Type"),
    (ubl(replace(Sample(), vat=[("20.00", "1000.005", "200.00")])), "application/xml", "TaxableAmount"),
    (cii(Sample(type_code="386")), "application/xml", "TypeCode"),
    (cii(Sample(type_code="381")), "application/xml", "InvoiceReferencedDocument"),
    (ubl(Sample(grand_total="1500.00")), "application/xml", "GrandTotalAmount"),
])
def test_a_document_that_cannot_be_recorded_is_a_422_naming_the_element_and_records_nothing(
    client: TestClient, problem: CheckProblem, event_head: EventHead, content: bytes, media_type: str, field: str,
) -> None:
    head = event_head()
    problem(post(client, content, media_type), 422, field=field)
    assert event_head() == head


def test_a_cii_invalid_against_its_xsd_names_the_element_found_and_the_one_expected(
    client: TestClient, problem: CheckProblem,
) -> None:
    missing_type = cii().replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    refused = problem(post(client, missing_type, "application/xml"), 422, field="IssueDateTime",
                      rule="einvoice-unreadable")
    assert refused["expected"] == "TypeCode"
