"""Batch doors: many invoices or payments in one call, each item with its own outcome, idempotent per item and per
request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.api.conftest import vat_20

from ar.runtime import Runtime

PROBLEM_BASE = "https://ar.invalid/problems/"


def invoice_item(customer_id: str, total: int = 1200, **fields: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "series": "B2026", "total_minor": total, "vat": vat_20(total), **fields}


def test_a_batch_of_invoices_gets_consecutive_numbers_and_refuses_only_the_bad_items(client: TestClient,
                                                                                     register_customer,
                                                                                     event_head) -> None:
    customer = register_customer()["id"]
    items = [invoice_item(customer) for _ in range(60)]
    items[7] = invoice_item("00000000-0000-4000-8000-000000000000")        # no such customer: 404
    items[30] = invoice_item(customer, vat=[{"rate": "20", "base_minor": 1, "vat_minor": 1}])  # VAT does not add up

    r = client.post("/v1/invoices/batch", json={"items": items}, headers={"Idempotency-Key": "batch-1"})

    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["recorded"], body["existing"], body["refused"]) == (58, 0, 2)
    outcomes = body["items"]
    assert [o["index"] for o in outcomes] == list(range(60))
    assert outcomes[7]["status"] == 404 and outcomes[7]["problem"]["field"] == "customer_id"
    assert outcomes[30]["status"] == 422 and outcomes[30]["problem"]["type"].startswith(PROBLEM_BASE)
    numbers = sorted(o["number"] for o in outcomes if o["status"] == 201)
    assert numbers == [f"B2026-{n:06d}" for n in range(1, 59)], "gapless, a refused item takes no number"
    assert body["position"] == event_head()
    first = outcomes[0]
    r = client.get(f"/v1/invoices/{first['id']}")
    assert r.status_code == 200 and r.json()["number"] == first["number"]


def test_a_batch_sent_again_records_nothing_new(client: TestClient, runtime: Runtime, register_customer,
                                                event_head) -> None:
    customer = register_customer()["id"]
    items = [invoice_item(customer) for _ in range(20)]
    first = client.post("/v1/invoices/batch", json={"items": items}, headers={"Idempotency-Key": "batch-2"})
    head = event_head()

    # the first answer lost, and the key's record gone with it: a new key would record again, the same key per item
    # finds each item (its id derives from the key and the item's position)
    with runtime.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM idempotency_keys")
    again = client.post("/v1/invoices/batch", json={"items": items}, headers={"Idempotency-Key": "batch-2"})

    assert again.status_code == 200, again.text
    assert again.json()["existing"] == 20 and again.json()["recorded"] == 0
    assert [o["id"] for o in again.json()["items"]] == [o["id"] for o in first.json()["items"]]
    assert event_head() == head


def test_a_batch_of_payments_allocates_each_as_the_single_call_does(client: TestClient, register_customer,
                                                                    issue_invoice) -> None:
    customer = register_customer()["id"]
    invoices = [issue_invoice(customer, total_minor=600).json() for _ in range(5)]
    items = [{"customer_id": customer, "amount_minor": 600, "external_id": f"bank-{n}",
              "allocations": [{"invoice_id": inv["id"], "amount_minor": 600}]} for n, inv in enumerate(invoices)]
    items.append({"customer_id": customer, "amount_minor": 700, "external_id": "bank-over",
                  "allocations": [{"invoice_id": invoices[0]["id"], "amount_minor": 700}]})  # more than is open

    r = client.post("/v1/payments/batch", json={"items": items})

    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["recorded"], body["refused"]) == (5, 1)
    assert body["items"][5]["status"] == 422
    for inv in invoices:
        assert client.get(f"/v1/invoices/{inv['id']}").json()["open_amount"]["minor"] == 0


def test_a_batch_is_checked_whole_before_anything_runs(client: TestClient, register_customer, event_head) -> None:
    customer = register_customer()["id"]
    head = event_head()
    too_many = [invoice_item(customer) for _ in range(1001)]
    malformed = [invoice_item(customer), {"customer_id": customer, "total_minor": "twelve"}]

    for items, field in ((too_many, "items"), (malformed, "items[1].total_minor"), ([], "items")):
        r = client.post("/v1/invoices/batch", json={"items": items})
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field
    assert event_head() == head


def test_the_batch_paths_answer_post_only_and_are_not_taken_for_an_id(client: TestClient) -> None:
    for path in ("/v1/invoices/batch", "/v1/payments/batch"):
        r = client.get(path)
        assert r.status_code == 405 and r.headers["allow"] == "OPTIONS, POST", (path, r.text)
        assert client.options(path).headers["allow"] == "OPTIONS, POST"
    assert client.get("/v1/payments/not-an-id").json()["field"] == "payment_id"
