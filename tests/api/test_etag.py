"""ETag / If-Match: every write returns the new version; a write based on an old read is refused with 412."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, IssueInvoice, Json, RecordPayment, RegisterCustomer


def etag(client: TestClient, path: str) -> int:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{r.json()["version"]}"'
    return int(r.json()["version"])


def test_a_write_based_on_a_stale_read_is_refused_and_writes_nothing(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment, event_head: EventHead, problem: CheckProblem,
) -> None:
    customer = register_customer()
    invoice = issue_invoice(customer["id"])
    assert invoice.headers["etag"] == '"1"'
    path = f"/v1/invoices/{invoice.json()['id']}"
    read = client.get(path).headers["etag"]
    record_payment(50000, customer_id=customer["id"])  # someone else's write: version 2
    before = event_head()

    body = problem(client.post(f"{path}/credit-notes", json={"amount_minor": 70000, "reason": "x"},
                               headers={"If-Match": read}), 412, field="If-Match", rule="precondition-failed")
    assert "version is 2" in body["detail"]
    problem(client.post(f"{path}/credit-notes", json={"amount_minor": 70000, "reason": "x"},
                        headers={"If-Match": "version two"}), 422, field="If-Match")
    assert event_head() == before
    assert client.get(path).json()["credited"]["minor"] == 0

    r = client.post(f"{path}/credit-notes", json={"amount_minor": 70000, "reason": "x"},
                    headers={"If-Match": client.get(path).headers["etag"]})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"3"' == client.get(path).headers["etag"]
    assert r.json()["status"] == "paid"


def test_every_versioned_write_honours_if_match(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment, event_head: EventHead, problem: CheckProblem,
) -> None:
    customer = register_customer()
    invoice = issue_invoice(customer["id"]).json()
    debit = record_payment(60000, method="direct_debit", auto_allocate=False).json()
    transfer = record_payment(5000, auto_allocate=False).json()
    i, c = f"/v1/invoices/{invoice['id']}", f"/v1/customers/{customer['id']}"
    p, t = f"/v1/payments/{debit['id']}", f"/v1/payments/{transfer['id']}"
    dispute: dict[str, str] = {}

    writes: list[tuple[str, str, str, Callable[[], Json]]] = [
        ("PUT", f"{c}/terms", c, lambda: {"kind": "net", "days": 45}),
        ("PUT", f"{c}/credit-limit", c, lambda: {"credit_limit_minor": 100000}),
        ("POST", f"{i}/credit-notes", i, lambda: {"amount_minor": 1200, "reason": "discount"}),
        ("POST", f"{i}/disputes", i, lambda: {"reason": "quality", "amount_minor": 6000}),
        ("POST", f"{i}/disputes/{{dispute}}/resolve", i, lambda: {"outcome": "accepted"}),
        ("POST", f"{p}/allocations", p, lambda: {"allocations": [{"invoice_id": invoice["id"],
                                                                   "amount_minor": 30000}]}),
        ("POST", f"{t}/refunds", t, lambda: {"amount_minor": 1000}),
        ("POST", f"{p}/return", p, lambda: {"reason": "AM04 insufficient funds"}),
        ("POST", f"{i}/write-off", i, lambda: {"reason": "small balance"}),
    ]
    for method, template, resource, body in writes:
        path = template.format(**dispute)
        version = etag(client, resource)
        before = event_head()
        for wrong in (version - 1, version + 1):
            problem(client.request(method, path, json=body(), headers={"If-Match": f'"{wrong}"'}), 412,
                    field="If-Match", rule="precondition-failed")
        assert event_head() == before, path
        assert etag(client, resource) == version

        r = client.request(method, path, json=body(), headers={"If-Match": f'W/"{version}"'})
        assert r.status_code in (200, 201), (path, r.text)
        assert r.headers["etag"] == f'"{etag(client, resource)}"', path
        assert etag(client, resource) == version + (2 if path.endswith("/return") else 1), path
        assert int(r.headers["ar-position"]) > before
        if "dispute_id" in r.json():
            dispute["dispute"] = r.json()["dispute_id"]
    # issued, credited, disputed, resolved, paid in part, payment returned, written off
    assert etag(client, i) == 7
    wildcard = client.put(f"{c}/terms", json={"kind": "net", "days": 30}, headers={"If-Match": "*"})
    assert (wildcard.status_code, wildcard.headers["etag"]) == (200, '"4"')


def test_a_write_that_changes_nothing_keeps_the_version(
    client: TestClient, register_customer: RegisterCustomer, event_head: EventHead,
) -> None:
    customer = register_customer(terms={"kind": "net", "days": 45})
    before = event_head()
    r = client.put(f"/v1/customers/{customer['id']}/terms", json={"kind": "net", "days": 45},
                   headers={"If-Match": '"1"'})
    assert (r.status_code, r.headers["etag"]) == (200, '"1"')
    assert "ar-position" not in r.headers
    assert event_head() == before
