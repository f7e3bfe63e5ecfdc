"""Reports over HTTP: aging, statements, KPIs, projection lag, read-your-writes, credit limits."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from ar.adapters.clocks import SettableClock


def _issue(client: TestClient, customer_id: str, total: int, issued_on: str, due_on: str) -> dict[str, object]:
    r = client.post("/v1/invoices", json={
        "customer_id": customer_id, "series": "F2026", "total_minor": total, "issued_on": issued_on,
        "due_on": due_on, "vat": [{"rate": "0", "base_minor": total, "vat_minor": 0}]})
    assert r.status_code == 201, r.text
    return {"position": int(r.headers["ar-position"]), **r.json()}


def test_aging_buckets_add_up_and_follow_the_bands(client: TestClient, register_customer) -> None:
    customer = register_customer()["id"]
    _issue(client, customer, 10_000, "2026-01-01", "2026-01-10")  # 51 days past due on 2026-03-02: 31-60
    _issue(client, customer, 20_000, "2026-02-01", "2026-02-20")  # 10 days: 1-30
    last = _issue(client, customer, 30_000, "2026-03-01", "2026-03-31")  # not due

    r = client.get("/v1/aging", params={"as_of": "2026-03-02", "min_position": last["position"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["bands"] == ["not_due", "1-30", "31-60", "61-90", "over_90"]
    [total] = body["totals"]
    assert total["buckets"] == {"not_due": 30_000, "1-30": 20_000, "31-60": 10_000, "61-90": 0, "over_90": 0}
    assert total["open_minor"] == sum(total["buckets"].values()) == 60_000
    assert body["customers"][0]["customer_id"] == customer
    assert body["customers"][0]["name"] == "Boulangerie Martin SARL"

    custom = client.get("/v1/aging", params={"as_of": "2026-03-02", "bands": "15,45"}).json()
    assert custom["totals"][0]["buckets"] == {"not_due": 30_000, "1-15": 20_000, "16-45": 0, "over_45": 10_000}

    csv = client.get("/v1/aging", params={"as_of": "2026-03-02", "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "600.00" in csv.text

    bad = client.get("/v1/aging", params={"bands": "60,30"})
    assert bad.status_code == 422 and bad.json()["field"] == "bands"


def test_past_aging_keeps_invoices_paid_later_open(client: TestClient, register_customer, clock: SettableClock
                                                   ) -> None:
    customer = register_customer()["id"]
    invoice = _issue(client, customer, 10_000, "2026-02-01", "2026-02-20")
    before = clock.now()
    clock.advance(timedelta(days=10))
    paid = client.post("/v1/payments", json={"customer_id": customer, "amount_minor": 10_000,
                                             "value_on": "2026-02-25",
                                             "allocations": [{"invoice_id": invoice["id"], "amount_minor": 10_000}]})
    assert paid.status_code == 201, paid.text
    position = paid.headers["ar-position"]

    today = client.get("/v1/aging", params={"min_position": position}).json()
    assert today["totals"] == []
    as_of = client.get("/v1/aging", params={"as_of": "2026-02-24"}).json()
    assert as_of["totals"][0]["buckets"]["1-30"] == 10_000
    # on 2026-02-26 the payment (value date 02-25) had taken effect, but we only learned of it on 03-12
    known = client.get("/v1/aging", params={"as_of": "2026-02-26", "known_at": before.isoformat()}).json()
    assert known["totals"][0]["open_minor"] == 10_000
    assert client.get("/v1/aging", params={"as_of": "2026-02-26"}).json()["totals"] == []


def test_statement_runs_from_opening_to_closing_in_json_csv_and_pdf(client: TestClient, register_customer) -> None:
    customer = register_customer(language="fr")["id"]
    _issue(client, customer, 10_000, "2026-01-15", "2026-02-15")
    invoice = _issue(client, customer, 20_000, "2026-02-10", "2026-03-10")
    paid = client.post("/v1/payments", json={"customer_id": customer, "amount_minor": 5_000, "value_on": "2026-02-20",
                                             "allocations": [{"invoice_id": invoice["id"], "amount_minor": 5_000}]})
    params = {"from": "2026-02-01", "to": "2026-02-28", "min_position": paid.headers["ar-position"]}

    st = client.get(f"/v1/customers/{customer}/statement", params=params)
    assert st.status_code == 200, st.text
    [section] = st.json()["sections"]
    assert section["opening_minor"] == 10_000
    assert [(m["kind"], m["debit_minor"], m["credit_minor"], m["balance_minor"]) for m in section["movements"]] == [
        ("invoice", 20_000, 0, 30_000), ("payment", 0, 5_000, 25_000)]
    assert section["closing_minor"] == 25_000
    assert section["aging"]["open_minor"] == 25_000

    csv = client.get(f"/v1/customers/{customer}/statement", params={**params, "format": "csv"})
    assert csv.status_code == 200 and "opening" in csv.text
    pdf = client.get(f"/v1/customers/{customer}/statement", params={**params, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"

    missing = client.get("/v1/customers/00000000-0000-0000-0000-000000000000/statement")
    assert missing.status_code == 404


def test_kpis_report_overdue_and_days_late(client: TestClient, register_customer) -> None:
    customer = register_customer()["id"]
    late = _issue(client, customer, 10_000, "2026-01-05", "2026-01-20")
    _issue(client, customer, 6_000, "2026-01-10", "2026-02-10")  # unpaid, overdue at 03-01
    paid = client.post("/v1/payments", json={"customer_id": customer, "amount_minor": 10_000, "value_on": "2026-01-30",
                                             "allocations": [{"invoice_id": late["id"], "amount_minor": 10_000}]})
    r = client.get("/v1/kpis", params={"from": "2026-01-01", "to": "2026-03-01", "per_customer": "true",
                                       "min_position": paid.headers["ar-position"]})
    assert r.status_code == 200, r.text
    [total] = r.json()["totals"]
    assert total["invoiced_minor"] == 16_000
    assert total["overdue_minor"] == 6_000
    assert total["invoices_settled"] == 1
    assert total["average_days_to_pay"] == "25.00"  # 01-05 -> 01-30
    assert total["average_days_late"] == "10.00"  # due 01-20, paid 01-30
    assert total["unpaid_rate_percent"] == "37.50"  # 6,000 / 16,000
    assert r.json()["customers"][0]["customer_id"] == customer


def test_projections_report_their_position_and_lag(client: TestClient, register_customer) -> None:
    register_customer()
    body = client.get("/v1/projections").json()
    assert body["head"] >= 1
    assert {"receivables", "customers"} <= {p["name"] for p in body["projections"]}
    for p in body["projections"]:
        assert p["position"] + p["lag_events"] == body["head"]


def test_credit_limit_refuses_or_flags_with_the_figures(client: TestClient, register_customer) -> None:
    strict = register_customer(credit_limit_minor=25_000, credit_limit_policy="refuse")["id"]
    _issue(client, strict, 20_000, "2026-03-01", "2026-03-31")
    refused = client.post("/v1/invoices", json={"customer_id": strict, "total_minor": 10_000,
                                                "vat": [{"rate": "0", "base_minor": 10_000, "vat_minor": 0}]})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"].endswith("credit-limit-exceeded")
    assert (body["exposure_minor"], body["credit_limit_minor"], body["excess_minor"]) == (20_000, 25_000, 5_000)

    lenient = register_customer(credit_limit_minor=25_000)["id"]
    _issue(client, lenient, 20_000, "2026-03-01", "2026-03-31")
    flagged = _issue(client, lenient, 10_000, "2026-03-01", "2026-03-31")
    assert flagged["over_credit_limit"] == {"minor": 5_000, "currency": "EUR", "formatted": "50.00 EUR"}
