"""Every ERP delivery type end to end, through the same commands as the HTTP API: what each records is read back
over HTTP, and each event says it was caused by the source (`webhook:erp`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import count

import httpx
import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook
from tests.support.api import EventHead, Json, created, ok

from ar.adapters.clocks import SettableClock
from ar.api.schemas.webhooks import PAYLOADS, parse_delivery

VAT = [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}]


class Erp:
    """Signs and posts deliveries as an ERP would."""

    def __init__(self, client: TestClient, clock: SettableClock, secret: str) -> None:
        self.client, self.clock, self.webhook, self.ids = client, clock, Webhook(secret), count(1)

    def send(self, kind: str, data: Json, webhook_id: str | None = None) -> httpx.Response:
        body = json.dumps({"type": kind, "data": data, "timestamp": self.clock.now().isoformat()})
        msg_id = webhook_id or f"msg_{next(self.ids)}"
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(self.clock.now().timestamp())),
                   "webhook-signature": self.webhook.sign(msg_id, self.clock.now(), body)}
        return self.client.post("/v1/webhooks/erp/erp", content=body, headers=headers)

    def result(self, kind: str, data: Json) -> Json:
        answer = ok(self.send(kind, data))
        assert answer["state"] == "processed", answer
        result: Json = answer["result"]
        return result


@pytest.fixture
def erp(client: TestClient, clock: SettableClock) -> Iterator[Erp]:
    secret = created(client.post("/v1/webhooks/sources", json={"name": "erp"}))["secret"]
    yield Erp(client, clock, secret)


def history(client: TestClient, path: str) -> list[Json]:
    events: list[Json] = client.get(f"{path}/events").json()
    return events


def invoice(erp: Erp, number: str, total_minor: int = 120000) -> str:
    vat = [{"rate": "20", "base_minor": total_minor * 5 // 6, "vat_minor": total_minor // 6}]
    found: str = erp.result("invoice.issued", {"number": number, "customer_ref": "C-1042", "total_minor": total_minor,
                                               "vat": vat, "issued_on": "2026-03-02"})["invoice_id"]
    return found


def test_every_type_runs_the_same_commands_as_the_api_and_records_the_source(erp: Erp, client: TestClient,
                                                                             event_head: EventHead) -> None:
    customer = erp.result("customer.upserted", {"customer_ref": "C-1042", "name": "Martin SARL",
                                                "kind": "professional", "emails": ["compta@martin.fr"]})
    assert customer["registered"] is True
    changed = erp.result("customer.upserted", {
        "customer_ref": "C-1042", "name": "Martin & Fils SARL", "kind": "professional", "language": "en",
        "emails": ["ar@martin.fr"], "terms": {"kind": "net", "days": 45}, "credit_limit_minor": 5000000})
    assert (changed["customer_id"], changed["registered"]) == (customer["customer_id"], False)
    path = f"/v1/customers/{customer['customer_id']}"
    shown = ok(client.get(path))
    assert (shown["name"], shown["language"], shown["terms"]["days"], shown["credit_limit"]["minor"]) == (
        "Martin & Fils SARL", "en", 45, 5000000)
    assert [(e["type"], e["caused_by"]) for e in history(client, path)] == [
        ("Registered", "webhook:erp"), ("DetailsChanged", "webhook:erp"), ("TermsChanged", "webhook:erp"),
        ("CreditLimitChanged", "webhook:erp")]

    # issued under the ERP's number, credited, paid
    paid = invoice(erp, "FA-2026-0042")
    shown = ok(client.get(f"/v1/invoices/{paid}"))
    assert (shown["number"], shown["numbered_by"], shown["series"], shown["total"]["minor"]) == (
        "FA-2026-0042", "issuer", "ERP", 120000)
    erp.result("credit_note.issued", {"invoice_number": "FA-2026-0042", "credit_note_number": "AV-7",
                                      "amount_minor": 12000, "reason": "damaged goods"})
    payment = erp.result("payment.received", {
        "payment_ref": "BANK-1", "customer_ref": "C-1042", "amount_minor": 108000,
        "allocations": [{"invoice_number": "FA-2026-0042", "amount_minor": 108000}]})
    assert (payment["allocated_minor"], payment["unapplied_minor"]) == (108000, 0)
    shown = ok(client.get(f"/v1/invoices/{paid}"))
    assert (shown["status"], shown["credited"]["minor"], shown["allocated"]["minor"]) == ("paid", 12000, 108000)
    assert ok(client.get(f"/v1/payments/{payment['payment_id']}"))["external_id"] == "BANK-1"
    assert {e["caused_by"] for e in history(client, f"/v1/invoices/{paid}")} == {"webhook:erp"}

    # disputed: the dunning pauses; resolved: it resumes
    disputed = invoice(erp, "FA-2026-0043", 60000)
    erp.result("dispute.opened", {"invoice_number": "FA-2026-0043", "dispute_ref": "LIT-1", "reason": "not received"})
    assert ok(client.get(f"/v1/invoices/{disputed}"))["disputed"]["minor"] == 60000
    assert ok(client.get(f"/v1/invoices/{disputed}/dunning"))["state"] == "disputed"
    erp.result("dispute.resolved", {"invoice_number": "FA-2026-0043", "dispute_ref": "LIT-1", "outcome": "proven"})
    assert ok(client.get(f"/v1/invoices/{disputed}"))["disputed"]["minor"] == 0
    assert ok(client.get(f"/v1/invoices/{disputed}/dunning"))["state"] != "disputed"

    # cancelled: a credit note for all that is open; the invoice stays
    cancelled = invoice(erp, "FA-2026-0044", 6000)
    result = erp.result("invoice.cancelled", {"invoice_number": "FA-2026-0044", "reason": "order cancelled"})
    assert result["open_minor"] == 0
    shown = ok(client.get(f"/v1/invoices/{cancelled}"))
    assert (shown["status"], shown["credited"]["minor"], shown["number"]) == ("credited", 6000, "FA-2026-0044")
    before = event_head()
    assert erp.result("invoice.cancelled", {"invoice_number": "FA-2026-0044", "reason": "sent again"})["position"] \
        is None
    assert event_head() == before  # another delivery of the same cancellation: the same credit note, nothing new


def test_a_customer_registered_over_http_with_the_erps_reference_is_the_same_customer(
        erp: Erp, client: TestClient) -> None:
    over_http = created(client.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional",
                                                           "external_id": "C-1042"}))
    result = erp.result("customer.upserted", {"customer_ref": "C-1042", "name": "Martin SARL",
                                              "kind": "professional"})
    assert (result["customer_id"], result["registered"], result["position"]) == (over_http["id"], False, None)


def test_a_rule_broken_is_kept_as_failed_with_the_rule(erp: Erp, client: TestClient) -> None:
    erp.result("customer.upserted", {"customer_ref": "C-1042", "name": "Martin SARL", "kind": "professional"})
    refused = erp.send("customer.upserted", {"customer_ref": "C-1042", "name": "Martin SARL", "kind": "consumer"})
    assert refused.status_code == 422 and refused.json()["field"] == "data.kind"
    invoice(erp, "FA-2026-0042", 6000)
    over = erp.send("credit_note.issued", {"invoice_number": "FA-2026-0042", "credit_note_number": "AV-1",
                                           "amount_minor": 12000, "reason": "too much"})
    assert over.status_code == 422, over.text
    kept = ok(client.get(f"/v1/webhooks/inbox/{over.json()['inbox_id']}"))
    assert kept["state"] == "failed" and kept["error"]["type"].endswith(over.json()["type"].rsplit("/", 1)[1])


def test_each_documented_example_is_a_valid_delivery_and_the_openapi_tells_the_types_apart(
        client: TestClient) -> None:
    for kind, model in PAYLOADS.items():
        parse_delivery(json.dumps({"type": kind, "data": model.example}))
    body = ok(client.get("/openapi.json"))["paths"]["/v1/webhooks/erp/{source}"]["post"]["requestBody"]
    content = body["content"]["application/json"]
    assert content["schema"]["discriminator"] == {"propertyName": "type"}
    assert [v["properties"]["type"]["const"] for v in content["schema"]["oneOf"]] == list(PAYLOADS)
    assert {k: v["value"]["data"] for k, v in content["examples"].items()} == {
        k: m.example for k, m in PAYLOADS.items()}
    assert "$ref" not in json.dumps(content["schema"])  # every payload's schema written in place
