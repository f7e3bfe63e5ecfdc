"""Idempotency-Key: a retried write returns the first response and records nothing more; keys belong to a caller."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, IssueInvoice, NewKey, RegisterCustomer

REPLAYED = "idempotent-replayed"


def test_retry_with_the_same_key_and_body_replays_the_first_response(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
) -> None:
    customer = register_customer()
    invoice = issue_invoice(customer["id"]).json()
    creates = {
        "customers": {"name": "Dupont SA", "kind": "professional"},
        "invoices": {"customer_id": customer["id"], "total_minor": 1200,
                     "vat": [{"rate": "20", "base_minor": 1000, "vat_minor": 200}]},
        "payments": {"amount_minor": 1200, "allocations": [{"invoice_id": invoice["id"], "amount_minor": 1200}]},
    }
    for resource, body in creates.items():
        headers = {"Idempotency-Key": f"retry-{resource}"}
        first = client.post(f"/v1/{resource}", json=body, headers=headers)
        assert first.status_code == 201, first.text
        assert REPLAYED not in first.headers
        head = event_head()
        again = client.post(f"/v1/{resource}", json=body, headers=headers)

        assert again.status_code == 201, resource
        assert again.headers[REPLAYED] == "true"
        assert again.content == first.content
        for header in ("etag", "ar-position", "content-type"):
            assert again.headers[header] == first.headers[header], (resource, header)
        assert event_head() == head
        history = client.get(f"/v1/{resource}/{first.json()['id']}/events").json()
        assert history[-1]["version"] == first.json()["version"]


def test_first_issue_with_a_key_writes_once(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
) -> None:
    customer = register_customer()
    issue_invoice(customer["id"])  # opens the series, so the next issue records exactly its own events
    before = event_head()
    first = issue_invoice(customer["id"], headers={"Idempotency-Key": "k-1"})
    written = event_head() - before
    for _ in range(3):
        assert issue_invoice(customer["id"], headers={"Idempotency-Key": "k-1"}).json()["id"] == first.json()["id"]
    assert event_head() - before == written == 2  # the number taken from the series, and the invoice
    assert issue_invoice(customer["id"]).json()["number"] == "F2026-000003"


def test_a_key_reused_for_another_request_or_too_long_is_refused(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    problem: CheckProblem,
) -> None:
    customer = register_customer()
    headers = {"Idempotency-Key": "one-key"}
    assert issue_invoice(customer["id"], 1200, headers=headers).status_code == 201
    before = event_head()

    problem(issue_invoice(customer["id"], 2400, headers=headers), 422, field="Idempotency-Key",
            rule="idempotency-key-reused")
    problem(client.post("/v1/customers", json={"name": "Other", "kind": "individual"}, headers=headers), 422,
            field="Idempotency-Key", rule="idempotency-key-reused")
    problem(issue_invoice(customer["id"], headers={"Idempotency-Key": "k" * 256}), 422, field="Idempotency-Key")
    assert event_head() == before


def test_keys_are_scoped_to_the_api_key(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    new_key: NewKey,
) -> None:
    """The same Idempotency-Key from two API keys does two things; from one key, once."""
    customer = register_customer()
    before = event_head()
    alice, bob = new_key("write", name="alice"), new_key("write", name="bob")
    first = issue_invoice(customer["id"], headers={"Idempotency-Key": "shared", **alice})
    second = issue_invoice(customer["id"], headers={"Idempotency-Key": "shared", **bob})
    admin = issue_invoice(customer["id"], headers={"Idempotency-Key": "shared"})  # the client's own admin key

    assert [r.status_code for r in (first, second, admin)] == [201, 201, 201]
    assert not any(REPLAYED in r.headers for r in (first, second, admin))
    assert len({r.json()["id"] for r in (first, second, admin)}) == 3
    assert sorted(r.json()["number"] for r in (first, second, admin)) == [f"F2026-00000{n}" for n in (1, 2, 3)]
    again = issue_invoice(customer["id"], headers={"Idempotency-Key": "shared", **bob})
    assert (again.json()["id"], again.headers[REPLAYED]) == (second.json()["id"], "true")
    assert event_head() > before


def test_an_unauthenticated_post_never_replays_a_stored_response(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    problem: CheckProblem,
) -> None:
    customer = register_customer()
    assert issue_invoice(customer["id"], headers={"Idempotency-Key": "guessable"}).status_code == 201
    before = event_head()
    for credentials in ({"Authorization": ""}, {"Authorization": "Bearer ark_testadmin001_" + "x" * 40},
                        {"Authorization": "Basic dXNlcjpwYXNz"}):
        r = issue_invoice(customer["id"], headers={"Idempotency-Key": "guessable", **credentials})
        problem(r, 401, rule="unauthorized")
        assert REPLAYED not in r.headers
    assert event_head() == before


def test_a_refusal_is_replayed(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    problem: CheckProblem,
) -> None:
    customer = register_customer()
    headers = {"Idempotency-Key": "bad-amount"}
    first = problem(issue_invoice(customer["id"], 12.5, vat=[], headers=headers), 422, field="total_minor")
    again = issue_invoice(customer["id"], 12.5, vat=[], headers=headers)
    assert problem(again, 422, field="total_minor") == first
    assert again.headers[REPLAYED] == "true"

    # A rule refusal too: a retry is not a second chance, the client must send a new key.
    invoice = issue_invoice(customer["id"]).json()
    before = event_head()
    over = {"amount_minor": 999999, "allocations": [{"invoice_id": invoice["id"], "amount_minor": 999999}]}
    problem(client.post("/v1/payments", json=over, headers={"Idempotency-Key": "over"}), 422,
            rule="over-allocation")
    again = client.post("/v1/payments", json=over, headers={"Idempotency-Key": "over"})
    assert (again.status_code, again.headers[REPLAYED]) == (422, "true")
    assert event_head() == before


def test_conflicts_and_failed_preconditions_are_not_stored_so_the_same_key_succeeds_later(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    invoice = issue_invoice(register_customer()["id"]).json()
    path = f"/v1/invoices/{invoice['id']}"
    first = client.post(f"{path}/disputes", json={"reason": "late delivery"}).json()
    headers = {"Idempotency-Key": "second-dispute"}
    body = {"reason": "wrong quantity", "amount_minor": 1000}

    conflict = client.post(f"{path}/disputes", json=body, headers=headers)
    problem(conflict, 409, rule="conflict")
    assert REPLAYED not in conflict.headers
    resolved = client.post(f"{path}/disputes/{first['dispute_id']}/resolve", json={"outcome": "credited"})
    assert resolved.status_code == 200, resolved.text

    retried = client.post(f"{path}/disputes", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert REPLAYED not in retried.headers
    assert retried.json()["invoice"]["disputed"]["minor"] == 1000
    replayed = client.post(f"{path}/disputes", json=body, headers=headers)
    assert (replayed.headers[REPLAYED], replayed.content) == ("true", retried.content)

    credit = {"amount_minor": 1200, "reason": "discount"}
    problem(client.post(f"{path}/credit-notes", json=credit, headers={"Idempotency-Key": "cn", "If-Match": '"1"'}),
            412, rule="precondition-failed")
    applied = client.post(f"{path}/credit-notes", json=credit, headers={"Idempotency-Key": "cn", "If-Match": '"4"'})
    assert applied.status_code == 200, applied.text
    assert REPLAYED not in applied.headers
    assert applied.json()["credited"]["minor"] == 1200


def test_a_retry_found_by_external_id_returns_the_record_without_writing(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
) -> None:
    customer = register_customer(external_id="ERP-C-9")
    same = client.post("/v1/customers", json={"name": "Martin", "kind": "professional", "external_id": "ERP-C-9"})
    assert (same.status_code, same.json()["id"]) == (200, customer["id"])
    first = issue_invoice(customer["id"], external_id="ERP-INV-1")
    before = event_head()
    again = issue_invoice(customer["id"], external_id="ERP-INV-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert "ar-position" not in again.headers
    assert event_head() == before
