"""Twenty clients send the same Idempotency-Key at the same instant to a real uvicorn server: one invoice is issued,
every other request either replays it or is told to retry (409 + Retry-After), and a retry gets the stored answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.support.api import AUTH_HEADERS
from tests.support.servers import serving_in_thread

from ar.runtime import Runtime

CLIENTS = 20
REPLAYED = "idempotent-replayed"


@pytest.fixture
def base_url(runtime: Runtime) -> Iterator[str]:
    """A uvicorn server in a background thread, serving the app of this test's runtime."""
    with serving_in_thread(runtime) as url:
        yield url


def head(http: httpx.Client) -> int:
    value: int = http.get("/readyz").raise_for_status().json()["event_store_head"]
    return value


def invoice_body(customer_id: str, series: str) -> dict[str, Any]:
    return {"customer_id": customer_id, "series": series, "total_minor": 120000,
            "vat": [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}]}


def test_concurrent_retries_with_one_key_issue_one_invoice(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30, headers=AUTH_HEADERS) as http:
        customer = http.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional"})
        assert customer.status_code == 201, customer.text
        customer_id = customer.json()["id"]
        # What one issue records in a series not used before, measured on another series.
        before = head(http)
        assert http.post("/v1/invoices", json=invoice_body(customer_id, "W")).status_code == 201
        one_issue = head(http) - before
        before = head(http)

    body = invoice_body(customer_id, "F2026")
    barrier = threading.Barrier(CLIENTS)
    responses: list[httpx.Response | BaseException] = [RuntimeError("not sent")] * CLIENTS

    def send(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30, headers=AUTH_HEADERS) as client:
            barrier.wait(timeout=10)
            try:
                responses[n] = client.post("/v1/invoices", json=body, headers={"Idempotency-Key": "race-1"})
            except BaseException as exc:  # recorded, and reported by the assertions below
                responses[n] = exc

    threads = [threading.Thread(target=send, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(r, httpx.Response) for r in responses), responses
    answers = [r for r in responses if isinstance(r, httpx.Response)]
    assert {r.status_code for r in answers} <= {201, 409}, [(r.status_code, r.text) for r in answers]

    in_flight = [r for r in answers if r.status_code == 409]
    for r in in_flight:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/idempotency-key-in-flight")
        assert int(r.headers["retry-after"]) >= 1
    issued = [r for r in answers if r.status_code == 201]
    assert len([r for r in issued if REPLAYED not in r.headers]) == 1  # the one request that ran the command
    invoice_id = issued[0].json()["id"]
    assert {r.json()["id"] for r in issued} == {invoice_id}
    first = next(r for r in issued if REPLAYED not in r.headers)

    with httpx.Client(base_url=base_url, timeout=30, headers=AUTH_HEADERS) as http:
        assert head(http) - before == one_issue
        page = http.get("/v1/invoices", params={"customer_id": customer_id, "series": "F2026",
                                                "min_position": first.headers["ar-position"]}).json()
        assert [(i["id"], i["number"]) for i in page["items"]] == [(invoice_id, "F2026-000001")]

        deadline = time.monotonic() + 15
        for _ in in_flight:
            while True:
                retry = http.post("/v1/invoices", json=body, headers={"Idempotency-Key": "race-1"})
                if retry.status_code != 409:
                    break
                assert time.monotonic() < deadline, "the key stayed in flight"
                time.sleep(0.05)
            assert (retry.status_code, retry.headers[REPLAYED]) == (201, "true")
            assert retry.content == first.content
        assert head(http) - before == one_issue
