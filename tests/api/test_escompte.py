"""Early-payment discount (escompte) over HTTP: a customer on 2 % within 10 days, an invoice of 1,200.00 issued on
10 February 2026 (last day of the window: 20 February); a payment of 1,176.00 with value date 20 February settles
it, the discount of 24.00 in its history with its VAT; the same payment a day later leaves it partly paid. On SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

RegisterCustomer = Callable[..., dict[str, Any]]
IssueInvoice = RecordPayment = Callable[..., httpx.Response]
CheckProblem = Callable[..., dict[str, Any]]
EventHead = Callable[[], int]

TWO_PERCENT_10_DAYS = {"kind": "net", "days": 30, "discount": {"rate": "2", "days": 10}}


def ok(r: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def events(client: TestClient, invoice_id: str) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = ok(client.get(f"/v1/invoices/{invoice_id}/events"), 200)
    return history


@pytest.fixture
def invoice(register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> dict[str, Any]:
    customer = register_customer(terms=TWO_PERCENT_10_DAYS)
    assert customer["terms"]["discount"] == {"rate": "2", "days": 10}
    return ok(issue_invoice(customer["id"], 120000, issued_on="2026-02-10"))


def test_the_invoice_offers_the_discount_of_its_customers_terms(client: TestClient, invoice: dict[str, Any]) -> None:
    assert invoice["discount_offered"] == {
        "rate": "2", "until": "2026-02-20",
        "mention": "Escompte pour paiement anticipé : 2 % si paiement avant le 20/02/2026"}
    assert invoice["discount_taken"] is None
    history = events(client, invoice["id"])
    assert [e["type"] for e in history] == ["Issued", "EarlyPaymentDiscountOffered"]  # saved with the issue
    assert (history[1]["data"]["rate"], history[1]["data"]["until"]) == ("2", "2026-02-20")


def test_the_discounted_amount_paid_on_the_last_day_settles_the_invoice(
        client: TestClient, invoice: dict[str, Any], record_payment: RecordPayment) -> None:
    payment = ok(record_payment(117600, customer_id=invoice["customer_id"], value_on="2026-02-20",
                                allocations=[(invoice["id"], 117600)]))

    paid = ok(client.get(f"/v1/invoices/{invoice['id']}"), 200)
    assert (paid["status"], paid["open_amount"]["minor"], paid["allocated"]["minor"]) == ("paid", 0, 117600)
    taken = paid["discount_taken"]
    assert (taken["payment_id"], taken["amount"]["minor"], taken["on"]) == (payment["id"], 2400, "2026-02-20")
    assert [(v["rate"], v["base"]["minor"], v["vat"]["minor"]) for v in taken["vat"]] == [("20", 2000, 400)]
    history = events(client, invoice["id"])
    assert [e["type"] for e in history][-2:] == ["PaymentAllocated", "EarlyPaymentDiscountTaken"]
    data = history[-1]["data"]
    assert data["amount"] == {"minor": 2400, "currency": "EUR"} and data["on"] == "2026-02-20"
    assert data["vat_split"] == [{"rate": "20", "base_minor": 2000, "vat_minor": 400}]


def test_the_discounted_amount_paid_a_day_late_leaves_the_invoice_partly_paid(
        client: TestClient, invoice: dict[str, Any], record_payment: RecordPayment) -> None:
    ok(record_payment(117600, customer_id=invoice["customer_id"], value_on="2026-02-21",
                      allocations=[(invoice["id"], 117600)]))

    late = ok(client.get(f"/v1/invoices/{invoice['id']}"), 200)
    assert (late["status"], late["open_amount"]["minor"], late["discount_taken"]) == ("partly_paid", 2400, None)
    assert "EarlyPaymentDiscountTaken" not in [e["type"] for e in events(client, invoice["id"])]


def test_less_than_the_discounted_amount_in_time_takes_no_discount(
        client: TestClient, invoice: dict[str, Any], record_payment: RecordPayment) -> None:
    ok(record_payment(117599, customer_id=invoice["customer_id"], value_on="2026-02-12",
                      allocations=[(invoice["id"], 117599)]))

    short = ok(client.get(f"/v1/invoices/{invoice['id']}"), 200)
    assert (short["status"], short["open_amount"]["minor"], short["discount_taken"]) == ("partly_paid", 2401, None)


def test_a_returned_payment_withdraws_the_discount_it_took(
        client: TestClient, invoice: dict[str, Any], record_payment: RecordPayment) -> None:
    payment = ok(record_payment(117600, customer_id=invoice["customer_id"], value_on="2026-02-12",
                                method="direct_debit", allocations=[(invoice["id"], 117600)]))
    ok(client.post(f"/v1/payments/{payment['id']}/return", json={"reason": "MD06"}), 200)

    reopened = ok(client.get(f"/v1/invoices/{invoice['id']}"), 200)
    assert (reopened["status"], reopened["open_amount"]["minor"], reopened["discount_taken"]) == (
        "issued", 120000, None)
    assert [e["type"] for e in events(client, invoice["id"])][-2:] == [
        "AllocationReversed", "EarlyPaymentDiscountWithdrawn"]


def test_terms_without_a_discount_offer_none(register_customer: RegisterCustomer,
                                             issue_invoice: IssueInvoice) -> None:
    customer = register_customer()
    assert customer["terms"]["discount"] is None
    invoice = ok(issue_invoice(customer["id"], 120000))
    assert invoice["discount_offered"] is None


def test_changed_terms_carry_the_discount_to_the_next_invoice(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    customer = register_customer()
    changed = ok(client.put(f"/v1/customers/{customer['id']}/terms",
                            json={"kind": "net", "days": 45, "discount": {"rate": "1.5", "days": 15}}), 200)
    assert changed["terms"] == {"kind": "net", "days": 45, "reading": None, "discount": {"rate": "1.5", "days": 15}}
    invoice = ok(issue_invoice(customer["id"], 120000, issued_on="2026-02-10"))
    assert (invoice["discount_offered"]["rate"], invoice["discount_offered"]["until"]) == ("1.5", "2026-02-25")


@pytest.mark.parametrize(("discount", "field"), [
    ({"rate": "0", "days": 10}, "terms.discount.rate"),
    ({"rate": "10.5", "days": 10}, "terms.discount.rate"),
    ({"rate": "2", "days": 0}, "terms.discount.days"),
    ({"rate": "2", "days": 91}, "terms.discount.days"),
])
def test_a_discount_out_of_bounds_is_refused_naming_the_field(
        client: TestClient, problem: CheckProblem, event_head: EventHead, discount: dict[str, Any],
        field: str) -> None:
    head = event_head()
    body = {"name": "Boulangerie Martin SARL", "kind": "professional",
            "terms": {"kind": "net", "days": 30, "discount": discount}}
    problem(client.post("/v1/customers", json=body), 422, field=field)
    assert event_head() == head


def test_the_read_models_see_the_invoice_paid_and_the_account_settled(
        client: TestClient, invoice: dict[str, Any], record_payment: RecordPayment) -> None:
    paid = record_payment(117600, customer_id=invoice["customer_id"], value_on="2026-02-20",
                          allocations=[(invoice["id"], 117600)])
    ok(paid)
    position = paid.headers["ar-position"]

    r = client.get("/v1/invoices", params={"min_position": position, "customer_id": invoice["customer_id"]})
    [row] = ok(r, 200)["items"]
    assert (row["status"], row["open_minor"]) == ("paid", 0)
    st = client.get(f"/v1/customers/{invoice['customer_id']}/statement",
                    params={"from": "2026-02-01", "to": "2026-02-28", "min_position": position})
    [section] = ok(st, 200)["sections"]
    assert [(m["kind"], m["debit_minor"], m["credit_minor"]) for m in section["movements"]] == [
        ("invoice", 120000, 0), ("payment", 0, 117600), ("early_payment_discount", 0, 2400)]
    assert section["closing_minor"] == 0


def test_a_payment_allocated_automatically_takes_the_discount_too(
        client: TestClient, invoice: dict[str, Any], record_payment: RecordPayment) -> None:
    ok(record_payment(117600, customer_id=invoice["customer_id"], value_on="2026-02-15",
                      payer_reference=invoice["structured_reference"]))

    paid = ok(client.get(f"/v1/invoices/{invoice['id']}"), 200)
    assert (paid["status"], paid["allocated"]["minor"], paid["discount_taken"]["amount"]["minor"]) == (
        "paid", 117600, 2400)
