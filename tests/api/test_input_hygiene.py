"""Input hygiene by type: what neither database can store, dates outside the business range, numbers where dates are
due and malformed headers are refused with a 422 naming the field, and the OpenAPI says what the server enforces."""

from __future__ import annotations

import base64
import json
import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from tests.support.api import CheckProblem, EventHead, IssueInvoice, Json, RegisterCustomer

from ar.api.schemas.common import MultilineText, Text
from ar.delivery.renderer import TEMPLATES

VAT = [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}]


def test_a_text_neither_database_can_store_is_refused_naming_the_field_and_writes_nothing(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    problem: CheckProblem,
) -> None:
    customer_id = register_customer()["id"]
    before = event_head()
    body = problem(client.post("/v1/customers", json={"name": "Acme\u0000", "kind": "professional"}), 422,
                   field="name", rule="invalid-request")
    assert "U+0000" in body["detail"]
    problem(client.post("/v1/customers", json={"name": "Acme\u001b[31m", "kind": "professional"}), 422, field="name")
    problem(client.post("/v1/customers", json={"name": "Acme\u0085", "kind": "professional"}), 422, field="name")
    lone_surrogate = json.dumps({"customer_id": customer_id, "total_minor": 120000, "vat": VAT,
                                 "purchase_order": "PO\ud800"})  # escaped as \\ud800: valid JSON, not a character
    problem(client.post("/v1/invoices", content=lone_surrogate, headers={"content-type": "application/json"}), 422,
            field="purchase_order")
    problem(client.post("/v1/payments", json={"amount_minor": 100, "remittance": "F-1\nF-2\u0000"}), 422,
            field="remittance")
    problem(client.get("/v1/invoices", params={"external_id": "x\u0000"}), 422, field="external_id")
    assert event_head() == before
    # where a line break means something, it is kept
    assert TypeAdapter(MultilineText).validate_python("called twice\n\tno answer") == "called twice\n\tno answer"


