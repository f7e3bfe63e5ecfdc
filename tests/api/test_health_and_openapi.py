"""Probes, and the OpenAPI document that serves as the admin console: it must tell the truth about every route."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.support.api import AUTH_HEADERS, Json, RegisterCustomer

from ar.api.app import create_app
from ar.api.auth import SIGNATURE_DOORS
from ar.config import Settings
from ar.runtime import build

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
OPERATION_ID = re.compile(r"(?P<tag>[a-z]+)-(?P<name>[a-z_]+)")


def operations(doc: Json) -> Iterator[tuple[str, str, Json]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield method.upper(), path, op


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Json]:
    """The document does not depend on the storage, so it is read once, from an app on SQLite."""
    runtime = build(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('openapi')}/ar.sqlite"))
    try:
        with TestClient(create_app(runtime=runtime), headers=AUTH_HEADERS) as client:
            r = client.get("/openapi.json")
        assert r.status_code == 200, r.text
        yield r.json()
    finally:
        runtime.close()


def test_probes_report_liveness_readiness_and_the_event_store_head(
    client: TestClient, register_customer: RegisterCustomer,
) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    head = ready.json()["event_store_head"]
    assert ready.json() == {"status": "ready", "event_store_head": head, "details": {"rates": ready.json()[
        "details"]["rates"]}}
    assert head == 3 + 15  # the three default dunning policies and the rate book (opened, 14 rates), seeded
    register_customer()
    assert client.get("/readyz").json()["event_store_head"] == head + 1


def test_every_operation_is_tagged_and_named_after_its_tag(openapi: Json) -> None:
    seen: set[str] = set()
    for method, path, op in operations(openapi):
        assert op.get("tags"), (method, path)
        match = OPERATION_ID.fullmatch(op["operationId"])
        assert match, (method, path, op["operationId"])
        assert match["tag"] == op["tags"][0]
        assert op["operationId"] not in seen
        seen.add(op["operationId"])
    assert {"invoices-issue_invoice", "payments-record_payment", "customers-change_terms",
            "health-readyz"} <= seen


def test_every_write_declares_its_problems(openapi: Json) -> None:
    assert set(openapi["components"]["schemas"]["Problem"]["required"]) >= {"type", "title", "status", "detail"}
    writes = [(m, p, op) for m, p, op in operations(openapi) if m in ("POST", "PUT", "DELETE")]
    assert len(writes) >= 23
    for method, path, op in writes:
        problem_422 = op["responses"].get("422", {}).get("content", {}).get("application/problem+json")
        assert problem_422 == {"schema": PROBLEM_REF}, (method, path)
        if "{" in path and not path.startswith(SIGNATURE_DOORS):  # a signed door answers an unknown source 401
            assert "404" in op["responses"], (method, path)


def test_every_declared_422_is_a_problem(openapi: Json) -> None:
    for method, path, op in operations(openapi):
        if "422" in op["responses"]:
            assert op["responses"]["422"]["content"] == {"application/problem+json": {"schema": PROBLEM_REF}}, (
                method, path)
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
