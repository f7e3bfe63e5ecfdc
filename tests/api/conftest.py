"""Builders for the HTTP tests: every call goes through the ASGI app (`client`), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.support.api import (
    AUTH_HEADERS,
    CheckProblem,
    EventHead,
    IssueInvoice,
    Json,
    NewKey,
    RecordPayment,
    RegisterCustomer,
    bearer,
)

from ar.adapters.api_keys import ApiKeyStore, Scope
from ar.api.app import create_app
from ar.runtime import Runtime

PROBLEM = "application/problem+json"
TYPE_BASE = "https://ar.invalid/problems/"


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime), headers=AUTH_HEADERS) as c:
        yield c


@pytest.fixture
def new_key(runtime: Runtime) -> NewKey:
    """A new API key in the test's database (created as `ar keys create` does); its Authorization header."""

    def create(scope: Scope = "write", *, name: str | None = None,
               expires_at: datetime | None = None) -> dict[str, str]:
        _, token = ApiKeyStore(runtime.engine).create(name=name or f"{scope} key", scope=scope,
                                                      expires_at=expires_at, now=runtime.clock.now(),
                                                      created_by="tests")
        return bearer(token)

    return create


def vat_20(total_minor: int) -> list[Json]:
    """One 20% VAT line adding up exactly to `total_minor` (a multiple of 6)."""
    assert total_minor % 6 == 0, "use totals divisible by 6 so that 20% VAT is exact"
    return [{"rate": "20", "base_minor": total_minor * 5 // 6, "vat_minor": total_minor // 6}]


@pytest.fixture
def event_head(client: TestClient) -> EventHead:
    """The notification id of the last stored event, as /readyz reports it: equal before and after means
    nothing was written."""

    def read() -> int:
        r = client.get("/readyz")
        assert r.status_code == 200, r.text
        head: int = r.json()["event_store_head"]
        return head

    return read


@pytest.fixture
def register_customer(client: TestClient) -> RegisterCustomer:
    def register(**fields: Any) -> Json:
        body = {"name": "Boulangerie Martin SARL", "kind": "professional", **fields}
        r = client.post("/v1/customers", json=body)
        assert r.status_code == 201, r.text
        customer: Json = r.json()
        return customer

    return register


@pytest.fixture
def issue_invoice(client: TestClient) -> IssueInvoice:
    """POST /v1/invoices with a valid body unless told otherwise; the response, unchecked."""

    def issue(customer_id: str, total_minor: int = 120000, headers: dict[str, str] | None = None,
              **fields: Any) -> httpx.Response:
        body: Json = {"customer_id": customer_id, "series": "F2026", "total_minor": total_minor, **fields}
        if "vat" not in body:
            body["vat"] = vat_20(total_minor)
        return client.post("/v1/invoices", json=body, headers=headers)

    return issue


@pytest.fixture
def record_payment(client: TestClient) -> RecordPayment:
    """POST /v1/payments; the response, unchecked. `allocations` are (invoice_id, amount_minor) pairs."""

    def record(amount_minor: int, *, allocations: list[tuple[str, int]] | None = None,
               headers: dict[str, str] | None = None, **fields: Any) -> httpx.Response:
        body: Json = {"amount_minor": amount_minor, **fields}
        if allocations is not None:
            body["allocations"] = [{"invoice_id": i, "amount_minor": a} for i, a in allocations]
        return client.post("/v1/payments", json=body, headers=headers)

    return record


@pytest.fixture
def problem() -> CheckProblem:
    """Check that a response is an RFC 9457 problem with the given status, field and rule; return its body."""

    def check(r: httpx.Response, status: int, *, field: str | None = None, rule: str | None = None) -> Json:
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == PROBLEM, r.headers
        body: Json = r.json()
        assert body["status"] == status
        assert body["type"].startswith(TYPE_BASE)
        assert body["title"]
        assert body["detail"]
        if field is not None:
            assert body.get("field") == field, body
        if rule is not None:
            assert body["type"] == TYPE_BASE + rule, body
        return body

    return check
