"""An explicit due date beyond the legal maximum (Code de commerce L441-10 for professionals, Code de la commande
publique R2192-10 for public buyers) is refused over HTTP with the rule, the field and the figures, and nothing is
written, unless the request states a derogation, which the invoice and its history then show. A consumer's due date
is not capped. Disputing a paid invoice says it is paid. On SQLite and PostgreSQL; the clock reads 2 March 2026."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

RegisterCustomer = Callable[..., dict[str, Any]]
IssueInvoice = RecordPayment = Callable[..., httpx.Response]
CheckProblem = Callable[..., dict[str, Any]]
EventHead = Callable[[], int]

REASON = "accord-cadre 2026-07, article 4 : 90 jours"


def created(r: Any) -> dict[str, Any]:
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize(("kind", "maximum", "days", "basis"), [
    # issued 2 March: 60 days is 1 May; 45 days end of month is 30 April (+45 then end of month) or 14 May (end of
    # March + 45): a professional on net terms may have the later, a public buyer never more than 60 days
    ("professional", "2026-05-15", 74, "Code de commerce L441-10"),
    ("public", "2026-05-01", 60, "Code de la commande publique R2192-10"),
])
def test_a_due_date_beyond_the_legal_maximum_is_refused_naming_the_rule_and_the_maximum(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
        event_head: EventHead, kind: str, maximum: str, days: int, basis: str) -> None:
    customer = register_customer(kind=kind)
    head = event_head()

    body = problem(issue_invoice(customer["id"], issued_on="2026-03-02", due_on="2028-03-02"), 422, field="due_on",
                   rule="terms-beyond-legal-maximum")

    assert (body["maximum_due_on"], body["maximum_days"], body["days"], body["legal_basis"]) == (
        maximum, days, 731, basis)
    assert maximum in body["detail"] and "due_on_derogation" in body["detail"]
    assert event_head() == head  # nothing written, no number taken
    created(issue_invoice(customer["id"], issued_on="2026-03-02", due_on=maximum))  # at the maximum: accepted
    problem(issue_invoice(customer["id"], issued_on="2026-03-02", due_on=f"{maximum[:-2]}{int(maximum[-2:]) + 1:02d}"),
            422, field="due_on", rule="terms-beyond-legal-maximum")  # one day more: refused


def test_a_customer_on_45_days_end_of_month_gets_the_maximum_of_its_own_reading(
        register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem) -> None:
    customer = register_customer(terms={"kind": "end_of_month_45", "reading": "plus_45_then_end_of_month"})
    # its reading gives 30 April; 60 days gives 1 May, the later
    created(issue_invoice(customer["id"], issued_on="2026-03-02", due_on="2026-05-01"))
    body = problem(issue_invoice(customer["id"], issued_on="2026-03-02", due_on="2026-05-14"), 422, field="due_on",
                   rule="terms-beyond-legal-maximum")
    assert body["maximum_due_on"] == "2026-05-01"


@pytest.mark.parametrize("kind", ["professional", "public"])
def test_a_stated_derogation_lets_it_through_and_the_invoice_and_its_history_show_the_reason(
        client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, kind: str) -> None:
    customer = register_customer(kind=kind)

    invoice = created(issue_invoice(customer["id"], issued_on="2026-03-02", due_on="2026-06-30",
                                    due_on_derogation=REASON))

    assert (invoice["due_on"], invoice["due_on_derogation"]) == ("2026-06-30", REASON)
    assert client.get(f"/v1/invoices/{invoice['id']}").json()["due_on_derogation"] == REASON
    [issued] = [e for e in client.get(f"/v1/invoices/{invoice['id']}/events").json() if e["type"] == "Issued"]
    assert (issued["data"]["due_on"], issued["data"]["due_on_derogation"]) == ("2026-06-30", REASON)


def test_an_invoice_within_the_maximum_shows_no_derogation(register_customer: RegisterCustomer,
                                                           issue_invoice: IssueInvoice) -> None:
    invoice = created(issue_invoice(register_customer()["id"]))  # from the terms: net 30
    assert (invoice["due_on"], invoice["due_on_derogation"]) == ("2026-04-01", None)


@pytest.mark.parametrize("reason", [" ", "\t\u00a0 "])
def test_a_blank_derogation_is_refused(register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
                                       problem: CheckProblem, event_head: EventHead, reason: str) -> None:
    customer = register_customer()
    head = event_head()
    r = issue_invoice(customer["id"], issued_on="2026-03-02", due_on="2026-06-30", due_on_derogation=reason)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "due_on_derogation"
    assert event_head() == head


def test_a_consumers_due_date_is_not_capped(register_customer: RegisterCustomer, issue_invoice: IssueInvoice) -> None:
    """L441-10 governs dealings between professionals: a term agreed with a private individual has no such cap."""
    customer = register_customer(kind="individual", name="Jeanne Martin")
    invoice = created(issue_invoice(customer["id"], issued_on="2026-03-02", due_on="2028-03-02"))
    assert (invoice["due_on"], invoice["due_on_derogation"]) == ("2028-03-02", None)


def test_disputing_a_paid_invoice_says_it_is_paid(client: TestClient, register_customer: RegisterCustomer,
                                                  issue_invoice: IssueInvoice, record_payment: RecordPayment,
                                                  problem: CheckProblem) -> None:
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"], 1_200))
    paid = record_payment(1_200, customer_id=customer["id"], method="transfer", allocations=[(invoice["id"], 1_200)])
    assert paid.status_code == 201, paid.text

    body = problem(client.post(f"/v1/invoices/{invoice['id']}/disputes", json={"reason": "colis abîmé"}), 422,
                   field="invoice_id", rule="invoice-settled")

    assert body["detail"] == f"invoice {invoice['number']} is paid; there is nothing left to dispute"
