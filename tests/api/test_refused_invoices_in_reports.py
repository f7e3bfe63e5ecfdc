"""A refused (e-invoice 210) or invalid (213) invoice in the reports, as a French accountant keeps it: still owed in
the ledger until a credit note cancels it, so the balances and the aging bands keep it, but marked, and never asked
to be paid: the statement (JSON, CSV, PDF) says "refusée par le client" on its line, gives it no payment reference
and leaves it out of the amount to pay; the aging says how much of each line is refused. Both backends."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from tests.support.api import Json, ok


def _issue(client: TestClient, customer_id: str, total: int, issued_on: str) -> Json:
    r = client.post("/v1/invoices", json={
        "customer_id": customer_id, "series": "F2026", "total_minor": total, "issued_on": issued_on,
        "due_on": "2026-03-12", "vat": [{"rate": "0", "base_minor": total, "vat_minor": 0}]})
    assert r.status_code == 201, r.text
    body: Json = r.json()
    return body


def _status(client: TestClient, invoice_id: str, code: str, message_id: str) -> str:
    r = client.post(f"/v1/invoices/{invoice_id}/lifecycle", json={"status": code, "message_id": message_id,
                                                                   "reason": "commande annulée"})
    assert r.status_code == 200, r.text
    position: str = r.headers["ar-position"]
    return position


def _refusals(client: TestClient, register_customer: Any) -> tuple[str, Json, Json, Json, str]:
    customer_id = register_customer(language="fr")["id"]
    refused = _issue(client, customer_id, 100_000, "2026-02-10")
    owed = _issue(client, customer_id, 50_000, "2026-02-11")
    invalid = _issue(client, customer_id, 20_000, "2026-02-12")
    _status(client, refused["id"], "210", "MSG-1")
    _status(client, refused["id"], "211", "MSG-2")  # a later status: the refusal stands
    return customer_id, refused, owed, invalid, _status(client, invalid["id"], "213", "MSG-3")


def test_a_statement_marks_a_refused_invoice_and_asks_to_pay_only_the_rest(
        client: TestClient, register_customer: Any) -> None:
    customer_id, refused, owed, invalid, at = _refusals(client, register_customer)
    params = {"from": "2026-02-01", "to": "2026-02-28", "min_position": at}
    body = ok(client.get(f"/v1/customers/{customer_id}/statement", params=params))
    [section] = body["sections"]
    lines = {m["reference"]: m for m in section["movements"] if m["kind"] == "invoice"}
    assert (lines[refused["number"]]["refusal"], lines[refused["number"]]["refusal_text"]) == (
        "refused", "refusée par le client")
    assert lines[invalid["number"]]["refusal"] == "invalid"
    assert lines[refused["number"]]["payment_reference"] is None
    assert (lines[owed["number"]]["refusal"], lines[owed["number"]]["payment_reference"]) == (
        None, owed["structured_reference"])
    # still owed in the ledger: the balance and the aging hold it, the amount to pay does not
    assert (section["closing_minor"], section["refused_minor"], section["payable_minor"]) == (170_000, 120_000,
                                                                                               50_000)
    assert (section["aging"]["open_minor"], section["aging"]["refused_minor"],
            section["aging"]["refused_invoices"]) == (170_000, 120_000, 2)
    [payment] = body["payment"]
    assert payment["amount_minor"] == 50_000

    r = client.get(f"/v1/customers/{customer_id}/statement", params={**params, "format": "csv"})
    assert r.status_code == 200, r.text
    rows = {row["reference"]: row["refusal"] for row in csv.DictReader(io.StringIO(r.text)) if row["kind"] == "invoice"}
    assert rows == {refused["number"]: "refused", owed["number"]: "", invalid["number"]: "invalid"}

    pdf = client.get(f"/v1/customers/{customer_id}/statement", params={**params, "format": "pdf"})
    assert pdf.status_code == 200, pdf.text
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "refusée par le client" in text and "rejetée par la plateforme (invalide)" in text


def test_the_aging_keeps_refused_invoices_in_its_bands_and_says_how_much_is_refused(
        client: TestClient, register_customer: Any) -> None:
    customer_id, *_, at = _refusals(client, register_customer)
    other = register_customer(name="Bob SAS")["id"]
    last = client.post("/v1/invoices", json={
        "customer_id": other, "series": "F2026", "total_minor": 7_000, "issued_on": "2026-02-13",
        "due_on": "2026-03-12", "vat": [{"rate": "0", "base_minor": 7_000, "vat_minor": 0}]})
    at = last.headers["ar-position"]

    body = ok(client.get("/v1/aging", params={"as_of": "2026-04-01", "min_position": at}))
    [total] = body["totals"]
    assert (total["open_minor"], total["invoices"], total["refused_minor"], total["refused_invoices"]) == (
        177_000, 4, 120_000, 2)
    lines = {line["customer_id"]: line for line in body["customers"]}
    assert (lines[customer_id]["refused_minor"], lines[other]["refused_minor"]) == (120_000, 0)
    # as of a day before the invoices were issued, nothing was open, refused or not
    before = ok(client.get("/v1/aging", params={"as_of": "2026-02-01", "min_position": at}))
    assert before["totals"] == []
    mine = ok(client.get("/v1/aging", params={"customer_id": customer_id, "min_position": at}))
    assert (mine["totals"][0]["refused_minor"], mine["customers"][0]["refused_invoices"]) == (120_000, 2)
