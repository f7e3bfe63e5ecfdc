"""GET /v1/invoices: filters over the invoices read model, keyset pages, and reading one's own writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, IssueInvoice, Json, RecordPayment, RegisterCustomer

from ar.adapters.clocks import SettableClock


def listed(client: TestClient, position: str, **params: Any) -> list[Json]:
    r = client.get("/v1/invoices", params={"min_position": position, **params})
    assert r.status_code == 200, r.text
    page: Json = r.json()
    assert page["next_cursor"] is None
    items: list[Json] = page["items"]
    return items


def numbers(items: list[Json]) -> list[str]:
    return [i["number"] for i in items]


def test_filters_select_by_customer_status_due_date_overdue_external_id_and_number(
    client: TestClient, clock: SettableClock, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment,
) -> None:
    alice, bob = register_customer()["id"], register_customer(name="Bob SAS")["id"]
    issue_invoice(alice, 60000, issued_on="2026-01-10")  # F2026-000001, due 2026-02-09: overdue on 2026-03-02
    paid = issue_invoice(bob, 36000, issued_on="2026-02-15").json()  # F2026-000002, due 2026-03-17
    issue_invoice(alice, 120000, external_id="ERP-7")  # F2026-000003, due 2026-04-01
    last = record_payment(36000, allocations=[(paid["id"], 36000)])
    at = last.headers["ar-position"]

    assert numbers(listed(client, at)) == ["F2026-000003", "F2026-000002", "F2026-000001"]
    assert numbers(listed(client, at, customer_id=alice)) == ["F2026-000003", "F2026-000001"]
    assert numbers(listed(client, at, status="paid")) == ["F2026-000002"]
    assert numbers(listed(client, at, status=["paid", "issued"])) == ["F2026-000003", "F2026-000002",
                                                                       "F2026-000001"]
    assert numbers(listed(client, at, status="partly_paid")) == []
    assert numbers(listed(client, at, due_from="2026-03-01", due_to="2026-03-31")) == ["F2026-000002"]
    assert numbers(listed(client, at, due_from="2026-03-18")) == ["F2026-000003"]
    assert numbers(listed(client, at, due_to="2026-02-09")) == ["F2026-000001"]
    assert numbers(listed(client, at, external_id="ERP-7")) == ["F2026-000003"]
    assert numbers(listed(client, at, number="F2026-000002")) == ["F2026-000002"]
    assert numbers(listed(client, at, series="F2026", currency="EUR", customer_id=bob)) == ["F2026-000002"]
    assert numbers(listed(client, at, series="AV")) == []

    assert numbers(listed(client, at, overdue=True)) == ["F2026-000001"]  # as of the clock: 2026-03-02
    assert numbers(listed(client, at, overdue=True, as_of="2026-02-09")) == []
    assert numbers(listed(client, at, overdue=True, as_of="2026-04-02")) == ["F2026-000003", "F2026-000001"]
    assert numbers(listed(client, at, overdue=False, as_of="2026-04-02")) == ["F2026-000002"]
    rows = listed(client, at, as_of="2026-04-02")
    assert [r["overdue"] for r in rows] == [True, False, True]

    clock.advance(timedelta(days=31))  # today is 2026-04-02
    assert numbers(listed(client, at, overdue=True)) == ["F2026-000003", "F2026-000001"]
    assert client.get(f"/v1/invoices/{rows[0]['id']}").json()["overdue"] is True

    row = listed(client, at, number="F2026-000002")[0]
    assert row == {"id": paid["id"], "version": 2, "number": "F2026-000002", "customer_id": bob, "status": "paid",
                   "overdue": False, "currency": "EUR", "issued_on": "2026-02-15", "due_on": "2026-03-17",
                   "total_minor": 36000, "open_minor": 0, "external_id": None, "lifecycle_status": None,
                   "lifecycle_code": None}


def test_pages_return_every_invoice_once_newest_first(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
) -> None:
    customer = register_customer()["id"]
    issued = [issue_invoice(customer, 1200, issued_on=f"2026-02-{10 + n // 3:02d}") for n in range(12)]
    expected = [r.json()["id"] for r in sorted(issued, key=lambda r: (r.json()["issued_on"], r.json()["number"]),
                                               reverse=True)]
    assert expected == [r.json()["id"] for r in reversed(issued)]
    params: Json = {"limit": 5, "customer_id": customer, "min_position": issued[-1].headers["ar-position"]}

    pages: list[list[Json]] = []
    cursor: str | None = None
    while True:
        r = client.get("/v1/invoices", params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        pages.append(r.json()["items"])
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
        if len(pages) == 1:
            # An invoice issued while paging lands before the cursor: the remaining pages do not shift.
            issue_invoice(customer, 1200, issued_on="2026-03-02")

    assert [len(p) for p in pages] == [5, 5, 2]
    ids = [item["id"] for page in pages for item in page]
    assert ids == expected
    assert len(set(ids)) == 12


def test_a_list_right_after_a_write_includes_it(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment,
) -> None:
    customer = register_customer()["id"]
    for _ in range(3):
        invoice = issue_invoice(customer, 1200)
        assert invoice.json()["id"] in [i["id"] for i in listed(client, invoice.headers["ar-position"])]
        payment = record_payment(1200, allocations=[(invoice.json()["id"], 1200)])
        row = listed(client, payment.headers["ar-position"], number=invoice.json()["number"])[0]
        assert (row["status"], row["open_minor"], row["version"]) == ("paid", 0, 2)


def test_list_parameters_are_validated(client: TestClient, problem: CheckProblem) -> None:
    for params, field in [
        ({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"status": "open"}, "status[0]"),
        ({"customer_id": "x"}, "customer_id"), ({"currency": "euro"}, "currency"),
        ({"due_from": "tomorrow"}, "due_from"), ({"overdue": "maybe"}, "overdue"),
        ({"cursor": "not-a-cursor"}, "cursor"), ({"min_position": "last"}, "min_position"),
    ]:
        problem(client.get("/v1/invoices", params=params), 422, field=field)
