"""The admin page's examples tell the truth: every JSON request body documents one, and the server accepts it.

Read from the app itself (its OpenAPI and `app.routes`), so a route added tomorrow is checked too: without an
example it fails here by name; with one, its example must validate against the route's body model. The bodies of
the operations a person runs from /docs every day are also sent, as documented, over HTTP (ids swapped for those
of records the test creates), on SQLite and on PostgreSQL."""

from __future__ import annotations

import copy
import json
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Union, get_args, get_origin

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError
from tests.support.api import AUTH_HEADERS, IssueInvoice, Json, RecordPayment, RegisterCustomer

from ar.adapters.clocks import SettableClock
from ar.api.app import create_app
from ar.api.schemas.webhooks import parse_delivery
from ar.config import Settings
from ar.domain.errors import DomainError
from ar.runtime import build

Operation = tuple[str, str]  # (method, path template)
JSON = "application/json"

RAW_BODIES: dict[Operation, Callable[[Any], object]] = {
    ("POST", "/v1/webhooks/erp/{source}"): lambda example: parse_delivery(json.dumps(example)),
}
"""Routes that read their body themselves (no body model): how each checks a documented example."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The document does not depend on the storage: one app on SQLite, every router mounted (the clock too)."""
    path = tmp_path_factory.mktemp("examples")
    runtime = build(Settings(database_url=f"sqlite:///{path}/ar.sqlite", simulated_clock=True),
                    SettableClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    try:
        yield create_app(runtime=runtime)
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def openapi(app: FastAPI) -> Json:
    with TestClient(app, headers=AUTH_HEADERS) as client:
        r = client.get("/openapi.json")
    assert r.status_code == 200, r.text
    doc: Json = r.json()
    return doc


def _schema(doc: Json, schema: Json) -> Json:
    """A body schema as documented: its component when it is a reference, the non-null branch of an optional body."""
    if "$ref" in schema:
        resolved: Json = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return resolved
    branches = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return _schema(doc, branches[0]) if len(branches) == 1 else schema


def documented_bodies(doc: Json) -> Iterator[tuple[Operation, str, list[Any]]]:
    """Each operation with a JSON request body: its name for a failure message and its documented examples."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            media = op.get("requestBody", {}).get("content", {}).get(JSON)
            if media is None:
                continue
            schema = media.get("schema", {})
            name = _schema(doc, schema).get("title", "") if schema else ""
            found = [e["value"] for e in media.get("examples", {}).values()]
            found += [media["example"]] if "example" in media else []
            found += _schema(doc, schema).get("examples", []) if schema else []
            yield (method.upper(), path), f"{method.upper()} {path} ({name or op.get('operationId')})", found


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Each API route with its full path, whichever way FastAPI keeps the routers included."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path:
            yield context.path, context.original_route


def body_model(route: APIRoute) -> type[BaseModel] | None:
    """The model a route parses its body with (`Model | None` for an optional body); None if it reads it raw."""
    if not route.dependant.body_params:
        return None
    annotation = route.dependant.body_params[0].field_info.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    assert isinstance(annotation, type) and issubclass(annotation, BaseModel), (route.path, annotation)
    return annotation


def test_every_json_request_body_has_an_example(openapi: Json) -> None:
    bodies = list(documented_bodies(openapi))
    assert len(bodies) >= 28
    missing = [name for _, name, examples in bodies if not examples]
    assert not missing, "request bodies without an example (add `json_schema_extra={'examples': [...]}` to the " \
                        "body model): " + "; ".join(missing)


def test_every_documented_example_is_accepted_by_the_route_s_body_model(app: FastAPI, openapi: Json) -> None:
    models: dict[Operation, type[BaseModel] | None] = {
        (method, path): body_model(route) for path, route in api_routes(app) for method in route.methods}
    checked, refused = 0, []
    for operation, name, examples in documented_bodies(openapi):
        model = models.get(operation)
        for example in examples:
            try:
                if model is not None:
                    model.model_validate(example)
                elif operation in RAW_BODIES:
                    RAW_BODIES[operation](example)
                else:
                    refused.append(f"{name}: reads its body raw; add how to check it to RAW_BODIES")
                    continue
            except (ValidationError, DomainError) as e:
                refused.append(f"{name}: {json.dumps(example)[:200]} -> {e}")
            checked += 1
    assert not refused, "documented examples the server would refuse: " + "\n".join(refused)
    assert checked >= 35


def test_every_answer_example_fits_its_model(app: FastAPI, openapi: Json) -> None:
    """An answer's example is read as the answer: as published (found through the operation, whatever name the
    component has), it must validate against the route's response model."""
    models = {(method, path): route.response_model for path, route in api_routes(app) for method in route.methods
              if isinstance(route.response_model, type) and issubclass(route.response_model, BaseModel)}
    with_examples: set[str] = set()
    refused: list[str] = []
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            model = models.get((method.upper(), path))
            answer = next((r for status, r in op["responses"].items() if status.startswith("2")), {})
            schema = answer.get("content", {}).get(JSON, {}).get("schema")
            if model is None or schema is None:
                continue
            for example in _schema(openapi, schema).get("examples", []):
                with_examples.add(model.__name__)
                try:
                    model.model_validate(example)
                except ValidationError as e:
                    refused.append(f"{method.upper()} {path} ({model.__name__}): {e}")
    assert not refused, "answer examples that are no answer: " + "\n".join(refused)
    assert {"CustomerOut", "InvoiceOut", "InvoicePage", "PaymentOut", "DisputeOpened"} <= with_examples


