from __future__ import annotations

from fastapi.testclient import TestClient


def test_issue_then_read_invoice(client: TestClient) -> None:
    c = client.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional"})
    assert c.status_code == 201, c.text
    body = {"customer_id": c.json()["id"], "series": "F2026", "total_minor": 120000,
            "vat": [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}]}
    r = client.post("/v1/invoices", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["number"] == "F2026-000001"
    assert r.json()["due_on"] == "2026-04-01"
    got = client.get(f"/v1/invoices/{r.json()['id']}")
    assert got.headers["etag"] == '"1"'
    assert got.json()["open_amount"]["minor"] == 120000
