"""A statement a customer can pay from, over HTTP, in JSON, CSV and PDF (both backends): the creditor named, the
account number, each invoice's due date and payment reference, the legal mentions, and how to pay the open balance
with an EPC QR code that decodes to the right IBAN, amount and reference. Fields and columns only ever added."""

from __future__ import annotations

import csv
import io
from typing import Any

import zxingcpp
from fastapi.testclient import TestClient
from pypdf import PdfReader
from stdnum import iso11649

from ar.reports.payment_block import account_number, customer_reference

IBAN = "FR7630006000011234567890189"
OLD_STATEMENT_FIELDS = {"customer_id", "name", "language", "from_on", "to_on", "known_at", "sections", "penalties"}
OLD_MOVEMENT_FIELDS = {"effective_on", "kind", "reference", "invoice_number", "debit_minor", "credit_minor",
                       "balance_minor", "counterparty_id", "counterparty_name"}
OLD_CSV_COLUMNS = ["currency", "date", "kind", "reference", "invoice_number", "debit", "credit", "balance",
                   "counterparty_id", "counterparty_name"]


def _issue(client: TestClient, customer_id: str, total: int, issued_on: str, due_on: str) -> dict[str, Any]:
    r = client.post("/v1/invoices", json={
        "customer_id": customer_id, "series": "F2026", "total_minor": total, "issued_on": issued_on,
        "due_on": due_on, "vat": [{"rate": "0", "base_minor": total, "vat_minor": 0}]})
    assert r.status_code == 201, r.text
    return {"position": r.headers["ar-position"], **r.json()}


def _statement(client: TestClient, register_customer: Any, **customer: Any) -> tuple[str, dict[str, Any],
                                                                                      dict[str, str]]:
    customer_id = register_customer(language="fr", **customer)["id"]
    invoice = _issue(client, customer_id, 1_234_56, "2026-02-10", "2026-03-12")
    paid = client.post("/v1/payments", json={"customer_id": customer_id, "amount_minor": 34_56,
                                             "value_on": "2026-02-20",
                                             "allocations": [{"invoice_id": invoice["id"], "amount_minor": 34_56}]})
    assert paid.status_code == 201, paid.text
    return customer_id, invoice, {"from": "2026-02-01", "to": "2026-02-28", "min_position": paid.headers["ar-position"]}


def test_the_json_statement_names_the_creditor_the_account_the_due_dates_and_how_to_pay(
        client: TestClient, register_customer: Any) -> None:
    customer_id, invoice, params = _statement(client, register_customer)
    r = client.get(f"/v1/customers/{customer_id}/statement", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= OLD_STATEMENT_FIELDS
    creditor = body["creditor"]
    assert (creditor["siren"], creditor["vat_id"]) == ("123456782", "FR11123456782")
    assert creditor["address"] and creditor["legal_name"]
    assert body["account_number"] == account_number(customer_id)

    [section] = body["sections"]
    movements = {m["kind"]: m for m in section["movements"]}
    assert all(set(m) >= OLD_MOVEMENT_FIELDS for m in section["movements"])
    assert movements["invoice"]["due_on"] == "2026-03-12"
    assert movements["invoice"]["payment_reference"] == invoice["structured_reference"]
    assert movements["payment"]["payment_reference"] is None

    [payment] = body["payment"]
    reference = customer_reference(customer_id)
    assert iso11649.is_valid(reference)
    assert (payment["iban"], payment["amount_minor"], payment["currency"], payment["reference"]) == (
        IBAN, 1_200_00, "EUR", reference)
    assert payment["epc_qr"].split("\n")[6:] == [IBAN, "EUR1200", "", reference]
    assert payment["qr_png_data_uri"].startswith("data:image/png;base64,")

    mentions = " ".join(body["legal_mentions"])
    assert "Escompte pour paiement anticipé : néant" in mentions
    assert "L441-10" in mentions and "40 €" in mentions


def test_a_discount_in_the_customers_terms_is_the_statements_l441_9_mention(
        client: TestClient, register_customer: Any) -> None:
    customer_id, _, params = _statement(client, register_customer,
                                        terms={"kind": "net", "days": 30, "discount": {"rate": "2", "days": 10}})
    body = client.get(f"/v1/customers/{customer_id}/statement", params=params).json()
    assert body["legal_mentions"][0] == "Escompte pour paiement anticipé : 2 % si paiement sous 10 jours"


def test_the_csv_statement_adds_its_columns_at_the_end(client: TestClient, register_customer: Any) -> None:
    customer_id, invoice, params = _statement(client, register_customer)
    r = client.get(f"/v1/customers/{customer_id}/statement", params={**params, "format": "csv"})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0])[:len(OLD_CSV_COLUMNS)] == OLD_CSV_COLUMNS
    assert list(rows[0])[len(OLD_CSV_COLUMNS):] == ["due_on", "payment_reference", "account_number", "refusal",
                                                    "customer_siren", "customer_address"]
    [line] = [row for row in rows if row["kind"] == "invoice"]
    assert (line["due_on"], line["payment_reference"]) == ("2026-03-12", invoice["structured_reference"])
    assert rows[-1]["kind"] == "closing" and rows[-1]["payment_reference"] == customer_reference(customer_id)
    assert {row["account_number"] for row in rows} == {account_number(customer_id)}