# Sent over HTTP ---------------------------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: object) -> Settings:
    """As tests/conftest.py, with the simulated clock's route, and subscriptions allowed to any host (the example's
    host is not resolved in a test)."""
    extra: dict[str, Any] = {"pool_size": 4, "run_dunning": False, "outbox_dir": f"{tmp_path}/outbox",
                             "simulated_clock": True, "subscription_allow_private": True}
    if request.param == "sqlite":
        return Settings(database_url=f"sqlite:///{tmp_path}/ar.sqlite", **extra)
    url: str = request.getfixturevalue("pg_database")
    return Settings(database_url=url, **extra)


class Examples:
    """Sends the documented examples of an operation, in order, as documented but for the ids given."""

    def __init__(self, client: TestClient, doc: Json) -> None:
        self.client = client
        self.examples = {operation: examples for operation, _, examples in documented_bodies(doc)}

    def send(self, method: str, path: str, *, expect: int = 200, **ids: str) -> Json:
        """The answer to the first example."""
        answers = []
        for documented in self.examples[(method, path)]:
            example = copy.deepcopy(documented)
            for field, value in ids.items():
                if field in example:
                    example[field] = [value] if isinstance(example[field], list) else value
            for group in example.get("allocations") or []:
                group["invoice_id"] = ids.get("invoice_id", group["invoice_id"])
            r = self.client.request(method, path.format(**ids), json=example)
            assert r.status_code == expect, f"{method} {path}: the documented example {example} -> {r.text}"
            answers.append(r.json())
        first: Json = answers[0]
        return first


def test_the_documented_examples_are_accepted_over_http(
    client: TestClient, clock: SettableClock, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment,
) -> None:
    send = Examples(client, client.get("/openapi.json").json()).send

    customer = send("POST", "/v1/customers", expect=201)
    assert customer["name"] == "Boulangerie Martin SARL"
    customer_id = customer["id"]
    send("PUT", "/v1/customers/{customer_id}/terms", customer_id=customer_id)
    send("PUT", "/v1/customers/{customer_id}/credit-limit", customer_id=customer_id)
    policy = send("POST", "/v1/dunning/policies", expect=201)
    send("PUT", "/v1/dunning/policies/{policy_id}", policy_id=policy["id"])
    send("PUT", "/v1/customers/{customer_id}/dunning-policy", customer_id=customer_id, policy_id=policy["id"])

    invoice = send("POST", "/v1/invoices", expect=201, customer_id=customer_id)
    invoice_id = invoice["id"]
    assert send("POST", "/v1/admin/clock")["today"] == "2026-04-01"  # then a week later
    assert send("POST", "/v1/invoices/{invoice_id}/credit-notes", invoice_id=invoice_id)["credited"]["minor"] == 24000
    dispute = send("POST", "/v1/invoices/{invoice_id}/disputes", expect=201, invoice_id=invoice_id)
    send("POST", "/v1/invoices/{invoice_id}/disputes/{dispute_id}/resolve", invoice_id=invoice_id,
         dispute_id=dispute["dispute_id"])
    for operation, status in (("promise-to-pay", 201), ("dunning/pause", 200), ("dunning/opt-out", 200)):
        send("POST", f"/v1/invoices/{{invoice_id}}/{operation}", expect=status, invoice_id=invoice_id)
    simulation = send("POST", "/v1/dunning/simulate", customer_ids=customer_id)
    assert simulation["invoices"] >= 0

    payer = register_customer(name="Transports Durand SAS")["id"]
    payment = send("POST", "/v1/payments", expect=201, customer_id=payer)
    owed = issue_invoice(payer, 120000, issued_on="2026-03-15")
    assert owed.status_code == 201, owed.text
    allocated = send("POST", "/v1/payments/{payment_id}/allocations", payment_id=payment["id"],
                     invoice_id=owed.json()["id"])
    assert allocated["allocated"]["minor"] == 60000
    send("POST", "/v1/payments/{payment_id}/refunds", payment_id=payment["id"])
    cheque = record_payment(30000, customer_id=payer, method="cheque", value_on="2026-04-01", auto_allocate=False)
    assert cheque.status_code == 201, cheque.text
    send("POST", "/v1/payments/{payment_id}/return", payment_id=cheque.json()["id"])

    clock.set(datetime(2026, 10, 1, 9, tzinfo=UTC))
    assert send("POST", "/v1/invoices/{invoice_id}/write-off", invoice_id=invoice_id)["status"] == "written_off"

    send("POST", "/v1/rates", expect=201)
    send("POST", "/v1/keys", expect=201)
    source = send("POST", "/v1/webhooks/sources", expect=201)
    send("POST", "/v1/webhooks/sources/{name}/rotate", name=source["name"])
    subscription = send("POST", "/v1/subscriptions", expect=201)
    send("PATCH", "/v1/subscriptions/{subscription_id}", subscription_id=subscription["id"])
    send("POST", "/v1/subscriptions/{subscription_id}/rotate-secret", subscription_id=subscription["id"])
