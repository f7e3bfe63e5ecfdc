"""The tour of the service through HTTP: an invoice from issue to cash, and every way it is settled or reopened.

The clock fixture stands at 2026-03-02; a customer's default terms are 30 days net.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, IssueInvoice, Json, RecordPayment, RegisterCustomer, created, ok


def event_types(client: TestClient, path: str) -> list[str]:
    events = ok(client.get(f"{path}/events"))
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    return [e["type"] for e in events]


def read_invoice(client: TestClient, invoice_id: str) -> Json:
    r = client.get(f"/v1/invoices/{invoice_id}")
    body = ok(r)
    assert r.headers["etag"] == f'"{body["version"]}"'
    return body


def listed_as_read(client: TestClient, invoice_id: str) -> None:
    """The invoice list (read model) agrees with the invoice (aggregate) once it has caught up with every event."""
    got = read_invoice(client, invoice_id)
    head = client.get("/readyz").json()["event_store_head"]
    page = ok(client.get("/v1/invoices", params={"number": got["number"], "min_position": head}))
    [row] = page["items"]
    assert (row["id"], row["version"], row["status"], row["open_minor"], row["overdue"]) == (
        got["id"], got["version"], got["status"], got["open_amount"]["minor"], got["overdue"])


def test_the_readme_tour(client: TestClient, problem: CheckProblem) -> None:
    # 1. A professional debtor paying at 45 days net.
    customer = created(client.post("/v1/customers", json={
        "name": "Boulangerie Martin SARL", "kind": "professional", "emails": ["compta@martin.fr"],
        "terms": {"kind": "net", "days": 45}}))

    # 2. An invoice of EUR 1,200.00 incl. VAT, numbered from its series, due by the customer's terms; sent twice.
    body = {"customer_id": customer["id"], "total_minor": 120000,
            "vat": [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}]}
    key = {"Idempotency-Key": f"tour-{customer['id']}"}
    r = client.post("/v1/invoices", json=body, headers=key)
    invoice = created(r)
    assert (r.headers["etag"], invoice["version"]) == ('"1"', 1)
    assert int(r.headers["ar-position"]) > 0
    assert (invoice["number"], invoice["status"]) == ("F-000001", "issued")
    assert (invoice["issued_on"], invoice["due_on"]) == ("2026-03-02", "2026-04-16")
    assert invoice["structured_reference"].startswith("RF")
    assert invoice["structured_reference"].endswith("F000001")
    assert invoice["vat"] == [{"rate": "20", "base": {"minor": 100000, "currency": "EUR", "formatted": "1000.00 EUR"},
                               "vat": {"minor": 20000, "currency": "EUR", "formatted": "200.00 EUR"}}]
    again = client.post("/v1/invoices", json=body, headers=key)
    assert (created(again)["id"], again.headers["idempotent-replayed"]) == (invoice["id"], "true")

    # 3. EUR 500.00 quoting the invoice number in the remittance text: allocated automatically.
    payment = created(client.post("/v1/payments", json={
        "customer_id": customer["id"], "amount_minor": 50000, "method": "transfer",
        "remittance": f"Facture {invoice['number']} acompte"}))
    assert payment["allocations"] == {invoice["id"]: {"minor": 50000, "currency": "EUR", "formatted": "500.00 EUR"}}

    # 4. The invoice: partly paid, EUR 700.00 open, its ETag is its version.
    got = read_invoice(client, invoice["id"])
    assert (got["status"], got["version"], got["open_amount"]["formatted"]) == ("partly_paid", 2, "700.00 EUR")
    assert not got["overdue"]

    # 5. Its history.
    assert event_types(client, f"/v1/invoices/{invoice['id']}") == ["Issued", "PaymentAllocated"]
    listed_as_read(client, invoice["id"])

    # 6. A mistake is refused, naming the field, and writes nothing.
    head = client.get("/readyz").json()["event_store_head"]
    problem(client.post("/v1/invoices", json={"customer_id": customer["id"], "total_minor": 12.5, "vat": []}), 422,
            field="total_minor", rule="invalid-request")
    assert client.get("/readyz").json()["event_store_head"] == head
    assert read_invoice(client, invoice["id"])["version"] == 2


def test_explicit_allocations_part_pay_then_pay_the_invoice(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment,
) -> None:
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"]))

    # Cash first left unapplied on request, then allocated to the invoice.
    payment = created(record_payment(50000, customer_id=customer["id"], auto_allocate=False))
    assert (payment["allocations"], payment["unapplied"]["minor"]) == ({}, 50000)
    assert read_invoice(client, invoice["id"])["status"] == "issued"
    r = client.post(f"/v1/payments/{payment['id']}/allocations",
                    json={"allocations": [{"invoice_id": invoice["id"], "amount_minor": 50000}]})
    payment = ok(r)
    assert r.headers["etag"] == '"2"'
    assert payment["allocations"] == {invoice["id"]: {"minor": 50000, "currency": "EUR", "formatted": "500.00 EUR"}}
    assert payment["unapplied"]["minor"] == 0
    got = read_invoice(client, invoice["id"])
    assert (got["status"], got["version"], got["open_amount"]["minor"]) == ("partly_paid", 2, 70000)
    assert got["allocations"] == {payment["id"]: {"minor": 50000, "currency": "EUR", "formatted": "500.00 EUR"}}

    # Cash allocated as it is recorded.
    second = record_payment(70000, customer_id=customer["id"], value_on="2026-03-05",
                            allocations=[(invoice["id"], 70000)])
    assert created(second)["value_on"] == "2026-03-05"
    assert second.headers["etag"] == '"2"'
    got = read_invoice(client, invoice["id"])
    assert (got["status"], got["version"], got["open_amount"]["minor"]) == ("paid", 3, 0)
    assert got["allocated"]["minor"] == 120000
    assert event_types(client, f"/v1/invoices/{invoice['id']}") == ["Issued", "PaymentAllocated", "PaymentAllocated"]
    assert event_types(client, f"/v1/payments/{payment['id']}") == ["Received", "Allocated"]


def test_automatic_allocation_follows_reference_then_invoice_number_then_oldest_due(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment,
) -> None:
    customer = register_customer()
    oldest = created(issue_invoice(customer["id"], 60000, issued_on="2026-02-01"))
    referenced = created(issue_invoice(customer["id"], 120000, issued_on="2026-02-15"))
    quoted = created(issue_invoice(customer["id"], 36000, issued_on="2026-03-02"))

    # The reference as printed on a payment slip: groups of four, any case.
    ref = referenced["structured_reference"].lower()
    by_reference = created(record_payment(120000, payer_reference=" ".join(ref[i:i + 4] for i in range(0, 20, 4))))
    assert by_reference["allocations"].keys() == {referenced["id"]}
    assert read_invoice(client, referenced["id"])["status"] == "paid"

    by_number = created(record_payment(36000, remittance=f"Reglement facture {quoted['number']} merci"))
    assert by_number["allocations"].keys() == {quoted["id"]}
    assert read_invoice(client, quoted["id"])["status"] == "paid"

    by_customer = created(record_payment(90000, customer_id=customer["id"]))
    assert by_customer["allocations"] == {oldest["id"]: {"minor": 60000, "currency": "EUR",
                                                         "formatted": "600.00 EUR"}}
    assert by_customer["unapplied"]["minor"] == 30000
    assert read_invoice(client, oldest["id"])["status"] == "paid"

    later = created(issue_invoice(customer["id"], 48000))
    r = client.post(f"/v1/payments/{by_customer['id']}/allocations", json={})
    applied = ok(r)
    assert r.headers["etag"] == f'"{applied["version"]}"'
    assert applied["allocations"][later["id"]]["minor"] == 30000
    assert applied["unapplied"]["minor"] == 0
    got = read_invoice(client, later["id"])
    assert (got["status"], got["open_amount"]["minor"]) == ("partly_paid", 18000)


def test_credit_notes_reduce_the_open_amount_and_are_numbered_in_their_own_series(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    invoice = created(issue_invoice(register_customer()["id"]))
    path = f"/v1/invoices/{invoice['id']}"

    r = client.post(f"{path}/credit-notes", json={"amount_minor": 20000, "reason": "damaged goods"})
    got = ok(r)
    assert r.headers["etag"] == '"2"'
    assert (got["status"], got["credited"]["minor"], got["open_amount"]["minor"]) == ("issued", 20000, 100000)
    assert list(got["credit_notes"]) == ["AV-000001"]

    problem(client.post(f"{path}/credit-notes", json={"amount_minor": 100001, "reason": "too much"}), 422,
            field="amount_minor", rule="over-allocation")
    got = ok(client.post(f"{path}/credit-notes", json={"amount_minor": 100000, "reason": "cancelled",
                                                        "series": "AV2026", "credited_on": "2026-03-03"}))
    assert (got["status"], got["open_amount"]["minor"]) == ("credited", 0)
    assert list(got["credit_notes"]) == ["AV-000001", "AV2026-000001"]
    assert event_types(client, path) == ["Issued", "CreditNoteApplied", "CreditNoteApplied"]
    listed_as_read(client, invoice["id"])


def test_write_off_closes_what_remains_open(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment, problem: CheckProblem,
) -> None:
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"]))
    path = f"/v1/invoices/{invoice['id']}"
    created(record_payment(20000, customer_id=customer["id"], allocations=[(invoice["id"], 20000)]))

    got = ok(client.post(f"{path}/write-off", json={"reason": "customer in liquidation"}))
    assert (got["status"], got["written_off"]["minor"], got["open_amount"]["minor"]) == ("written_off", 100000, 0)
    assert event_types(client, path) == ["Issued", "PaymentAllocated", "WrittenOff"]
    listed_as_read(client, invoice["id"])

    problem(record_payment(1000, customer_id=customer["id"], allocations=[(invoice["id"], 1000)]), 422,
            field="allocations[0].invoice_id", rule="invoice-closed")


def test_dispute_holds_the_invoice_until_resolved(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    invoice = created(issue_invoice(register_customer()["id"]))
    path = f"/v1/invoices/{invoice['id']}"

    r = client.post(f"{path}/disputes", json={"reason": "goods not received", "amount_minor": 60000})
    opened = created(r)
    assert r.headers["etag"] == '"2"'
    assert (opened["invoice"]["status"], opened["invoice"]["disputed"]["minor"]) == ("disputed", 60000)
    listed_as_read(client, invoice["id"])
    problem(client.post(f"{path}/disputes", json={"reason": "again"}), 409, field="invoice_id", rule="conflict")
    problem(client.post(f"{path}/disputes/{invoice['id']}/resolve", json={"outcome": "no such dispute"}), 422,
            field="dispute_id")

    got = ok(client.post(f"{path}/disputes/{opened['dispute_id']}/resolve",
                         json={"outcome": "rejected: goods delivered as ordered"}))
    assert (got["status"], got["disputed"]["minor"], got["open_amount"]["minor"]) == ("issued", 0, 120000)
    assert event_types(client, path) == ["Issued", "DisputeOpened", "DisputeResolved"]
    listed_as_read(client, invoice["id"])


def test_refund_pays_back_unapplied_cash_only(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment, problem: CheckProblem,
) -> None:
    customer = register_customer()
    created(issue_invoice(customer["id"]))
    payment = created(record_payment(150000, customer_id=customer["id"]))
    assert payment["unapplied"]["minor"] == 30000
    path = f"/v1/payments/{payment['id']}"

    problem(client.post(f"{path}/refunds", json={"amount_minor": 30001}), 422, field="amount_minor",
            rule="over-allocation")
    r = client.post(f"{path}/refunds", json={"amount_minor": 30000, "refunded_on": "2026-03-04"})
    refunded = ok(r)
    assert r.headers["etag"] == f'"{refunded["version"]}"'
    assert (refunded["refunded"]["minor"], refunded["unapplied"]["minor"]) == (30000, 0)
    assert len(refunded["refunds"]) == 1
    assert event_types(client, path) == ["Received", "Allocated", "Refunded"]
    problem(client.post(f"{path}/return", json={"reason": "AM04"}), 422)


def test_returned_direct_debit_reopens_the_invoices_it_paid(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment, problem: CheckProblem,
) -> None:
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"]))
    debit = created(record_payment(120000, method="direct_debit", customer_id=customer["id"],
                                   allocations=[(invoice["id"], 120000)]))
    assert read_invoice(client, invoice["id"])["status"] == "paid"

    r = client.post(f"/v1/payments/{debit['id']}/return", json={"reason": "AM04 insufficient funds"})
    returned = ok(r)
    assert r.headers["etag"] == f'"{returned["version"]}"'
    assert returned["returned_on"] == "2026-03-02"
    assert (returned["allocations"], returned["unapplied"]["minor"]) == ({}, 0)
    got = read_invoice(client, invoice["id"])
    assert (got["status"], got["open_amount"]["minor"]) == ("issued", 120000)
    assert event_types(client, f"/v1/invoices/{invoice['id']}") == ["Issued", "PaymentAllocated", "AllocationReversed"]
    listed_as_read(client, invoice["id"])
    assert event_types(client, f"/v1/payments/{debit['id']}") == ["Received", "Allocated", "AllocationReversed",
                                                                   "Returned"]

    transfer = created(record_payment(1200, customer_id=customer["id"]))
    problem(client.post(f"/v1/payments/{transfer['id']}/return", json={"reason": "AM04"}), 422, field="method")


def test_amount_reopened_on_a_written_off_invoice_can_still_be_collected(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: RecordPayment,
) -> None:
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"]))
    debit = created(record_payment(30000, method="direct_debit", allocations=[(invoice["id"], 30000)]))
    ok(client.post(f"/v1/invoices/{invoice['id']}/write-off", json={"reason": "customer in liquidation"}))
    ok(client.post(f"/v1/payments/{debit['id']}/return", json={"reason": "AM04 insufficient funds"}))
    reopened = read_invoice(client, invoice["id"])
    assert (reopened["open_amount"]["minor"], reopened["written_off"]["minor"]) == (30000, 90000)
    listed_as_read(client, invoice["id"])

    created(record_payment(30000, method="transfer", allocations=[(invoice["id"], 30000)]))
    settled = read_invoice(client, invoice["id"])
    assert (settled["status"], settled["open_amount"]["minor"]) == ("written_off", 0)
    listed_as_read(client, invoice["id"])


def test_final_invoice_deducts_its_deposits_once(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    customer = register_customer()
    deposit = created(issue_invoice(customer["id"], 36000, kind="deposit"))
    final = created(issue_invoice(customer["id"], 120000, kind="final", deposit_invoice_ids=[deposit["id"]]))
    assert (final["kind"], final["deducted"]["minor"], final["open_amount"]["minor"]) == ("final", 36000, 84000)
    assert event_types(client, f"/v1/invoices/{deposit['id']}") == ["Issued", "DepositDeducted"]
    assert read_invoice(client, deposit["id"])["version"] == 2
    listed_as_read(client, final["id"])

    problem(issue_invoice(customer["id"], 120000, kind="final", deposit_invoice_ids=[deposit["id"]]), 422,
            field="deposit_invoice_ids[0]")
    other = created(issue_invoice(customer["id"], 36000, kind="deposit"))
    problem(issue_invoice(customer["id"], 120000, deposit_invoice_ids=[other["id"]]), 422,
            field="deposit_invoice_ids")
    problem(issue_invoice(customer["id"], 30000, kind="final", deposit_invoice_ids=[other["id"]]), 422,
            field="deposit_invoice_ids", rule="over-allocation")


def test_listed_version_of_a_deducted_deposit_is_its_etag(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
) -> None:
    customer = register_customer()
    deposit = created(issue_invoice(customer["id"], 36000, kind="deposit"))
    created(issue_invoice(customer["id"], 120000, kind="final", deposit_invoice_ids=[deposit["id"]]))
    listed_as_read(client, deposit["id"])


def test_changed_terms_set_the_due_date_of_later_invoices(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
) -> None:
    customer = register_customer(emails=["compta@martin.fr"])
    path = f"/v1/customers/{customer['id']}"

    r = client.put(f"{path}/terms", json={"kind": "net", "days": 45})
    changed = ok(r)
    assert r.headers["etag"] == '"2"'
    assert changed["terms"] == {"kind": "net", "days": 45, "reading": None, "discount": None}
    assert created(issue_invoice(customer["id"]))["due_on"] == "2026-04-16"

    changed = ok(client.put(f"{path}/terms", json={"kind": "end_of_month_45",
                                                    "reading": "plus_45_then_end_of_month"}))
    assert changed["terms"] == {"kind": "end_of_month_45", "days": 45, "reading": "plus_45_then_end_of_month",
                                "discount": None}
    assert created(issue_invoice(customer["id"]))["due_on"] == "2026-04-30"

    got = client.get(path)
    assert got.headers["etag"] == '"3"'
    assert got.json()["terms"]["kind"] == "end_of_month_45"
    assert event_types(client, path) == ["Registered", "TermsChanged", "TermsChanged"]


def test_customer_is_read_back_as_registered_and_its_credit_limit_changed(
    client: TestClient, register_customer: RegisterCustomer,
) -> None:
    customer = register_customer(name="  Mairie de Lyon ", kind="public", language="fr", emails=["a@lyon.fr"],
                                 terms={"kind": "net", "days": 60}, credit_limit_minor=500000, external_id="ERP-C-1")
    path = f"/v1/customers/{customer['id']}"
    got = client.get(path)
    assert got.headers["etag"] == '"1"'
    assert got.json() == customer
    assert (customer["name"], customer["kind"], customer["terms"]["days"]) == ("Mairie de Lyon", "public", 60)
    assert customer["credit_limit"] == {"minor": 500000, "currency": "EUR", "formatted": "5000.00 EUR"}

    r = client.put(f"{path}/credit-limit", json={"credit_limit_minor": 800000})
    assert ok(r)["credit_limit"]["minor"] == 800000
    assert r.headers["etag"] == '"2"'
    assert ok(client.put(f"{path}/credit-limit", json={"credit_limit_minor": None}))["credit_limit"] is None
    assert ok(client.get(path))["credit_limit"] is None
    assert event_types(client, path) == ["Registered", "CreditLimitChanged", "CreditLimitChanged"]
