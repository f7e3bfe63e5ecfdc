"""GET /v1/events: the notification log as stable envelopes, pages, type filters and long-poll (both backends)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
from anyio import to_thread
from fastapi.testclient import TestClient
from tests.support.api import (
    AUTH_HEADERS,
    CheckProblem,
    IssueInvoice,
    Json,
    RecordPayment,
    RegisterCustomer,
    created,
    ok,
)

from ar.api.app import create_app
from ar.api.routes.events import feed_of
from ar.application.feed import EventFeed
from ar.runtime import Runtime


def events(client: TestClient, **params: Any) -> Json:
    return ok(client.get("/v1/events", params=params))


def head(client: TestClient) -> int:
    page: int = events(client, after=0, limit=1)["head"]
    return page


def test_an_issued_invoice_then_its_payment_as_envelopes(client: TestClient, register_customer: RegisterCustomer,
                                                          issue_invoice: IssueInvoice,
                                                          record_payment: RecordPayment) -> None:
    start = head(client)
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"], 120000))
    payment = created(record_payment(50000, customer_id=customer["id"], allocations=[(invoice["id"], 50000)]))
    page = events(client, after=start, limit=1000)
    items = page["items"]
    ids = [e["id"] for e in items]
    assert ids == sorted(set(ids)) and ids[0] > start and page["next_after"] == ids[-1] == page["head"]
    types = [e["type"] for e in items]
    assert types.index("customer.registered") < types.index("invoice.issued") < types.index("payment.received")
    assert {"numbering_series.number_assigned", "invoice.payment_allocated", "payment.allocated"} <= set(types)

    of_invoice = [e for e in items if e["aggregate"]["id"] == invoice["id"]]
    assert [e["type"] for e in of_invoice] == ["invoice.issued", "invoice.payment_allocated"]
    assert [e["aggregate"]["version"] for e in of_invoice] == [1, 2]
    # the customer of the invoice, also on the allocation, whose event has no customer_id field
    assert "customer_id" not in of_invoice[1]["data"]
    assert {e["customer_id"] for e in of_invoice} == {customer["id"]}
    history = ok(client.get(f"/v1/invoices/{invoice['id']}/events"))
    assert [e["data"] for e in of_invoice] == [h["data"] for h in history]
    assert [e["recorded_at"] for e in of_invoice] == [h["recorded_at"] for h in history]
    assert of_invoice[0]["occurred_on"] == invoice["issued_on"]
    assert of_invoice[0]["version"] >= 2 and of_invoice[0]["aggregate"]["kind"] == "invoice"

    of_payment = [e for e in items if e["aggregate"]["id"] == payment["id"]]
    assert [e["type"] for e in of_payment] == ["payment.received", "payment.allocated"]
    assert {e["customer_id"] for e in of_payment} == {customer["id"]}
    assert of_payment[0]["occurred_on"] == payment["value_on"]
    series = [e for e in items if e["type"] == "numbering_series.number_assigned"]
    assert series and all(e["customer_id"] is None for e in series)
    for envelope in items:
        assert envelope["caused_by"] and envelope["caused_by"].startswith(("key:", "system")), envelope


def test_pages_follow_next_after(client: TestClient, register_customer: RegisterCustomer) -> None:
    start = head(client)
    for n in range(5):
        register_customer(name=f"Client {n}")
    seen: list[int] = []
    after = start
    while True:
        page = events(client, after=after, limit=2)
        assert len(page["items"]) <= 2
        seen += [e["id"] for e in page["items"]]
        if not page["items"]:
            assert page["next_after"] == after
            break
        assert page["next_after"] == page["items"][-1]["id"]
        after = page["next_after"]
    assert seen == list(range(start + 1, start + 6)) and after == head(client)


def test_a_type_filter_skips_the_others_and_never_reads_them_again(client: TestClient,
                                                                   register_customer: RegisterCustomer,
                                                                   issue_invoice: IssueInvoice) -> None:
    start = head(client)
    customer = register_customer()
    first = created(issue_invoice(customer["id"]))
    second = created(issue_invoice(customer["id"]))
    register_customer(name="Another one")
    page = events(client, after=start, types="invoice.issued,payment.received")
    assert [e["aggregate"]["id"] for e in page["items"]] == [first["id"], second["id"]]
    assert page["next_after"] == page["head"] == head(client)  # past the customer registered last
    one = events(client, after=start, limit=1, types="invoice.issued")
    assert one["next_after"] == one["items"][0]["id"]
    rest = events(client, after=one["next_after"], types="invoice.issued")
    assert [e["aggregate"]["id"] for e in rest["items"]] == [second["id"]]
    assert events(client, after=page["next_after"], types="invoice.issued")["items"] == []


def test_unknown_types_and_bad_bounds_are_refused(client: TestClient, problem: CheckProblem) -> None:
    body = problem(client.get("/v1/events", params={"types": "invoice.issued,invoice.paid"}), 422, field="types")
    assert "invoice.paid" in body["detail"]
    problem(client.get("/v1/events", params={"types": " , "}), 422, field="types")
    problem(client.get("/v1/events", params={"limit": 0}), 422, field="limit")
    problem(client.get("/v1/events", params={"limit": 1001}), 422, field="limit")
    problem(client.get("/v1/events", params={"after": -1}), 422, field="after")
    problem(client.get("/v1/events", params={"wait_s": 31}), 422, field="wait_s")
    # a position never recorded (a store restored behind the follower's back) is said, not waited for
    beyond = problem(client.get("/v1/events", params={"after": head(client) + 1, "wait_s": 30}), 422, field="after")
    assert "beyond the last recorded event" in beyond["detail"]


def test_a_long_poll_answers_as_soon_as_an_event_is_recorded(client: TestClient,
                                                            register_customer: RegisterCustomer) -> None:
    after = head(client)
    writer = threading.Timer(0.5, lambda: register_customer(name="Arrives while waiting"))
    started = time.monotonic()
    writer.start()
    try:
        page = events(client, after=after, wait_s=5)
    finally:
        writer.join()
    elapsed = time.monotonic() - started
    assert [e["type"] for e in page["items"]] == ["customer.registered"]
    assert page["items"][0]["data"]["name"] == "Arrives while waiting"
    assert 0.4 < elapsed < 2.5, elapsed


def test_a_long_poll_answers_empty_when_nothing_happens(client: TestClient) -> None:
    after = head(client)
    started = time.monotonic()
    page = events(client, after=after, wait_s=1)
    elapsed = time.monotonic() - started
    assert page["items"] == [] and page["next_after"] == after
    assert 0.9 < elapsed < 3, elapsed


def test_the_type_catalogue_gives_each_type_its_schema(client: TestClient) -> None:
    catalogue = ok(client.get("/v1/events/types"))
    names = [t["type"] for t in catalogue]
    assert len(names) == len(set(names)) >= 38
    by_name = {t["type"]: t for t in catalogue}
    allocated = by_name["invoice.payment_allocated"]
    assert allocated["aggregate_kind"] == "invoice" and allocated["version"] >= 3 and allocated["description"]
    assert allocated["occurred_on"] == "value_on"
    assert allocated["data_schema"]["properties"]["amount"]["properties"]["minor"] == {"type": "integer"}
    assert allocated["data_schema"]["properties"]["payment_id"] == {"type": "string", "format": "uuid"}
    components = ok(client.get("/openapi.json"))["components"]["schemas"]
    assert components["EventData.invoice.payment_allocated"] == allocated["data_schema"]
    assert all(f"EventData.{n}" in components for n in names)


async def test_waiting_reads_hold_no_worker_thread_and_share_one_read_of_the_head(runtime: Runtime) -> None:
    """Forty followers waiting at once on a pool of four threads: a plain read still answers at once, and the
    last position is read a few times per second in all, not forty times."""
    app = create_app(runtime=runtime)
    to_thread.current_default_thread_limiter().total_tokens = 4
    feed = feed_of(runtime.app)
    reads = 0
    read_head = feed.head

    def counted() -> int:
        nonlocal reads
        reads += 1
        return read_head()

    feed.head = counted  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ar.test", headers=AUTH_HEADERS) as c:
        after = (await c.get("/v1/events", params={"limit": 1})).json()["head"]
        waiting = [asyncio.create_task(c.get("/v1/events", params={"after": after, "wait_s": 2})) for _ in range(40)]
        await asyncio.sleep(0.5)
        reads_before = reads
        started = time.monotonic()
        r = await c.get("/v1/events/types")
        assert r.status_code == 200 and time.monotonic() - started < 1.0
        answers = await asyncio.gather(*waiting)
    assert all(a.status_code == 200 and a.json()["items"] == [] for a in answers)
    assert reads - reads_before < 40, reads  # about one read per 100 ms while all forty wait


def test_an_envelope_reads_the_same_later_and_in_another_process(client: TestClient, runtime: Runtime,
                                                                  register_customer: RegisterCustomer,
                                                                  issue_invoice: IssueInvoice,
                                                                  record_payment: RecordPayment) -> None:
    start = head(client)
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"], 60000))
    before = events(client, after=start)["items"]
    created(record_payment(60000, customer_id=customer["id"], allocations=[(invoice["id"], 60000)]))
    ok(client.put(f"/v1/customers/{customer['id']}/terms", json={"kind": "net", "days": 45}))
    assert events(client, after=start, limit=len(before))["items"] == before
    # a new process: no cache of the aggregates' customers, the same envelopes from the store alone
    fresh = EventFeed(runtime.app)
    assert [fresh.page(e["id"] - 1, 1).items[0] for e in before] == before