def test_out_of_range_values_are_refused_as_422_never_a_500(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    invoice_id = issue_invoice(register_customer()["id"]).json()["id"]
    problem(client.get("/v1/aging", params={"bands": "1000000000000"}), 422, field="bands")
    problem(client.get("/v1/aging", params={"bands": "60,30"}), 422, field="bands")
    problem(client.get("/v1/aging", params={"as_of": "0001-01-01"}), 422, field="as_of")
    problem(client.get("/v1/kpis", params={"to": "0001-01-05"}), 422, field="to")
    problem(client.get(f"/v1/invoices/{invoice_id}/penalties", params={"until": "9999-12-31"}), 422, field="until")
    problem(client.post("/v1/invoices", json={"customer_id": register_customer()["id"], "total_minor": 120000,
                                              "vat": VAT, "issued_on": "9999-12-31"}), 422, field="issued_on")
    problem(client.get("/v1/dunning/agenda", params={"until": "2100-01-01"}), 422, field="until")
    assert client.get("/v1/aging", params={"bands": "9999", "as_of": "2000-01-01"}).status_code == 200


def test_numbers_never_parse_as_dates_or_instants(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    customer_id = register_customer()["id"]
    invoice_id = issue_invoice(customer_id).json()["id"]
    problem(client.get("/v1/aging", params={"known_at": "0.5"}), 422, field="known_at")
    problem(client.get("/v1/aging", params={"known_at": "2026-03-01T12:00:00"}), 422, field="known_at")  # no offset
    problem(client.get(f"/v1/invoices/{invoice_id}/penalties", params={"until": "0"}), 422, field="until")
    problem(issue_invoice(customer_id, issued_on=0), 422, field="issued_on")
    problem(issue_invoice(customer_id, issued_on="2026-3-1"), 422, field="issued_on")
    ok = client.get("/v1/aging", params={"known_at": "2026-03-02T10:00:00+01:00", "as_of": "2026-03-02"})
    assert ok.status_code == 200 and ok.json()["known_at"] == "2026-03-02T09:00:00Z"


def test_query_numbers_and_booleans_are_written_plainly(client: TestClient, problem: CheckProblem) -> None:
    problem(client.get("/v1/invoices", params={"limit": "1.0"}), 422, field="limit")
    problem(client.get("/v1/invoices", params={"limit": "1_0"}), 422, field="limit")
    problem(client.get("/v1/invoices", params={"overdue": "yes"}), 422, field="overdue")
    assert client.get("/v1/invoices", params={"limit": "10", "overdue": "true"}).status_code == 200


def test_headers_are_held_to_their_documented_form(
    client: TestClient, register_customer: RegisterCustomer, problem: CheckProblem,
) -> None:
    customer = client.get(f"/v1/customers/{register_customer()['id']}")
    path = f"/v1/customers/{customer.json()['id']}/terms"
    terms = {"kind": "net", "days": 30}
    body = problem(client.put(path, json=terms, headers={"If-Match": "1"}), 422, field="If-Match")
    assert 'ETag' in body["detail"]
    problem(client.put(path, json=terms, headers={"If-Match": '"1'}), 422, field="If-Match")
    assert client.put(path, json=terms, headers={"If-Match": customer.headers["etag"]}).status_code == 200
    new = {"name": "Acme", "kind": "professional"}
    problem(client.post("/v1/customers", json=new, headers={"Idempotency-Key": "two words"}), 422,
            field="Idempotency-Key")
    problem(client.post("/v1/customers", json=new, headers={"Idempotency-Key": "k" * 256}), 422,
            field="Idempotency-Key")
    assert client.post("/v1/customers", json=new, headers={"Idempotency-Key": "k" * 255}).status_code == 201


def test_vat_rates_emails_and_templates_are_held_to_their_form(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    customer_id = register_customer()["id"]
    problem(issue_invoice(customer_id, vat=[{**VAT[0], "rate": 20}]), 422, field="vat[0].rate")
    problem(issue_invoice(customer_id, vat=[{**VAT[0], "rate": "20.00001"}]), 422, field="vat[0].rate")
    problem(issue_invoice(customer_id, vat=[{**VAT[0], "rate": "120"}]), 422, field="vat[0].rate")
    assert issue_invoice(customer_id, vat=[{**VAT[0], "rate": "20.0"}]).status_code == 201
    problem(client.post("/v1/customers", json={"name": "A", "kind": "professional", "emails": ["compta"]}), 422,
            field="emails[0]")
    step = {"key": "r1", "offset_days": 5, "kind": "reminder", "channel": "email", "template": "reminder-9"}
    body = problem(client.post("/v1/dunning/policies", json={"name": "P", "steps": [step]}), 422,
                   field="steps[0].template")
    assert "reminder-1" in body["detail"]


def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(
    client: TestClient, event_head: EventHead, problem: CheckProblem,
) -> None:
    before = event_head()
    r = client.post("/v1/customers", content=b'{"name": "Caf\xe9", "kind": "professional"}',
                    headers={"content-type": "application/json"})
    assert "UTF-8" in problem(r, 422, field="body", rule="invalid-request")["detail"]
    assert event_head() == before


def test_allow_names_every_method_of_the_path(client: TestClient, problem: CheckProblem) -> None:
    options = client.options("/v1/invoices")
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    refused = client.delete("/v1/invoices")
    problem(refused, 405, rule="method-not-allowed")
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    policy = client.options("/v1/dunning/policies/6f1b3c1e-0000-4000-8000-000000000000")
    assert set(policy.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}


def test_deleting_a_policy_archives_it_and_the_contract_says_so(client: TestClient) -> None:
    step = {"key": "r1", "offset_days": 5, "kind": "reminder", "channel": "email", "template": "reminder-1"}
    policy = client.post("/v1/dunning/policies", json={"name": "Short", "steps": [step]}).json()
    path = f"/v1/dunning/policies/{policy['id']}"
    assert client.delete(path).json()["archived"] is True
    again = client.get(path)
    assert again.status_code == 200 and again.json()["archived"] is True
    assert policy["id"] not in [p["id"] for p in client.get("/v1/dunning/policies").json()]
    operation = client.get("/openapi.json").json()["paths"]["/v1/dunning/policies/{policy_id}"]["delete"]
    assert "archive" in operation["summary"].lower() and "stays readable" in operation["description"]


@pytest.fixture
def openapi(client: TestClient) -> Json:
    schema: Json = client.get("/openapi.json").json()
    return schema


def _parameter(schema: Json, path: str, method: str, name: str) -> Json:
    found: Json = next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)
    return found


def _component(schema: Json, name: str) -> Json:
    found: Json = schema["components"]["schemas"][name]
    return found


def test_the_openapi_states_what_the_server_enforces(openapi: Json) -> None:
    if_match = _parameter(openapi, "/v1/customers/{customer_id}/terms", "put", "if-match")["schema"]["anyOf"][0]
    assert re.fullmatch(if_match["pattern"], 'W/"3"') and not re.fullmatch(if_match["pattern"], "3")
    key = _parameter(openapi, "/v1/customers", "post", "idempotency-key")["schema"]["anyOf"][0]
    assert key["minLength"] == 1 and key["maxLength"] == 255 and not re.fullmatch(key["pattern"], "a b")
    bands = _parameter(openapi, "/v1/aging", "get", "bands")["schema"]
    assert re.fullmatch(bands["pattern"], "30,60,90") and not re.fullmatch(bands["pattern"], "1000000000000")
    rate = _component(openapi, "VatLineIn")["properties"]["rate"]
    assert rate["type"] == "string" and re.fullmatch(rate["pattern"], "5.5")
    emails = _component(openapi, "RegisterCustomerIn")["properties"]["emails"]["items"]
    assert emails["format"] == "email"
    assert _component(openapi, "StepIn")["properties"]["template"]["enum"] == list(TEMPLATES)
    name = _component(openapi, "RegisterCustomerIn")["properties"]["name"]
    assert not re.fullmatch(name["pattern"], "Acme\u0000")
    issued_on = _component(openapi, "IssueInvoiceIn")["properties"]["issued_on"]["anyOf"][0]
    assert issued_on["format"] == "date" and not re.fullmatch(issued_on["pattern"], "9999-12-31")
    known_at = _parameter(openapi, "/v1/aging", "get", "known_at")["schema"]["anyOf"][0]
    assert known_at["format"] == "date-time" and not re.fullmatch(known_at["pattern"], "0.5")
    created = openapi["paths"]["/v1/customers"]["post"]["responses"]
    assert {"200", "201"} <= created.keys(), "a create says that a retry answers 200 with the same record"


@given(st.text(max_size=20))
def test_the_text_pattern_in_the_contract_is_exactly_what_the_server_accepts(text: str) -> None:
    schema = TypeAdapter(Text).json_schema()
    try:
        TypeAdapter(Text).validate_python(text)
        accepted = True
    except ValidationError:
        accepted = False
    assert accepted == (bool(re.fullmatch(schema["pattern"], text)) and len(text) >= 1)


def test_a_crafted_cursor_or_a_number_not_in_digits_is_a_422_never_a_500(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    issue_invoice(register_customer()["id"])
    crafted = base64.urlsafe_b64encode("2026-03-02|F\u0000".encode()).decode()
    problem(client.get("/v1/invoices", params={"cursor": crafted}), 422, field="cursor")
    for value in ("1.0", "1_0", "+1", "1e3"):
        problem(client.get("/v1/invoices", params={"min_position": value}), 422, field="min_position")
        problem(client.get("/v1/tasks", params={"limit": value}), 422, field="limit")
    assert client.get("/v1/tasks", params={"limit": "10"}).status_code == 200
