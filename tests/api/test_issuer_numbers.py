"""Invoices numbered by their issuer (an ERP) keep its number; a series is numbered by ar or by the issuer, never
both; gaps in an issuer's numbers are reported by GET /v1/numbering/series, not refused. SQLite and PostgreSQL.

The clock fixture stands at Monday 2026-03-02."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, EventHead, IssueInvoice, Json, RecordPayment, RegisterCustomer, created, ok

from ar.adapters.clocks import SettableClock
from ar.application.issuer_numbers import numbered_invoice_id

ERP = "ERP2026"


def series_list(client: TestClient, position: str) -> dict[str, Json]:
    body = ok(client.get("/v1/numbering/series", params={"min_position": position}))
    return {s["series"]: s for s in body["items"]}


def test_an_invoice_keeps_its_issuers_number_and_is_recorded_once_whatever_the_key(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    problem: CheckProblem,
) -> None:
    customer = register_customer()["id"]
    body: Json = {"series": ERP, "number": "FA-2026-0041", "issued_on": "2026-03-01", "external_id": "ERP-41"}
    r = issue_invoice(customer, 120000, headers={"Idempotency-Key": "first"}, **body)
    invoice = created(r)
    assert (invoice["number"], invoice["numbered_by"], invoice["series"]) == ("FA-2026-0041", "issuer", ERP)
    assert invoice["id"] == str(numbered_invoice_id(ERP, "FA-2026-0041"))
    assert invoice["structured_reference"].endswith("FA20260041")
    head = event_head()

    replayed = issue_invoice(customer, 120000, headers={"Idempotency-Key": "first"}, **body)
    assert (replayed.json()["id"], replayed.headers["idempotent-replayed"]) == (invoice["id"], "true")
    for headers in ({"Idempotency-Key": "another-key"}, None):  # the same invoice again: the one recorded
        again = ok(issue_invoice(customer, 120000, headers=headers, **body))
        assert (again["id"], again["number"], again["version"]) == (invoice["id"], "FA-2026-0041", 1)
    assert event_head() == head
    history = ok(client.get(f"/v1/invoices/{invoice['id']}/events"))
    assert [e["type"] for e in history] == ["Issued"]

    other = issue_invoice(customer, 60000, headers={"Idempotency-Key": "third"}, **body)
    refused = problem(other, 409, field="number", rule="number-taken")
    assert refused["invoice_id"] == invoice["id"]
    assert "total_minor" in refused["differs_in"]
    problem(issue_invoice(customer, 120000, **{**body, "issued_on": "2026-03-02"}), 409, field="number",
            rule="number-taken")
    assert event_head() == head


def test_a_series_is_numbered_by_ar_or_by_the_issuer_never_both(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead,
    problem: CheckProblem,
) -> None:
    customer = register_customer()["id"]
    ours = created(issue_invoice(customer, series="F2026"))
    assert (ours["number"], ours["numbered_by"]) == ("F2026-000001", "ar")
    created(issue_invoice(customer, series=ERP, number="FA-2026-0041"))
    head = event_head()

    body = problem(issue_invoice(customer, series="F2026", number="F2026-000002"), 422, field="number",
                   rule="series-numbered-elsewhere")
    assert (body["series"], body["numbered_by"]) == ("F2026", "ar")
    body = problem(issue_invoice(customer, series=ERP), 422, field="series", rule="series-numbered-elsewhere")
    assert (body["series"], body["numbered_by"]) == (ERP, "issuer")
    problem(client.post(f"/v1/invoices/{ours['id']}/credit-notes",  # credit notes stay ar's: not in ERP's series
                        json={"amount_minor": 100, "reason": "rebate", "series": ERP}), 422, field="series",
            rule="series-numbered-elsewhere")
    assert event_head() == head
    assert created(issue_invoice(customer, series="F2026"))["number"] == "F2026-000002"  # no gap left behind


def test_an_issuer_number_holds_1_to_40_letters_digits_and_dash_underscore_slash_dot(
    register_customer: RegisterCustomer, issue_invoice: IssueInvoice, event_head: EventHead, problem: CheckProblem,
) -> None:
    customer = register_customer()["id"]
    head = event_head()
    for bad in ("", "A" * 41, "FA 0041", "FA#41", "FA-\u00e9", "FA-1\n", "--/", "a" * 30 + "-" * 11):
        problem(issue_invoice(customer, series=ERP, number=bad), 422, field="number")
    assert event_head() == head
    assert created(issue_invoice(customer, series=ERP, number="a" * 40))["number"] == "a" * 40
    assert created(issue_invoice(customer, series=ERP, number="2026/07.b_1"))["number"] == "2026/07.b_1"


def test_the_numbering_report_shows_who_numbers_each_series_and_the_gaps_in_the_issuers_numbers(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
) -> None:
    customer = register_customer()["id"]
    for _ in range(3):
        created(issue_invoice(customer, series="F2026"))
    created(issue_invoice(customer, series=ERP, number="FA-2026-0041", issued_on="2026-02-27"))
    created(issue_invoice(customer, series=ERP, number="PROFORMA", issued_on="2026-02-28"))
    last = issue_invoice(customer, series=ERP, number="FA-2026-0043", issued_on="2026-03-01")
    created(last)

    listed = series_list(client, last.headers["ar-position"])
    assert listed["F2026"] == {"series": "F2026", "numbered_by": "ar", "invoices": 3,
                               "first_number": "F2026-000001", "last_number": "F2026-000003", "gaps": [],
                               "gap_count": 0}
    assert listed[ERP] == {"series": ERP, "numbered_by": "issuer", "invoices": 3, "first_number": "FA-2026-0041",
                           "last_number": "FA-2026-0043", "gaps": ["FA-2026-0042"], "gap_count": 1}

    filled = issue_invoice(customer, series=ERP, number="FA-2026-0042", issued_on="2026-02-28")
    created(filled)
    listed = series_list(client, filled.headers["ar-position"])
    assert (listed[ERP]["gaps"], listed[ERP]["gap_count"], listed[ERP]["invoices"]) == ([], 0, 4)


def test_an_issuer_numbered_invoice_is_paid_by_its_number_and_reminded_like_any_other(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment, clock: SettableClock,
) -> None:
    customer = register_customer()["id"]
    paid = created(issue_invoice(customer, 36000, series=ERP, number="VT2026-004101"))
    late = created(issue_invoice(customer, 60000, series=ERP, number="VT2026-004102", due_on="2026-03-16"))

    payment = created(record_payment(36000, remittance="Reglement facture VT2026-004101 merci"))
    assert payment["allocations"].keys() == {paid["id"]}
    assert ok(client.get(f"/v1/invoices/{paid['id']}"))["status"] == "paid"
    # any issuer number, whatever its shape, is in its structured reference (RF + check digits + its characters)
    slashed = created(issue_invoice(customer, 12000, series=ERP, number="fa/2026/41"))
    assert slashed["structured_reference"].endswith("FA202641")
    by_reference = created(record_payment(12000, payer_reference=slashed["structured_reference"]))
    assert by_reference["allocations"].keys() == {slashed["id"]}

    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    report = ok(client.post("/v1/dunning/sweep"))
    assert report["reminders"] >= 1
    timeline = ok(client.get(f"/v1/invoices/{late['id']}/dunning"))
    assert timeline["steps"], timeline
    assert ok(client.get(f"/v1/invoices/{paid['id']}/dunning"))["steps"] == []
