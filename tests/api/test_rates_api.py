"""The rates API over HTTP, on SQLite and PostgreSQL: recording a rate at run time, the book with its *to confirm*
marks, the half-years announced before they start (tasks, /readyz), and penalties that wait for a rate (200, partial,
never 422)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, IssueInvoice, RegisterCustomer

from ar.adapters.clocks import SettableClock
from ar.domain.clock import BUSINESS_TZ

ECB_H1_2027 = {"table": "ecb", "half_year": "2027-H1", "value": "2.15",
               "source": "ECB decision of 17 December 2026 (MRO 2.15%)", "recorded_by": "marie@finance"}


def move_to(clock: SettableClock, day: date) -> None:
    clock.set(datetime.combine(day, time(9, 0), tzinfo=BUSINESS_TZ))


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def rates_of(book: dict[str, Any], table: str) -> dict[str, dict[str, Any]]:
    [found] = [t for t in book["tables"] if t["table"] == table]
    return {r["half_year"]: r for r in found["rates"]}


def rate_tasks(client: TestClient, state: str) -> list[dict[str, Any]]:
    return [t for t in ok(client.get("/v1/tasks", params={"state": state})) if t["kind"] == "rate"]


def test_the_rate_book_lists_every_half_year_with_its_source_author_and_to_confirm_mark(client: TestClient) -> None:
    book = ok(client.get("/v1/rates"))
    ecb = rates_of(book, "ecb")
    assert ecb["H1-2026"]["value"] == "2.15" and ecb["H1-2026"]["to_confirm"] is False
    assert ecb["H2-2026"]["value"] == "2.40" and ecb["H2-2026"]["to_confirm"] is True
    assert ecb["H2-2026"]["recorded_by"] == "seed: ar/data/rates.json"
    assert ecb["H2-2026"]["source"].startswith("European Central Bank")
    assert rates_of(book, "legal")["H1-2026"]["value"] == "2.62"
    assert {"ecb:2026-07-01", "eu:DE"} <= set(book["to_confirm"])


def test_a_rate_recorded_then_corrected_keeps_its_history_and_the_latest_wins(client: TestClient) -> None:
    first = client.post("/v1/rates", json={**ECB_H1_2027, "value": "2.40", "to_confirm": True})
    assert ok(first, 201)["to_confirm"] is True
    version = int(first.headers["ETag"].strip('"'))
    again = client.post("/v1/rates", json={**ECB_H1_2027, "value": "2.40", "to_confirm": True})
    assert again.status_code == 200 and again.headers["ETag"] == first.headers["ETag"]  # nothing recorded twice
    corrected = ok(client.post("/v1/rates", json={**ECB_H1_2027, "recorded_by": "paul@finance"}), 201)
    assert (corrected["value"], corrected["recorded_by"], corrected["corrections"]) == ("2.15", "paul@finance", 1)
    book = client.get("/v1/rates")
    assert book.headers["ETag"] == f'"{version + 1}"'
    assert rates_of(book.json(), "ecb")["H1-2027"]["value"] == "2.15"
    assert "ecb:2027-01-01" not in book.json()["to_confirm"]
    history = ok(client.get("/v1/rates/history", params={"table": "ecb"}))
    assert [(h["half_year"], h["value"], h["recorded_by"]) for h in history[-2:]] == [
        ("H1-2027", "2.40", "marie@finance"), ("H1-2027", "2.15", "paul@finance")]


def test_a_rate_is_refused_naming_the_field_and_nothing_is_written(client: TestClient, problem: CheckProblem) -> None:
    head = client.get("/readyz").json()["event_store_head"]
    problem(client.post("/v1/rates", json={**ECB_H1_2027, "half_year": "2027-H3"}), 422, field="half_year")
    problem(client.post("/v1/rates", json={**ECB_H1_2027, "value": 2.15}), 422, field="value")
    problem(client.post("/v1/rates", json={**ECB_H1_2027, "value": "-1"}), 422, field="value")
    problem(client.post("/v1/rates", json={**ECB_H1_2027, "table": "libor"}), 422, field="table")
    problem(client.post("/v1/rates", json={**ECB_H1_2027, "source": "JO\u0000"}), 422, field="source")
    problem(client.post("/v1/rates", json={**ECB_H1_2027, "recorded_by": ""}), 422, field="recorded_by")
    assert client.get("/readyz").json()["event_store_head"] == head


def test_from_30_days_before_h1_2027_its_missing_ecb_rate_is_a_task_and_a_readiness_detail(
        client: TestClient, clock: SettableClock) -> None:
    move_to(clock, date(2026, 12, 1))
    assert "ecb:2027-01-01" not in [t["step_key"] for t in rate_tasks(client, "open")]
    move_to(clock, date(2026, 12, 2))
    [task] = [t for t in rate_tasks(client, "open") if t["step_key"] == "ecb:2027-01-01"]
    assert task["summary"].startswith("record the ECB rate for H1-2027")
    assert (task["due_on"], task["customer_id"], task["state"]) == ("2027-01-01", None, "open")
    ready = ok(client.get("/readyz"))
    assert ready["status"] == "ready"  # a missing rate stops nothing: said, not degraded
    rates = ready["details"]["rates"]
    assert rates["attention"] is True and "ecb:2026-07-01" in rates["to_confirm"]
    assert [m["half_year"] for m in rates["missing"] if m["table"] == "ecb"] == ["H1-2027"]
    assert [m["half_year"] for m in ok(client.get("/v1/rates"))["missing"] if m["table"] == "ecb"] == ["H1-2027"]

    ok(client.post("/v1/rates", json=ECB_H1_2027), 201)
    assert "ecb:2027-01-01" not in [t["step_key"] for t in rate_tasks(client, "open")]
    [done] = [t for t in rate_tasks(client, "done") if t["step_key"] == "ecb:2027-01-01"]
    assert (done["id"], done["done_by"]) == (task["id"], "marie@finance")
    assert "ecb" not in [m["table"] for m in ok(client.get("/readyz"))["details"]["rates"]["missing"]]


def test_penalties_past_the_last_published_rate_answer_200_with_what_is_known(
        client: TestClient, clock: SettableClock, register_customer: RegisterCustomer,
        issue_invoice: IssueInvoice) -> None:
    move_to(clock, date(2026, 11, 20))
    customer = register_customer()
    invoice = ok(issue_invoice(customer["id"], 1_200_000, due_on="2026-12-01"), 201)
    move_to(clock, date(2027, 1, 15))
    url = f"/v1/invoices/{invoice['id']}/penalties"
    partial = ok(client.get(url, params={"until": "2027-02-01"}))
    assert (partial["complete"], partial["known_until"], partial["missing"]) == (False, "2026-12-31",
                                                                                 ["ecb:2027-01-01"])
    assert partial["as_of"] == "2027-02-01"
    assert [line["end"] for line in partial["lines"]] == ["2026-12-31"]
    assert partial["interest_minor"] == 12230  # 12,000.00 x 12.40% x 30/365
    assert "will follow once it is published" in partial["explain"]

    ok(client.post("/v1/rates", json=ECB_H1_2027), 201)
    complete = ok(client.get(url, params={"until": "2027-02-01"}))
    assert (complete["complete"], complete["known_until"], complete["missing"]) == (True, "2027-02-01", [])
    assert [line["rate"] for line in complete["lines"]] == ["12.40", "12.15"]
