"""Bank transaction families over HTTP, on both backends: a SEPA credit transfer carrying an end-to-end id is
recorded as a transfer; a direct debit we collected is a direct-debit payment, and its unpaid return (camt
PMNT/IDDT/UPDD without a reversal indicator, MT940 RC with GVC 109, CFONB operation 10 with a reject reason, a CSV
type column) returns that payment and reopens the invoice it paid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import IssueInvoice, Json, RegisterCustomer, created, ok

SAMPLES = Path(__file__).parent.parent / "data" / "bank"
CSV_MAPPING = {"booked_on": "Date", "value_on": "Valeur", "amount": "Montant", "family": "Type",
               "remittance": "Libelle", "payer_name": "Nom", "payer_iban": "IBAN", "reference": "Reference",
               "return_reason": "Motif", "end_to_end_id": "E2E", "account_id": "FR7630006000011234567890189"}
SAMPLE_FILES: dict[str, tuple[str, dict[str, Any]]] = {
    "camt": ("camt053_v08_families.xml", {}),
    "mt940": ("mt940_german_families.sta", {}),
    "cfonb120": ("cfonb120_families.txt", {}),
    "csv": ("csv_families.csv", {"format": "csv", "mapping": json.dumps(CSV_MAPPING)}),
}


def _issue(issue_invoice: IssueInvoice, customer: str, number: str, total: int) -> Json:
    base = total * 5 // 6  # 20% VAT; the VAT takes the cent the base leaves
    return created(issue_invoice(customer, total, series="ERP2026", number=number, issued_on="2026-02-20",
                                 vat=[{"rate": "20", "base_minor": base, "vat_minor": total - base}]))


def _import(client: TestClient, name: str) -> list[Json]:
    path, params = SAMPLE_FILES[name]
    r = client.post("/v1/bank-statements", content=(SAMPLES / path).read_bytes(),
                    headers={"content-type": "application/octet-stream"}, params=params)
    assert r.status_code == 201, r.text
    return [entry for statement in r.json()["imports"] for entry in statement["entries"]]


def _open_minor(client: TestClient, invoice: Json) -> int:
    return int(ok(client.get(f"/v1/invoices/{invoice['id']}"))["open_amount"]["minor"])


@pytest.mark.parametrize("sample", list(SAMPLE_FILES))
def test_a_transfer_with_an_end_to_end_id_stays_a_transfer_and_a_returned_direct_debit_returns_its_payment(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, sample: str) -> None:
    customer = str(register_customer()["id"])
    transferred = _issue(issue_invoice, customer, "F-000051", 120_000)
    debited = _issue(issue_invoice, customer, "F-000052", 35_000)
    entries = _import(client, sample)

    transfer = entries[0]
    assert transfer["end_to_end_id"] == "E2E-VERH-77" and transfer["state"] == "matched"
    payment = ok(client.get(f"/v1/payments/{transfer['payment_id']}"))
    assert payment["method"] == "transfer" and payment["returned_on"] is None
    assert _open_minor(client, transferred) == 0

    collected = entries[1]
    assert collected["state"] == "matched"
    assert ok(client.get(f"/v1/payments/{collected['payment_id']}"))["method"] == "direct_debit"

    [returned] = [e for e in entries if e["state"] == "returned"]
    assert returned["payment_id"] == collected["payment_id"]
    assert returned["note"] == "bank return AM04" and returned["return_reason"] == "AM04"
    assert ok(client.get(f"/v1/payments/{collected['payment_id']}"))["returned_on"] == "2026-03-18"
    assert _open_minor(client, debited) == 35_000
    # the charges are listed, never taken for a return; nothing else came back
    assert [e["state"] for e in entries if e["direction"] == "debit"] == ["returned", "listed"]


def test_a_card_or_cheque_credit_is_recorded_with_its_method(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    customer = str(register_customer()["id"])
    cheque_invoice = _issue(issue_invoice, customer, "F-000053", 42_000)
    entries = _import(client, "camt")
    card, cheque = entries[2], entries[3]
    assert ok(client.get(f"/v1/payments/{card['payment_id']}"))["method"] == "card"
    assert cheque["state"] == "matched"
    assert ok(client.get(f"/v1/payments/{cheque['payment_id']}"))["method"] == "cheque"
    assert _open_minor(client, cheque_invoice) == 0


def test_an_mt940_rd_line_is_a_debit_of_ours_reversed_money_in_and_returns_nothing(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    """RC (a credit reversed: money out) returns the collected direct debit above; the same line marked RD (one of
    our debits reversed: money in) is a credit, so the direct debit stays paid."""
    customer = str(register_customer()["id"])
    debited = _issue(issue_invoice, customer, "F-000052", 35_000)
    content = (SAMPLES / "mt940_german_families.sta").read_bytes().replace(
        b":61:2603180318RC350,00NDDT", b":61:2603180318RD350,00NDDT").replace(
        b":62F:C260318EUR6282,40", b":62F:C260318EUR6982,40")
    r = client.post("/v1/bank-statements", content=content, headers={"content-type": "text/plain"})
    assert r.status_code == 201, r.text
    entries = [entry for statement in r.json()["imports"] for entry in statement["entries"]]
    assert [e["direction"] for e in entries] == ["credit", "credit", "credit", "credit", "debit"]
    assert r.json()["counts"]["returned"] == 0
    collected = entries[1]
    assert ok(client.get(f"/v1/payments/{collected['payment_id']}"))["returned_on"] is None
    assert _open_minor(client, debited) == 0
