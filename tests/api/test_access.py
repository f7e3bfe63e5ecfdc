"""Access: a table over every route of the app, generated from `app.routes` (so a new route cannot forget its scope):
no key, a revoked key and an expired key are 401; a key below the scope is 403; the right scope passes. The open
paths and the signature doors are listed here by hand and checked as such. Then the request budget (429), who did
what (`caused_by`), and what the OpenAPI page says."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.support.api import AUTH_HEADERS, CheckProblem, Json, NewKey, bearer, created, ok

from ar.adapters.api_keys import SCOPES, ApiKeyStore, Scope
from ar.adapters.clocks import SettableClock
from ar.api import auth
from ar.api.app import create_app
from ar.config import Settings
from ar.runtime import Runtime, build

TYPE_BASE = "https://ar.invalid/problems/"
OPEN = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/redoc")}
SIGNATURE_DOORS = {("POST", "/v1/webhooks/erp/{source}")}
BELOW: dict[Scope, Scope | None] = {"read": None, "write": "read", "admin": "write"}


def every_route(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route the app answers, the included routers' routes flattened."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else None
        pairs = ([(c.path, getattr(c.original_route, "methods", None) or {"GET"}) for c in contexts]
                 if contexts is not None else [(getattr(route, "path", ""), getattr(route, "methods", None))])
        for path, methods in pairs:
            if methods is None:  # a mount: its files
                found.add(("GET", path + "/{path}"))
                continue
            found.update((method, path) for method in methods if method != "HEAD")
    return sorted(found)


def concrete(path: str) -> str:
    """A URL for a path template: a fresh UUID for each `{..._id}`, a word for the others."""
    return re.sub(r"\{([^}]+)\}", lambda m: str(uuid.uuid4()) if m.group(1).endswith("id") else "x", path)


@dataclass
class Door:
    app: FastAPI
    client: TestClient
    runtime: Runtime
    keys: dict[str, dict[str, str]]  # scope, "revoked" or "expired" -> the Authorization header

    def call(self, method: str, path: str, headers: dict[str, str] | None = None) -> Any:
        body = None if method in ("GET", "DELETE") else {}
        return self.client.request(method, concrete(path), json=body, headers=headers or {})


@pytest.fixture
def door(settings: Settings, clock: SettableClock) -> Iterator[Door]:
    """The app with every router mounted (the simulated clock's too), a client sending no key, and keys of each
    kind: one per scope, a revoked admin key and an expired admin key."""
    runtime = build(settings.model_copy(update={"simulated_clock": True}), clock)
    store, now = ApiKeyStore(runtime.engine), clock.now()
    keys = {scope: bearer(store.create(name=scope, scope=scope, now=now, created_by="tests")[1]) for scope in SCOPES}
    revoked, token = store.create(name="revoked", scope="admin", now=now, created_by="tests")
    store.revoke(revoked.key_id, now)
    keys["revoked"] = bearer(token)
    keys["expired"] = bearer(store.create(name="expired", scope="admin", now=now, created_by="tests",
                                          expires_at=now + timedelta(seconds=30))[1])
    clock.advance(timedelta(minutes=1))
    try:
        app = create_app(runtime=runtime)
        with TestClient(app) as client:
            yield Door(app, client, runtime, keys)
    finally:
        runtime.close()


def is_refused(r: Any, status: int) -> bool:
    return (r.status_code == status and r.headers.get("content-type") == "application/problem+json"
            and r.json()["type"] == TYPE_BASE + ("unauthorized" if status == 401 else "insufficient-scope"))


def test_every_route_refuses_a_missing_revoked_expired_or_too_weak_key_and_admits_the_right_one(door: Door) -> None:
    routes = every_route(door.app)
    assert len(routes) > 40, routes
    assert set(routes) >= OPEN
    failures: list[str] = []
    for method, path in routes:
        needed = auth.required(method, path)
        if (method, path) in OPEN or path.startswith("/docs-assets/"):  # the pages' files (a mount)
            r = door.call(method, path)
            if needed != "open":
                failures.append(f"{method} {path}: should be open, policy says {needed}")
            elif (r.status_code != 200 and not path.endswith("{path}")) or r.status_code in (401, 403):
                failures.append(f"{method} {path}: open, yet {r.status_code} without a key")
            continue
        if (method, path) in SIGNATURE_DOORS:
            if needed != "signature" or is_refused(door.call(method, path), 401):
                failures.append(f"{method} {path}: a signature door asks for a bearer key")
            continue
        assert needed in SCOPES, f"{method} {path}: {needed} but not listed as open or signed here"
        for case in (None, "revoked", "expired"):
            r = door.call(method, path, door.keys[case] if case else None)
            if not is_refused(r, 401) or r.headers.get("www-authenticate") != "Bearer":
                failures.append(f"{method} {path} with {case or 'no'} key: {r.status_code} {r.text[:120]}")
        weaker = BELOW[needed]
        if weaker is not None:
            r = door.call(method, path, door.keys[weaker])
            if not is_refused(r, 403) or r.json().get("required_scope") != needed:
                failures.append(f"{method} {path} with a {weaker} key: {r.status_code} {r.text[:120]}")
        r = door.call(method, path, door.keys[needed])
        if r.status_code in (401, 403) or r.status_code >= 500:
            failures.append(f"{method} {path} with a {needed} key: {r.status_code} {r.text[:120]}")
    assert failures == []


def test_the_policy_puts_the_admin_resources_behind_admin_and_reads_behind_read() -> None:
    assert auth.required("GET", "/v1/invoices") == "read"
    assert auth.required("POST", "/v1/invoices") == "write"
    assert auth.required("POST", "/v1/webhooks/inbox/{inbox_id}/replay") == "write"
    assert auth.required("GET", "/v1/webhooks/inbox") == "read"
    for method, path in [("GET", "/v1/keys"), ("DELETE", "/v1/keys/{key_id}"), ("POST", "/v1/rates"),
                         ("GET", "/v1/subscriptions"), ("POST", "/v1/webhooks/sources"), ("GET", "/v1/admin/clock")]:
        assert auth.required(method, path) == "admin", (method, path)
    assert auth.required("GET", "/v1/rates") == "read"
    assert auth.required("GET", "/v1/keysets") == "read"  # a prefix is a path segment, not any string
    assert auth.required("POST", "/v1/webhooks/erp/{source}") == "signature"
    assert auth.required("GET", "/docs-assets/swagger-ui.css") == "open"
    assert auth.required("GET", "/docsets") == "read"


def test_a_malformed_authorization_header_is_401_naming_the_format(door: Door, problem: CheckProblem) -> None:
    for header in ("Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-key", "Bearer ark_short_x"):
        body = problem(door.client.get("/v1/invoices", headers={"Authorization": header}), 401,
                       field="Authorization", rule="unauthorized")
        assert "Bearer" in body["detail"] or "unknown" in body["detail"], body


def test_a_write_records_the_key_that_made_it(door: Door) -> None:
    writer = door.keys["write"]
    customer = created(door.client.post("/v1/customers", json={"name": "Dupont SA", "kind": "professional"},
                                        headers=writer))
    invoice = created(door.client.post("/v1/invoices", headers=door.keys["admin"], json={
        "customer_id": customer["id"], "series": "F2026", "total_minor": 1200,
        "vat": [{"rate": "20", "base_minor": 1000, "vat_minor": 200}]}))
    ids = {k.name: k.key_id for k in ApiKeyStore(door.runtime.engine).all(door.runtime.clock.now())}
    history = ok(door.client.get(f"/v1/customers/{customer['id']}/events", headers=door.keys["read"]))
    assert [e["caused_by"] for e in history] == [f"key:{ids['write']}"]
    history = ok(door.client.get(f"/v1/invoices/{invoice['id']}/events", headers=door.keys["read"]))
    assert {e["caused_by"] for e in history} == {f"key:{ids['admin']}"}
    assert all("T" * 10 not in str(e) for e in history)  # never a secret


@pytest.fixture
def tight(settings: Settings, clock: SettableClock) -> Iterator[TestClient]:
    """A server whose keys may make 2 requests at once and 1 a second after that."""
    runtime = build(settings.model_copy(update={"rate_limit_per_s": 1, "rate_limit_burst": 2}), clock)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            yield client
    finally:
        runtime.close()


def test_past_its_budget_a_key_gets_429_with_retry_after_and_other_keys_do_not(
        tight: TestClient, problem: CheckProblem) -> None:
    app = tight.app
    assert isinstance(app, FastAPI)
    runtime: Runtime = app.state.runtime
    _, other = ApiKeyStore(runtime.engine).create(name="other", scope="read", now=runtime.clock.now(),
                                                  created_by="tests")
    answers = [tight.get("/v1/invoices", headers=AUTH_HEADERS) for _ in range(3)]
    assert [r.status_code for r in answers[:2]] == [200, 200]
    body = problem(answers[2], 429, rule="rate-limited")
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert "testadmin001" in body["detail"]
    assert tight.get("/v1/invoices", headers=bearer(other)).status_code == 200
    assert tight.get("/healthz").status_code == 200  # no key, no budget: the probes stay open


def test_the_openapi_page_has_the_bearer_scheme_and_each_operations_scope(client: TestClient) -> None:
    schema: Json = ok(client.get("/openapi.json"))
    assert schema["components"]["securitySchemes"]["bearer"] == {
        **schema["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            needed = auth.required(method.upper(), path)
            assert operation["x-required-scope"] == needed, (method, path)
            if needed in SCOPES:
                assert operation["security"] == [{"bearer": []}], (method, path)
                assert operation["description"].startswith(f"Scope: `{needed}`."), (method, path)
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
            else:
                assert operation["security"] == [], (method, path)
    assert schema["paths"]["/healthz"]["get"]["security"] == []
    assert client.get("/openapi.json", headers={"Authorization": ""}).status_code == 200


def test_new_key_fixture_makes_keys_the_door_accepts(client: TestClient, new_key: NewKey) -> None:
    reader = new_key("read")
    assert client.get("/v1/invoices", headers=reader).status_code == 200
    assert client.post("/v1/customers", json={"name": "X", "kind": "individual"}, headers=reader).status_code == 403
