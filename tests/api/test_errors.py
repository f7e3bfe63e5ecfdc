"""Refusals are application/problem+json naming the field and the rule, and a refused request writes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, IssueInvoice, Json, RecordPayment, RegisterCustomer

VAT = [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}]
TYPE_BASE = "https://ar.invalid/problems/"
UNKNOWN = "6f1b3c1e-0000-4000-8000-000000000000"

# (why, change to a valid invoice body, status, field, rule)
BAD_INVOICES: list[tuple[str, Json, int, str, str]] = [
    ("float amount", {"total_minor": 12.5}, 422, "total_minor", "invalid-request"),
    ("amount as a string", {"total_minor": "120000"}, 422, "total_minor", "invalid-request"),
    ("zero amount", {"total_minor": 0}, 422, "total_minor", "invalid-request"),
    ("missing vat", {"vat": None}, 422, "vat", "invalid-request"),
    ("empty vat", {"vat": []}, 422, "vat", "invalid-request"),
    ("float vat base", {"vat": [{"rate": "20", "base_minor": 100000.0, "vat_minor": 20000}]}, 422,
     "vat[0].base_minor", "invalid-request"),
    ("lines do not add up", {"total_minor": 120001}, 422, "total_minor", "rule-violation"),
    ("vat is not base times rate", {"vat": [{"rate": "5.5", "base_minor": 100000, "vat_minor": 20000}]}, 422,
     "vat[0].vat_minor", "rule-violation"),
    ("unknown currency", {"currency": "XYZ"}, 422, "currency", "rule-violation"),
    ("lower-case currency", {"currency": "eur"}, 422, "currency", "invalid-request"),
    ("unknown field", {"discount_minor": 100}, 422, "discount_minor", "invalid-request"),
    ("due before issue", {"issued_on": "2026-03-02", "due_on": "2026-03-01"}, 422, "due_on", "rule-violation"),
    ("bad series", {"series": "f 2026"}, 422, "series", "invalid-request"),
    ("bad date", {"issued_on": "2026-02-30"}, 422, "issued_on", "invalid-request"),
    ("customer id not a uuid", {"customer_id": "42"}, 422, "customer_id", "invalid-request"),
    ("unknown customer", {"customer_id": UNKNOWN}, 404, "customer_id", "not-found"),
]


def test_refused_invoices_name_the_field_write_nothing_and_leave_no_gap_in_the_series(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    problem: CheckProblem,
) -> None:
    customer_id = register_customer()["id"]
    assert issue_invoice(customer_id).json()["number"] == "F2026-000001"
    valid: Json = {"customer_id": customer_id, "series": "F2026", "total_minor": 120000, "vat": VAT}
    before = event_head()
    for why, change, status, field, rule in BAD_INVOICES:
        body = {k: v for k, v in {**valid, **change}.items() if v is not None}
        r = client.post("/v1/invoices", json=body)
        assert (r.status_code, r.json().get("field"), r.json()["type"]) == (status, field, TYPE_BASE + rule), why
        problem(r, status, field=field, rule=rule)
    assert event_head() == before
    assert issue_invoice(customer_id).json()["number"] == "F2026-000002"


def test_unknown_records_and_routes_are_404_and_malformed_ids_422(client: TestClient, problem: CheckProblem) -> None:
    for path in ("/v1/invoices/{id}", "/v1/invoices/{id}/events", "/v1/customers/{id}", "/v1/customers/{id}/events",
                 "/v1/payments/{id}", "/v1/payments/{id}/events"):
        field = path.split("/")[2].removesuffix("s") + "_id"
        problem(client.get(path.format(id=UNKNOWN)), 404, field=field, rule="not-found")
        problem(client.get(path.format(id="not-a-uuid")), 422, field=field, rule="invalid-request")
    problem(client.get("/v1/nothing-here"), 404)
    problem(client.delete("/v1/invoices"), 405)


WRITES_TO_A_RECORD: list[tuple[str, str, Json]] = [
    ("POST", "/v1/invoices/{id}/credit-notes", {"amount_minor": 100, "reason": "x"}),
    ("POST", "/v1/invoices/{id}/write-off", {"reason": "x"}),
    ("POST", "/v1/invoices/{id}/disputes", {"reason": "x"}),
    ("POST", f"/v1/invoices/{{id}}/disputes/{UNKNOWN}/resolve", {"outcome": "x"}),
    ("POST", "/v1/payments/{id}/allocations", {}),
    ("POST", "/v1/payments/{id}/refunds", {"amount_minor": 100}),
    ("POST", "/v1/payments/{id}/return", {"reason": "x"}),
    ("PUT", "/v1/customers/{id}/terms", {"kind": "net", "days": 30}),
    ("PUT", "/v1/customers/{id}/credit-limit", {"credit_limit_minor": 100}),
]


def test_writing_to_an_unknown_record_is_404_and_writes_nothing(
    client: TestClient, event_head: EventHead, problem: CheckProblem,
) -> None:
    before = event_head()
    for method, path, body in WRITES_TO_A_RECORD:
        field = path.split("/")[2].removesuffix("s") + "_id"
        problem(client.request(method, path.format(id=UNKNOWN), json=body), 404, field=field, rule="not-found")
        problem(client.request(method, path.format(id="123"), json=body), 422, field=field, rule="invalid-request")
    assert event_head() == before


def test_over_allocation_names_the_allocation_and_writes_nothing(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment, event_head: EventHead, problem: CheckProblem,
) -> None:
    customer = register_customer()
    first = issue_invoice(customer["id"]).json()
    second = issue_invoice(customer["id"], 60000).json()
    before = event_head()

    body = problem(record_payment(130000, customer_id=customer["id"], allocations=[(first["id"], 130000)]), 422,
                   field="allocations[0].amount_minor", rule="over-allocation")
    assert "1200.00 EUR" in body["detail"]
    # The first allocation fits; the second does not, and takes the first down with it.
    problem(record_payment(180000, allocations=[(first["id"], 100000), (second["id"], 70000)]), 422,
            field="allocations[1].amount_minor", rule="over-allocation")
    problem(record_payment(50000, allocations=[(first["id"], 60000)]), 422, field="allocations[0].amount_minor",
            rule="over-allocation")
    problem(record_payment(50000, allocations=[(first["id"], 10000), (first["id"], 10000)]), 422,
            field="allocations")
    problem(record_payment(50000, allocations=[(UNKNOWN, 10000)]), 404, field="allocations[0].invoice_id")
    problem(record_payment(50000, currency="USD", allocations=[(first["id"], 10000)]), 422,
            field="allocations[0].currency")
    problem(record_payment(50000, allocations=[(first["id"], 99.5)]), 422, field="allocations[0].amount_minor")
    problem(record_payment(50000, allocations=[(first["id"], 0)]), 422, field="allocations[0].amount_minor")
    assert event_head() == before
    got = client.get(f"/v1/invoices/{first['id']}")
    assert (got.headers["etag"], got.json()["open_amount"]["minor"]) == ('"1"', 120000)


def test_terms_beyond_sixty_days_are_refused_for_business_and_public_debtors(
    client: TestClient, register_customer: RegisterCustomer, event_head: EventHead, problem: CheckProblem,
) -> None:
    before = event_head()
    for kind in ("professional", "public"):
        r = client.post("/v1/customers", json={"name": "Martin", "kind": kind, "terms": {"kind": "net", "days": 90}})
        problem(r, 422, field="terms.days", rule="terms-beyond-legal-maximum")
    assert event_head() == before

    customer = register_customer(terms={"kind": "net", "days": 60})
    before = event_head()
    problem(client.put(f"/v1/customers/{customer['id']}/terms", json={"kind": "net", "days": 61}), 422,
            rule="terms-beyond-legal-maximum")
    problem(client.put(f"/v1/customers/{customer['id']}/terms", json={"kind": "end_of_month_45"}), 422,
            field="terms.reading")
    assert event_head() == before
    assert client.get(f"/v1/customers/{customer['id']}").json()["terms"]["days"] == 60

    assert register_customer(kind="individual", terms={"kind": "net", "days": 90})["terms"]["days"] == 90


def test_refused_customers_name_the_field_and_write_nothing(
    client: TestClient, event_head: EventHead, problem: CheckProblem,
) -> None:
    before = event_head()
    for change, field in [
        ({"country": "France"}, "country"),
        ({"emails": ["not-an-email"]}, "emails[0]"),
        ({"credit_limit_minor": -1}, "credit_limit_minor"),
        ({"credit_limit_minor": 10.0}, "credit_limit_minor"),
        ({"language": "de"}, "language"),
        ({"terms": {"kind": "net", "days": 30, "grace": 5}}, "terms.grace"),
    ]:
        problem(client.post("/v1/customers", json={"name": "Martin", "kind": "professional", **change}), 422,
                field=field)
    every = problem(client.post("/v1/customers", json={"name": "", "kind": "martian", "extra": 1}), 422)
    assert {e["field"] for e in every["errors"]} == {"name", "kind", "extra"}
    assert every["field"] == every["errors"][0]["field"]
    assert event_head() == before


def test_malformed_json_names_the_body(client: TestClient, event_head: EventHead, problem: CheckProblem) -> None:
    before = event_head()
    r = client.post("/v1/customers", content=b'{"name": "Martin", ', headers={"content-type": "application/json"})
    problem(r, 422, field="body", rule="invalid-request")
    assert event_head() == before
