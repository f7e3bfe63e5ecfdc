"""Bank matching over HTTP, on both backends: a customer's RF reference pays its open items oldest first, an
issuer's invoice numbers quoted in the remittance, the discounted amount of an invoice within its early-payment
window, a tolerance write-off saved with its payment (all or nothing), and an unmatched queue that never suggests an
invoice settled or refused since, nor keeps a credit allocated another way."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.api.test_bank_import import Bank, bank, camt, ntry
from tests.support.api import IssueInvoice, Json, RegisterCustomer, created, ok

from ar.domain.errors import InvoiceClosed
from ar.domain.invoice import Invoice
from ar.domain.reference import creditor_reference, customer_reference
from ar.reports.payment_block import customer_reference as printed_reference
from ar.runtime import Runtime

TWO_PERCENT_10_DAYS = {"kind": "net", "days": 30, "discount": {"rate": "2", "days": 10}}


def payment(client: TestClient, entry: Json) -> Json:
    return ok(client.get(f"/v1/payments/{entry['payment_id']}"))


def test_a_customer_reference_pays_its_open_items_oldest_due_first_and_keeps_the_rest_unapplied(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    alice, bob = b.customer(), b.customer()
    newer = created(issue_invoice(alice, 9_000, issued_on="2026-02-10"))
    older = created(issue_invoice(alice, 6_000, issued_on="2026-01-10"))
    others = b.invoice(bob, 6_000)
    reference = customer_reference(alice)
    assert reference == printed_reference(alice)  # what the statement and its QR code carry
    [entry] = b.entries(b.post(camt(ntry(20_000, "CR1", rf=reference))))
    assert (entry["state"], entry["rule"]) == ("matched", "customer-reference")
    assert entry["invoices"] == [{"invoice_id": older["id"], "amount_minor": 6_000},
                                 {"invoice_id": newer["id"], "amount_minor": 9_000}]
    paid = payment(client, entry)
    assert (paid["customer_id"], paid["unapplied"]["minor"]) == (alice, 5_000)
    assert (b.open_minor(older), b.open_minor(newer), b.open_minor(others)) == (0, 0, 6_000)
    # short of the balance: the oldest in full, the next partly
    third = b.invoice(alice, 8_400)
    [part] = b.entries(b.post(camt(ntry(5_000, "CR2", rf=reference), statement="S-2")))
    assert part["invoices"] == [{"invoice_id": third["id"], "amount_minor": 5_000}]


def test_an_issuers_invoice_numbers_quoted_in_the_remittance_are_found(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    customer = b.customer()
    first = created(issue_invoice(customer, 12_000, series="ERP2026", number="FA-2026-00042"))
    second = created(issue_invoice(customer, 3_000, series="ERP2026B", number="2026/117"))
    [entry] = b.entries(b.post(camt(ntry(15_000, "N1", text="Reglement FA-2026-00042, 2026/117."))))
    assert (entry["state"], entry["rule"]) == ("matched", "numbers")
    assert entry["invoices"] == [{"invoice_id": first["id"], "amount_minor": 12_000},
                                 {"invoice_id": second["id"], "amount_minor": 3_000}]


def test_the_discounted_amounts_of_invoices_within_their_window_pay_them_exactly(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    customer = str(register_customer(terms=TWO_PERCENT_10_DAYS)["id"])
    one = created(issue_invoice(customer, 60_000, issued_on="2026-03-01"))   # 2 %: 1,200 off until 11 March
    two = created(issue_invoice(customer, 60_000, issued_on="2026-03-01"))
    [entry] = b.entries(b.post(camt(ntry(117_600, "E1", value="2026-03-11",
                                         text=f"{one['number']} {two['number']}"))))
    assert (entry["state"], entry["written_off_minor"]) == ("matched", None)
    assert [i["amount_minor"] for i in entry["invoices"]] == [58_800, 58_800]
    for invoice in (one, two):
        settled = ok(client.get(f"/v1/invoices/{invoice['id']}"))
        assert (settled["status"], settled["open_amount"]["minor"]) == ("paid", 0)
        assert settled["discount_taken"]["amount"]["minor"] == 1_200


def test_a_tolerance_write_off_is_saved_with_its_payment_or_neither_is(
        runtime: Runtime, client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
        monkeypatch: pytest.MonkeyPatch) -> None:
    b = bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 12_000)

    def refused(self: Invoice, *args: Any, **kwargs: Any) -> None:
        raise InvoiceClosed(f"invoice {self.number} refuses the write-off", field="invoice_id")

    with monkeypatch.context() as patched:
        patched.setattr(Invoice, "write_off", refused)
        [waiting] = b.entries(b.post(camt(ntry(11_950, "W1", rf=creditor_reference(invoice["number"])))))
    assert waiting["state"] == "waiting" and "refuses the write-off" in waiting["note"]
    assert b.open_minor(invoice) == 12_000 and not payment(client, waiting)["allocations"]
    another = b.invoice(b.customer(), 12_000)
    saves: list[list[str]] = []
    save = runtime.app._save

    def counted(*aggregates: Any) -> int | None:
        saves.append(sorted(type(a).__name__ for a in aggregates))
        return save(*aggregates)

    monkeypatch.setattr(runtime.app, "_save", counted)
    [settled] = b.entries(b.post(camt(ntry(11_950, "W2", rf=creditor_reference(another["number"])),
                                      statement="S-2")))
    assert (settled["state"], settled["written_off_minor"], b.open_minor(another)) == ("matched", 50, 0)
    assert saves == [["Invoice", "Payment"]]  # the payment, its allocation and the write-off: one transaction
    assert [e["type"] for e in ok(client.get(f"/v1/invoices/{another['id']}/events"))][-2:] == [
        "PaymentAllocated", "WrittenOff"]


def suggested(client: TestClient) -> list[str]:
    [waiting] = ok(client.get("/v1/payments/unmatched"))
    return [s["invoice_id"] for s in waiting["suggestions"]]


def test_the_queue_never_suggests_an_invoice_paid_credited_written_off_or_refused_since(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b: Bank = bank(client, register_customer, issue_invoice)
    customer = b.customer()
    paid, credited, written, refused, left = (b.invoice(customer, minor)
                                              for minor in (42_000, 40_800, 43_200, 41_400, 42_600))
    b.post(camt(ntry(42_000, "Q1", text="virement")))
    assert set(suggested(client)) == {paid["id"], credited["id"], written["id"], refused["id"], left["id"]}
    r = client.post("/v1/payments", json={"amount_minor": 42_000, "customer_id": customer,
                                          "allocations": [{"invoice_id": paid["id"], "amount_minor": 42_000}]})
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/invoices/{credited['id']}/credit-notes", json={"amount_minor": 40_800, "reason": "retour"})
    assert r.status_code in (200, 201), r.text
    r = client.post(f"/v1/invoices/{written['id']}/write-off", json={"reason": "irrécouvrable"})
    assert r.status_code in (200, 201), r.text
    r = client.post(f"/v1/invoices/{refused['id']}/lifecycle", json={"status": "210", "message_id": "M-210"})
    assert r.status_code in (200, 201), r.text
    assert suggested(client) == [left["id"]]


def test_a_waiting_credit_allocated_through_the_payments_route_leaves_the_queue(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    b = bank(client, register_customer, issue_invoice)
    invoice = b.invoice(b.customer(), 30_000)
    report = b.post(camt(ntry(7_000, "A1", value="2026-03-01", text="acompte"),
                         ntry(8_000, "A2", value="2026-03-02", text="acompte")))
    first, second = b.entries(report)
    assert [w["payment_id"] for w in ok(client.get("/v1/payments/unmatched", params={"limit": 1}))] == [
        first["payment_id"]]
    r = client.post(f"/v1/payments/{first['payment_id']}/allocations",
                    json={"allocations": [{"invoice_id": invoice["id"], "amount_minor": 7_000}]})
    assert r.status_code == 200, r.text
    assert [w["payment_id"] for w in ok(client.get("/v1/payments/unmatched", params={"limit": 1}))] == [
        second["payment_id"]]
    entries = ok(client.get(f"/v1/bank-statements/{report['imports'][0]['id']}"))["entries"]
    assert [e["state"] for e in entries] == ["matched", "waiting"]