def test_the_pdf_statement_shows_how_to_pay_with_a_qr_code_of_the_open_balance(
        client: TestClient, register_customer: Any) -> None:
    customer_id, invoice, params = _statement(client, register_customer)
    r = client.get(f"/v1/customers/{customer_id}/statement", params={**params, "format": "pdf"})
    assert r.status_code == 200, r.text
    reader = PdfReader(io.BytesIO(r.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split()).replace("\u00a0", " ")
    for words in ("SIREN 123456782", "TVA intracommunautaire FR11123456782", account_number(customer_id),
                  "Échéance", "12/03/2026", invoice["structured_reference"], "Comment régler",
                  "FR76 3000 6000 0112 3456 7890 189", "AGRIFRPP", "1 200,00 €",
                  "Escompte pour paiement anticipé : néant", "L441-10", "40 € par facture"):
        assert words in text, words
    [image] = [image for page in reader.pages for image in page.images]
    [code] = zxingcpp.read_barcodes(image.image)
    assert code.text.split("\n")[6:] == [IBAN, "EUR1200", "", customer_reference(customer_id)]


def test_nothing_owed_means_no_payment_block(client: TestClient, register_customer: Any) -> None:
    customer_id = register_customer(language="en")["id"]
    invoice = _issue(client, customer_id, 500_00, "2026-02-10", "2026-03-12")
    paid = client.post("/v1/payments", json={"customer_id": customer_id, "amount_minor": 500_00,
                                             "value_on": "2026-02-20",
                                             "allocations": [{"invoice_id": invoice["id"], "amount_minor": 500_00}]})
    params = {"from": "2026-02-01", "to": "2026-02-28", "min_position": paid.headers["ar-position"]}
    body = client.get(f"/v1/customers/{customer_id}/statement", params=params).json()
    assert body["payment"] == []
    assert body["legal_mentions"][0] == "Early payment discount: none"
    pdf = client.get(f"/v1/customers/{customer_id}/statement", params={**params, "format": "pdf"})
    assert not [image for page in PdfReader(io.BytesIO(pdf.content)).pages for image in page.images]


def test_the_statement_addresses_the_customer_by_its_billing_address_and_siren(
        client: TestClient, register_customer: Any) -> None:
    address = {"lines": ["Bâtiment B", "12 rue des Lilas"], "postcode": "69003", "city": "Lyon"}
    customer_id, _, params = _statement(client, register_customer, billing_address=address, siren="443061841")
    body = client.get(f"/v1/customers/{customer_id}/statement", params=params).json()
    assert (body["billing_address"], body["siren"]) == (["Bâtiment B", "12 rue des Lilas", "69003 LYON"],
                                                        "443061841")
    r = client.get(f"/v1/customers/{customer_id}/statement", params={**params, "format": "pdf"})
    assert r.status_code == 200, r.text
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    lines = [line.strip() for line in text.splitlines()]
    block = ["Bâtiment B", "12 rue des Lilas", "69003 LYON"]
    assert all(line in lines for line in block), text
    assert [lines.index(line) for line in block] == sorted(lines.index(line) for line in block)  # in order
    assert "SIREN 443061841" in text
    r = client.get(f"/v1/customers/{customer_id}/statement", params={**params, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {(row["customer_siren"], row["customer_address"]) for row in rows} == {
        ("443061841", "Bâtiment B, 12 rue des Lilas, 69003 LYON")}


def test_a_customer_without_an_address_has_an_empty_block(client: TestClient, register_customer: Any) -> None:
    customer_id, _, params = _statement(client, register_customer)
    body = client.get(f"/v1/customers/{customer_id}/statement", params=params).json()
    assert (body["billing_address"], body["siren"]) == ([], None)
