"""E-invoice lifecycle statuses: each status a platform sends (207, 208, 210, 211, 213) recorded with its effect, a
message id once; 212 (Encaissée) sent on each allocation to an e-invoice, split by VAT rate, on the event feed.
SQLite and PostgreSQL; the clock fixture stands at Monday 2026-03-02."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook
from tests.support.api import CheckProblem, EventHead, IssueInvoice, Json, RecordPayment, RegisterCustomer, created, ok
from tests.support.einvoices import SELLER_SIREN, Sample, cii, ubl

from ar.adapters.clocks import SettableClock


def imported(client: TestClient, number: str = "FA-2026-0107", **fields: object) -> Json:
    r = client.post("/v1/invoices/import", content=ubl(Sample(number=number, **fields)),  # type: ignore[arg-type]
                    headers={"Content-Type": "application/xml"})
    return created(r)


def status(client: TestClient, invoice_id: str, code: str, message_id: str, **fields: object) -> Json:
    return ok(client.post(f"/v1/invoices/{invoice_id}/lifecycle",
                          json={"status": code, "message_id": message_id, **fields}))


def types(client: TestClient, invoice_id: str) -> list[str]:
    return [e["type"] for e in ok(client.get(f"/v1/invoices/{invoice_id}/events"))]


def dunning(client: TestClient, invoice_id: str) -> Json:
    return ok(client.get(f"/v1/invoices/{invoice_id}/dunning"))


def test_207_disputed_opens_a_dispute_for_the_open_amount(client: TestClient) -> None:
    invoice = imported(client)
    body = status(client, invoice["id"], "207", "MSG-1", reason="quantités non conformes")
    assert body["invoice_status"] == "disputed"
    assert [(s["direction"], s["status"], s["message_id"], s["reason"]) for s in body["statuses"]] == [
        ("in", "207", "MSG-1", "quantités non conformes")]
    assert types(client, invoice["id"])[-2:] == ["LifecycleStatusReceived", "DisputeOpened"]
    read = ok(client.get(f"/v1/invoices/{invoice['id']}"))
    assert (read["status"], read["disputed"]["minor"]) == ("disputed", 141100)
    # a second dispute status while one is open: recorded, no second dispute
    status(client, invoice["id"], "207", "MSG-2")
    assert types(client, invoice["id"])[-1] == "LifecycleStatusReceived"


def test_208_suspended_pauses_dunning(client: TestClient) -> None:
    invoice = imported(client)
    status(client, invoice["id"], "208", "MSG-1", reason="en attente du bon de commande")
    timeline = dunning(client, invoice["id"])
    assert timeline["state"] == "paused"
    assert timeline["paused_reason"] == "e-invoice status 208: en attente du bon de commande"


def test_210_refused_stops_dunning_and_no_reminder_is_sent(client: TestClient, clock: SettableClock) -> None:
    refused = imported(client, "FA-1")
    other = imported(client, "FA-2")
    body = status(client, refused["id"], "210", "MSG-1", reason="commande annulée")
    assert body["invoice_status"] == "refused"
    assert ok(client.get(f"/v1/invoices/{refused['id']}"))["status"] == "refused"
    assert dunning(client, refused["id"])["state"] == "opted_out"
    clock.set(datetime(2026, 4, 20, 9, 0, tzinfo=UTC))
    assert ok(client.post("/v1/dunning/sweep"))["reminders"] >= 1
    assert dunning(client, other["id"])["steps"]
    assert dunning(client, refused["id"])["steps"] == []


def test_211_payment_sent_snoozes_reminders_as_a_promise_would(client: TestClient) -> None:
    invoice = imported(client)
    status(client, invoice["id"], "211", "MSG-1")
    promise = dunning(client, invoice["id"])["promise"]
    assert (promise["promised_on"], promise["amount_minor"]) == ("2026-03-12", 141100)  # 10 days, the setting
    assert types(client, invoice["id"])[-2:] == ["LifecycleStatusReceived", "PaymentPromised"]


def test_213_rejected_marks_it_invalid_and_stops_dunning(client: TestClient) -> None:
    invoice = imported(client)
    body = status(client, invoice["id"], "213", "MSG-1", reason="SIREN du destinataire inconnu",
                  at="2026-03-02T08:15:00+01:00")
    assert body["invoice_status"] == "invalid"
    assert body["statuses"][0]["at"].startswith("2026-03-02T07:15:00")
    assert dunning(client, invoice["id"])["state"] == "opted_out"


def test_a_message_received_twice_is_recorded_once(client: TestClient, event_head: EventHead) -> None:
    invoice = imported(client)
    first = client.post(f"/v1/invoices/{invoice['id']}/lifecycle", json={"status": "208", "message_id": "MSG-1"})
    assert first.status_code == 200
    head = event_head()
    again = client.post(f"/v1/invoices/{invoice['id']}/lifecycle", json={"status": "208", "message_id": "MSG-1"})
    assert again.status_code == 200
    assert event_head() == head
    assert len(again.json()["statuses"]) == 1
    assert again.headers["etag"] == first.headers["etag"]


def test_a_status_a_platform_does_not_send_us_is_refused(
    client: TestClient, problem: CheckProblem, event_head: EventHead,
) -> None:
    invoice = imported(client)
    head = event_head()
    problem(client.post(f"/v1/invoices/{invoice['id']}/lifecycle", json={"status": "212", "message_id": "M"}),
            422, field="status")
    problem(client.post(f"/v1/invoices/{invoice['id']}/lifecycle", json={"status": "abc", "message_id": "M"}),
            422, field="status")
    problem(client.post(f"/v1/invoices/{invoice['id']}/lifecycle", json={"status": "207"}), 422,
            field="message_id")
    problem(client.post("/v1/invoices/00000000-0000-0000-0000-000000000000/lifecycle",
                        json={"status": "207", "message_id": "M"}), 404, field="invoice_id")
    assert event_head() == head


def test_212_is_sent_on_each_allocation_split_by_vat_rate_and_published_on_the_feed(
    client: TestClient, record_payment: RecordPayment, register_customer: RegisterCustomer,
    issue_invoice: IssueInvoice,
) -> None:
    invoice = created(client.post("/v1/invoices/import", content=cii(),
                                  headers={"Content-Type": "application/xml"}))
    created(record_payment(50000, allocations=[(invoice["id"], 50000)]))
    created(record_payment(91100, allocations=[(invoice["id"], 91100)]))
    lifecycle = ok(client.get(f"/v1/invoices/{invoice['id']}/lifecycle"))
    sent = [s for s in lifecycle["statuses"] if s["direction"] == "out"]
    # gross 1200.00 at 20 % and 211.00 at 5.5 %: 500.00 splits 425.23 (exact 425.230...) and 74.77
    assert [(s["status"], s["amount"]["minor"], {r: m["minor"] for r, m in s["amounts_by_rate"].items()})
            for s in sent] == [("212", 50000, {"20.00": 42523, "5.50": 7477}),
                               ("212", 91100, {"20.00": 77477, "5.50": 13623})]
    assert lifecycle["invoice_status"] == "paid"

    ours = created(issue_invoice(register_customer()["id"]))  # not an e-invoice: no platform to tell
    created(record_payment(120000, allocations=[(ours["id"], 120000)]))
    assert ok(client.get(f"/v1/invoices/{ours['id']}/lifecycle"))["statuses"] == []

    feed = ok(client.get("/v1/events", params={"after": 0, "types": "invoice.lifecycle_status_sent"}))
    items = feed["items"]
    assert [(e["type"], e["data"]["code"], e["data"]["amount"]["minor"]) for e in items] == [
        ("invoice.lifecycle_status_sent", "212", 50000), ("invoice.lifecycle_status_sent", "212", 91100)]
    assert {e["aggregate"]["id"] for e in items} == {invoice["id"]}


def test_the_same_status_through_an_erp_webhook(client: TestClient, clock: SettableClock,
                                                 event_head: EventHead) -> None:
    invoice = imported(client)
    secret = created(client.post("/v1/webhooks/sources", json={"name": "pa"}))["secret"]

    def send(msg_id: str, data: Json) -> Json:
        body = json.dumps({"type": "invoice.lifecycle", "data": data})
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(clock.now().timestamp())),
                   "webhook-signature": Webhook(secret).sign(msg_id, clock.now(), body)}
        answer: Json = ok(client.post("/v1/webhooks/erp/pa", content=body, headers=headers))
        return answer

    data = {"invoice_number": "FA-2026-0107", "seller_siren": SELLER_SIREN, "status": "210",
            "reason": "commande annulée", "message_id": "PA-MSG-9"}
    answer = send("wh_1", data)
    assert answer["state"] == "processed", answer
    assert (answer["result"]["invoice_id"], answer["result"]["status"]) == (invoice["id"], "refused")
    events = ok(client.get(f"/v1/invoices/{invoice['id']}/events"))
    assert [(e["type"], e["caused_by"]) for e in events[-2:]] == [("LifecycleStatusReceived", "webhook:pa"),
                                                                  ("DunningOptedOut", "webhook:pa")]
    head = event_head()
    again = send("wh_2", data)  # another delivery of the same platform message
    assert (again["state"], again["result"]["position"]) == ("processed", None)
    assert event_head() == head
    body = json.dumps({"type": "invoice.lifecycle", "data": {**data, "invoice_number": "FA-404"}})
    headers = {"webhook-id": "wh_3", "webhook-timestamp": str(int(clock.now().timestamp())),
               "webhook-signature": Webhook(secret).sign("wh_3", clock.now(), body)}
    refused = client.post("/v1/webhooks/erp/pa", content=body, headers=headers)
    assert (refused.status_code, refused.json()["field"]) == (422, "data.invoice_number")


def test_the_invoice_list_shows_each_invoices_last_platform_status_and_filters_on_it(
        client: TestClient, problem: CheckProblem) -> None:
    refused, invalid, suspended, quiet = (imported(client, n)["id"] for n in ("FA-1", "FA-2", "FA-3", "FA-4"))
    status(client, refused, "208", "MSG-1")
    status(client, refused, "210", "MSG-2", reason="commande annulée")
    status(client, refused, "211", "MSG-3")  # a later status shows; the refusal stands
    status(client, invalid, "213", "MSG-4")
    last = client.post(f"/v1/invoices/{suspended}/lifecycle", json={"status": "208", "message_id": "MSG-5"})
    at = last.headers["ar-position"]

    def listed(**params: object) -> dict[str, tuple[str, str | None, str | None]]:
        page = ok(client.get("/v1/invoices", params={"min_position": at, **params}))  # type: ignore[arg-type]
        return {i["id"]: (i["status"], i["lifecycle_status"], i["lifecycle_code"]) for i in page["items"]}

    assert listed() == {refused: ("refused", "payment_sent", "211"), invalid: ("invalid", "invalid", "213"),
                        suspended: ("issued", "suspended", "208"), quiet: ("issued", None, None)}
    assert set(listed(lifecycle="invalid")) == {invalid}
    assert set(listed(lifecycle=["invalid", "suspended"])) == {invalid, suspended}
    assert set(listed(lifecycle="payment_sent,suspended")) == {refused, suspended}
    assert set(listed(status=["refused", "invalid"])) == {refused, invalid}
    read = ok(client.get(f"/v1/invoices/{refused}"))
    assert (read["status"], read["lifecycle_status"], read["lifecycle_code"]) == ("refused", "payment_sent", "211")
    assert ok(client.get(f"/v1/invoices/{quiet}"))["lifecycle_status"] is None

    problem(client.get("/v1/invoices", params={"lifecycle": "refused,paid"}), 422, field="lifecycle")
