"""Dunning through HTTP: policies, the sweep, an invoice's timeline and penalties, its controls, the ops tasks and
the simulated clock. On SQLite and PostgreSQL.

The clock fixture stands at Monday 2026-03-02; invoices here fall due on Tuesday 2026-03-31.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient
from tests.support.api import AUTH_HEADERS, CheckProblem, EventHead, IssueInvoice, Json, RegisterCustomer, created, ok

from ar.adapters.clocks import SettableClock
from ar.api.app import create_app
from ar.config import Settings
from ar.runtime import build

DUE = "2026-03-31"


def step(key: str, offset_days: int, kind: str = "reminder", channel: str = "email", **flags: bool) -> Json:
    return {"key": key, "offset_days": offset_days, "kind": kind, "channel": channel, "template": key, **flags}


STEPS = [step("reminder-1", 1), step("reminder-2", 10), step("reminder-3", 20),
         step("formal-notice", 30, "formal_notice", "letter", states_penalties=True, claims_penalties=True),
         step("handoff", 45, "handoff", "phone")]


def move_to(clock: SettableClock, day: str) -> None:
    clock.set(datetime.fromisoformat(f"{day}T09:00:00+00:00"))


def sweep(client: TestClient) -> tuple[Json, str]:
    r = client.post("/v1/dunning/sweep")
    return ok(r), r.headers["ar-position"]


def event_types(client: TestClient, invoice_id: str) -> list[str]:
    return [e["type"] for e in ok(client.get(f"/v1/invoices/{invoice_id}/events"))]


def customer_on_policy(client: TestClient, register_customer: RegisterCustomer, steps: list[Json]) -> Json:
    """A professional customer with its own policy of `steps`."""
    policy = created(client.post("/v1/dunning/policies", json={"name": "Key accounts", "steps": steps}))
    customer = register_customer()
    ok(client.put(f"/v1/customers/{customer['id']}/dunning-policy", json={"policy_id": policy["id"]}))
    return customer


def test_a_formal_notice_needs_three_reminders_before_it(
    client: TestClient, problem: CheckProblem, event_head: EventHead,
) -> None:
    head = event_head()
    body = problem(client.post("/v1/dunning/policies", json={"name": "Too quick", "steps": [
        step("reminder-1", 7), step("reminder-2", 14), step("formal-notice", 21, "formal_notice", "letter")]}),
        422, field="steps[2].kind", rule="rule-violation")
    assert (body["reminders_before"], body["required"]) == (2, 3)
    problem(client.post("/v1/dunning/policies", json={"name": "Backwards", "steps": [
        step("reminder-1", 7), step("reminder-2", 7)]}), 422, field="steps[1].offset_days")
    problem(client.post("/v1/dunning/policies", json={"name": "Bad", "steps": [step("x", 7, "nagging")]}), 422,
            field="steps[0].kind", rule="invalid-request")
    assert event_head() == head


def test_a_policy_is_created_revised_under_if_match_and_archived(
    client: TestClient, register_customer: RegisterCustomer, problem: CheckProblem,
) -> None:
    body = {"name": "Key accounts", "steps": STEPS, "notice_deadline_days": 15}
    r = client.post("/v1/dunning/policies", json=body, headers={"Idempotency-Key": "policy-1"})
    policy = created(r)
    assert (r.headers["etag"], policy["version"], policy["archived"], policy["default_for"]) == ('"1"', 1, False, None)
    assert int(r.headers["ar-position"]) > 0
    assert [s["key"] for s in policy["steps"]] == [s["key"] for s in STEPS]
    assert (policy["notice_deadline_days"], policy["remind_undisputed"]) == (15, True)
    assert created(client.post("/v1/dunning/policies", json=body,
                               headers={"Idempotency-Key": "policy-1"}))["id"] == policy["id"]
    path = f"/v1/dunning/policies/{policy['id']}"
    assert client.get(path).headers["etag"] == '"1"'

    listed = ok(client.get("/v1/dunning/policies"))
    assert {p["default_for"] for p in listed[:3]} == {"professional", "public", "individual"}
    assert len(listed) == 4
    assert listed[3] == policy

    revised_body = {**body, "name": "Key accounts 2026", "steps": STEPS[:4]}
    r = client.put(path, json=revised_body, headers={"If-Match": '"1"'})
    revised = ok(r)
    assert (r.headers["etag"], revised["version"], revised["name"], len(revised["steps"])) == (
        '"2"', 2, "Key accounts 2026", 4)
    problem(client.put(path, json=body, headers={"If-Match": '"1"'}), 412, field="If-Match",
            rule="precondition-failed")
    problem(client.put(path, json={**body, "steps": STEPS[3:]}, headers={"If-Match": '"2"'}), 422,
            field="steps[0].kind")
    assert ok(client.get(path))["version"] == 2

    r = client.delete(path, headers={"If-Match": '"2"'})
    archived = ok(r)
    assert (r.headers["etag"], archived["archived"], archived["version"]) == ('"3"', True, 3)
    assert policy["id"] not in [p["id"] for p in ok(client.get("/v1/dunning/policies"))]
    assert policy["id"] in [p["id"] for p in ok(client.get("/v1/dunning/policies",
                                                           params={"include_archived": "true"}))]

    customer = register_customer()
    problem(client.put(f"/v1/customers/{customer['id']}/dunning-policy", json={"policy_id": policy["id"]}), 422,
            field="policy_id")
    problem(client.delete(f"/v1/dunning/policies/{listed[0]['id']}"), 422, field="policy_id")
    problem(client.get(f"/v1/dunning/policies/{customer['id']}"), 404)


def test_assigning_a_policy_to_a_customer_and_back_to_the_default(
    client: TestClient, register_customer: RegisterCustomer, problem: CheckProblem,
) -> None:
    policy = created(client.post("/v1/dunning/policies", json={"name": "Key accounts", "steps": STEPS}))
    customer = register_customer()
    path = f"/v1/customers/{customer['id']}/dunning-policy"

    r = client.put(path, json={"policy_id": policy["id"]}, headers={"If-Match": '"1"'})
    assigned = ok(r)
    assert (r.headers["etag"], assigned["version"], assigned["policy_id"]) == ('"2"', 2, policy["id"])
    assert assigned["policy"] == policy
    problem(client.put(path, json={"policy_id": None}, headers={"If-Match": '"1"'}), 412)

    back = ok(client.put(path, json={"policy_id": None}))
    assert (back["policy_id"], back["policy"]["default_for"]) == (None, "professional")
    problem(client.put(path, json={}), 422, field="policy_id")
    problem(client.put(f"/v1/customers/{policy['id']}/dunning-policy", json={"policy_id": None}), 404)


def test_a_swept_step_shows_on_the_timeline_and_the_agenda(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, clock: SettableClock,
) -> None:
    customer = customer_on_policy(client, register_customer, STEPS)
    invoice = created(issue_invoice(customer["id"], due_on=DUE))
    path = f"/v1/invoices/{invoice['id']}/dunning"

    before = ok(client.get(path))
    assert (before["state"], before["steps"], before["next"]["on"]) == ("active", [], "2026-04-01")
    assert before["next"]["step"]["key"] == "reminder-1"
    assert [p["key"] for p in before["planned"]] == [s["key"] for s in STEPS]

    move_to(clock, "2026-04-01")
    report, position = sweep(client)
    assert (report["today"], report["customers"], report["reminders"], report["invoices"]) == (
        "2026-04-01", 1, 1, 1)
    assert report["failures"] == {}

    r = client.get(path)
    timeline = ok(r)
    assert r.headers["etag"] == f'"{timeline["version"]}"' == '"2"'
    [taken] = timeline["steps"]
    assert (taken["key"], taken["kind"], taken["channel"], taken["on"]) == ("reminder-1", "reminder", "email",
                                                                          "2026-04-01")
    assert (taken["template"], taken["delivery"], taken["task"]) == ("reminder-1", "pending", None)
    assert taken["reminder_id"]
    assert (timeline["state"], timeline["next"]["step"]["key"], timeline["next"]["on"]) == (
        "active", "reminder-2", "2026-04-10")
    assert [(p["key"], p["on"]) for p in timeline["planned"]] == [
        ("reminder-2", "2026-04-10"), ("reminder-3", "2026-04-20"), ("formal-notice", "2026-04-30"),
        ("handoff", "2026-05-15")]
    assert (timeline["policy_name"], timeline["open_minor"], timeline["penalties_claimed"]) == (
        "Key accounts", 120000, [])
    assert event_types(client, invoice["id"]) == ["Issued", "DunningStepTaken"]

    agenda = ok(client.get("/v1/dunning/agenda", params={"min_position": position}))
    assert agenda["until"] == "2026-05-01"
    [row] = agenda["items"]
    assert (row["invoice_id"], row["number"], row["customer_name"], row["next_on"], row["next_step"]) == (
        invoice["id"], invoice["number"], "Boulangerie Martin SARL", "2026-04-10", "reminder-2")
    assert (row["state"], row["steps_taken"], row["next_kind"], row["next_channel"]) == (
        "active", 1, "reminder", "email")
    assert ok(client.get("/v1/dunning/agenda", params={"until": "2026-04-09"}))["items"] == []
    assert ok(client.get("/v1/dunning/agenda", params={"customer_id": invoice["id"]}))["items"] == []

    again, _ = sweep(client)
    assert again["reminders"] == 0
    assert event_types(client, invoice["id"]) == ["Issued", "DunningStepTaken"]

    for day in ("2026-04-10", "2026-04-20", "2026-04-30"):
        move_to(clock, day)
        assert sweep(client)[0]["reminders"] == 1
    timeline = ok(client.get(path))
    assert [(s["key"], s["on"], s["channel"]) for s in timeline["steps"]][1:] == [
        ("reminder-2", "2026-04-10", "email"), ("reminder-3", "2026-04-20", "email"),
        ("formal-notice", "2026-04-30", "letter")]
    # 1,200.00 x 12.15% x 30/365 = 11.98, and the EUR 40 indemnity, claimed by the formal notice
    [claim] = timeline["penalties_claimed"]
    assert (claim["reminder_id"], claim["as_of"], claim["interest_minor"], claim["indemnity_minor"]) == (
        timeline["steps"][3]["reminder_id"], "2026-04-30", 1198, 4000)
    assert [(p["key"], p["on"]) for p in timeline["planned"]] == [("handoff", "2026-05-15")]


def test_penalties_of_a_professional_debt_are_computed_and_explained(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    customer = register_customer(kind="professional")
    invoice = created(issue_invoice(customer["id"], 1_000_000, due_on=DUE,
                                    vat=[{"rate": "20", "base_minor": 833333, "vat_minor": 166667}]))

    penalty = ok(client.get(f"/v1/invoices/{invoice['id']}/penalties", params={"until": "2026-05-15"}))
    # 10,000.00 x (ECB 2.15% + 10 points) x 45/365 = 149.79, plus the EUR 40 indemnity
    assert (penalty["interest_minor"], penalty["indemnity_minor"], penalty["total_minor"]) == (14979, 4000, 18979)
    assert (penalty["regime"], penalty["currency"], penalty["as_of"]) == ("professional", "EUR", "2026-05-15")
    assert penalty["lines"] == [{"start": "2026-04-01", "end": "2026-05-15", "days": 45, "base_minor": 1_000_000,
                                 "rate": "12.15", "amount_minor": 14979}]
    assert "x 12.15% x 45/365 = 149.79" in penalty["explain"]
    assert penalty["source"].startswith("Code de commerce L441-10")

    on_time = ok(client.get(f"/v1/invoices/{invoice['id']}/penalties", params={"until": DUE}))
    assert (on_time["lines"], on_time["total_minor"]) == ([], 0)
    problem(client.get(f"/v1/invoices/{customer['id']}/penalties"), 404, field="invoice_id")


def test_a_promise_to_pay_retried_with_its_key_is_recorded_once(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
) -> None:
    invoice = created(issue_invoice(register_customer()["id"], due_on=DUE))
    path = f"/v1/invoices/{invoice['id']}/promise-to-pay"
    body = {"promised_on": "2026-04-15", "amount_minor": 60000}

    r = client.post(path, json=body, headers={"Idempotency-Key": "promise-1"})
    promised = created(r)
    assert r.headers["etag"] == '"2"'
    assert (promised["state"], promised["next"]) == ("promised", {"on": "2026-04-16", "step": None})
    assert (promised["promise"]["promised_on"], promised["promise"]["amount_minor"]) == ("2026-04-15", 60000)
    again = client.post(path, json=body, headers={"Idempotency-Key": "promise-1"})
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json() == promised
    assert event_types(client, invoice["id"]) == ["Issued", "PaymentPromised"]

    problem(client.post(path, json={"promised_on": "2026-03-01"}), 422, field="promised_on")
    problem(client.post(path, json={"promised_on": "2026-04-20", "amount_minor": 120001}), 422,
            field="amount_minor")
    problem(client.post(path, json=body, headers={"If-Match": '"1"'}), 412)


def test_a_paused_invoice_is_not_reminded_until_resumed(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, clock: SettableClock,
    problem: CheckProblem,
) -> None:
    invoice = created(issue_invoice(register_customer()["id"], due_on=DUE))
    path = f"/v1/invoices/{invoice['id']}/dunning"

    r = client.post(f"{path}/pause", json={"reason": "e-invoice status: approved, payment planned"},
                    headers={"If-Match": '"1"'})
    paused = ok(r)
    assert (r.headers["etag"], paused["state"], paused["next"], paused["planned"]) == ('"2"', "paused", None, [])
    assert paused["paused_reason"] == "e-invoice status: approved, payment planned"
    assert ok(client.post(f"{path}/pause", json={"reason": "again"}))["version"] == 2
    problem(client.post(f"{path}/resume", headers={"If-Match": '"1"'}), 412)

    move_to(clock, "2026-04-08")
    report, position = sweep(client)
    assert (report["reminders"], report["invoices"]) == (0, 0)
    assert ok(client.get(path))["steps"] == []
    assert ok(client.get("/v1/dunning/agenda", params={"min_position": position}))["items"] == []

    resumed = ok(client.post(f"{path}/resume"))
    assert (resumed["state"], resumed["paused_reason"], resumed["version"]) == ("active", None, 3)
    assert resumed["next"] is not None
    assert event_types(client, invoice["id"]) == ["Issued", "DunningPaused", "DunningResumed"]


def test_opting_out_needs_a_reason(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, problem: CheckProblem,
    event_head: EventHead,
) -> None:
    invoice = created(issue_invoice(register_customer()["id"], due_on=DUE))
    path = f"/v1/invoices/{invoice['id']}/dunning"
    head = event_head()

    problem(client.post(f"{path}/opt-out", json={}), 422, field="reason", rule="invalid-request")
    problem(client.post(f"{path}/opt-out", json={"reason": "   "}), 422, field="reason", rule="rule-violation")
    problem(client.post(f"{path}/pause", json={"reason": ""}), 422, field="reason")
    assert event_head() == head

    out = ok(client.post(f"{path}/opt-out", json={"reason": "settlement plan agreed with the lawyer"}))
    assert (out["state"], out["opted_out_reason"], out["next"]) == (
        "opted_out", "settlement plan agreed with the lawyer", None)
    back = ok(client.post(f"{path}/opt-in"))
    assert (back["state"], back["opted_out_reason"]) == ("active", None)
    problem(client.post(f"/v1/invoices/{register_customer()['id']}/dunning/opt-in"), 404)


def test_a_phone_step_is_an_ops_task_closed_with_its_outcome(
    client: TestClient, register_customer: RegisterCustomer, issue_invoice: IssueInvoice, clock: SettableClock,
    problem: CheckProblem,
) -> None:
    customer = customer_on_policy(client, register_customer, [step("call", 1, channel="phone"),
                                                               step("reminder-1", 10)])
    invoice = created(issue_invoice(customer["id"], due_on=DUE))
    move_to(clock, "2026-04-01")
    _, position = sweep(client)

    [task] = ok(client.get("/v1/tasks", params={"state": "open", "min_position": position}))
    assert (task["customer_id"], task["kind"], task["step_key"], task["due_on"], task["state"]) == (
        customer["id"], "call", "call", "2026-04-01", "open")
    assert task["summary"] == f"Boulangerie Martin SARL: {invoice['number']} (call)"
    [taken] = ok(client.get(f"/v1/invoices/{invoice['id']}/dunning"))["steps"]
    assert (taken["reminder_id"], taken["channel"], taken["task"], taken["delivery"]) == (
        task["id"], "phone", "open", None)

    problem(client.post(f"/v1/tasks/{task['id']}/done", json={"outcome": "promised Friday"}), 422, field="by")
    problem(client.post(f"/v1/tasks/{task['id']}/done", json={"outcome": "x", "by": "marie"},
                        headers={"If-Match": '"2"'}), 412)
    r = client.post(f"/v1/tasks/{task['id']}/done", json={"outcome": "promised Friday", "by": "marie"},
                    headers={"If-Match": '"1"'})
    done = ok(r)
    assert r.headers["etag"] == '"2"'
    assert {k: v for k, v in done.items() if k not in ("state", "outcome", "done_by", "done_at")} == {
        k: v for k, v in task.items() if k not in ("state", "outcome", "done_by", "done_at")}
    assert (done["state"], done["outcome"], done["done_by"]) == ("done", "promised Friday", "marie")
    assert ok(client.post(f"/v1/tasks/{task['id']}/done", json={"outcome": "other", "by": "paul"}))["outcome"] == (
        "promised Friday")

    position = client.get("/readyz").json()["event_store_head"]
    assert ok(client.get("/v1/tasks", params={"state": "open", "min_position": position})) == []
    [listed] = ok(client.get("/v1/tasks", params={"state": "done"}))
    assert (listed["id"], listed["outcome"], listed["done_by"]) == (task["id"], "promised Friday", "marie")
    assert ok(client.get(f"/v1/invoices/{invoice['id']}/dunning"))["steps"][0]["task"] == "done"
    problem(client.post(f"/v1/tasks/{invoice['id']}/done", json={"outcome": "x", "by": "y"}), 404)


def test_the_admin_clock_exists_only_when_simulated(
    client: TestClient, settings: Settings, problem: CheckProblem,
) -> None:
    problem(client.get("/v1/admin/clock"), 404)
    problem(client.post("/v1/admin/clock", json={"advance_days": 1}), 404)
    assert not any(p.startswith("/v1/admin") for p in client.get("/openapi.json").json()["paths"])

    runtime = build(settings.model_copy(update={"simulated_clock": True}),
                    SettableClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
    try:
        with TestClient(create_app(runtime=runtime), headers=AUTH_HEADERS) as simulated:
            assert ok(simulated.get("/v1/admin/clock")) == {"now": "2026-03-02T09:00:00Z", "today": "2026-03-02"}
            moved = ok(simulated.post("/v1/admin/clock", json={"advance_days": 30}))
            assert moved == {"now": "2026-04-01T09:00:00Z", "today": "2026-04-01"}
            assert runtime.clock.today().isoformat() == "2026-04-01"
            at = ok(simulated.post("/v1/admin/clock", json={"now": "2026-04-02T08:00:00+02:00"}))
            assert at == {"now": "2026-04-02T06:00:00Z", "today": "2026-04-02"}
            problem(simulated.post("/v1/admin/clock", json={"now": "2026-03-01T00:00:00Z"}), 422, field="now")
            problem(simulated.post("/v1/admin/clock", json={"now": "2026-05-01T00:00:00"}), 422, field="now")
            problem(simulated.post("/v1/admin/clock", json={}), 422)
            problem(simulated.post("/v1/admin/clock", json={"advance_days": -1}), 422, field="advance_days")
            assert ok(simulated.post("/v1/dunning/sweep"))["today"] == "2026-04-02"
            assert "/v1/admin/clock" in simulated.get("/openapi.json").json()["paths"]
    finally:
        runtime.close()


def test_a_simulation_replays_history_under_a_proposed_policy_and_writes_nothing(
    client: TestClient, clock: SettableClock, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    event_head: EventHead, problem: CheckProblem,
) -> None:
    customer = register_customer()
    invoice = created(issue_invoice(customer["id"], 1_200_000, due_on=DUE))
    move_to(clock, "2026-06-30")
    head = event_head()
    proposed = {"name": "Tighter", "steps": STEPS}
    body = ok(client.post("/v1/dunning/simulate", json={
        "policy": proposed, "from": "2026-03-02", "to": "2026-06-30", "customer_ids": [customer["id"]]}))
    assert [(r["run_on"], r["template"]) for r in body["reminders"]] == [
        ("2026-04-01", "reminder-1"), ("2026-04-10", "reminder-2"), ("2026-04-20", "reminder-3"),
        ("2026-04-30", "formal-notice"), ("2026-05-15", "handoff")]
    assert body["formal_notices"] == 1 and body["invoices"] == 1
    assert body["reminders"][0]["lines"][0]["number"] == invoice["number"]
    # 12,000.00 x 12.15% x 30/365 = 119.84, plus the EUR 40 indemnity, claimed by the formal notice on 30 April
    assert body["penalties_claimed"] == [{"currency": "EUR", "amount_minor": 11984 + 4000}]
    assert event_head() == head
    problem(client.post("/v1/dunning/simulate", json={
        "policy": {"name": "x", "steps": [step("nope", 3)]}, "from": "2026-03-02", "to": "2026-06-30"}),
        422, field="policy.steps[0].template")


def test_a_statement_shows_the_penalties_of_invoices_paid_late_and_still_owed(
    client: TestClient, clock: SettableClock, register_customer: RegisterCustomer, issue_invoice: IssueInvoice,
    record_payment: Callable[..., httpx.Response],
) -> None:
    customer = register_customer()
    paid_late = created(issue_invoice(customer["id"], 1_200_000, due_on=DUE))
    on_time = created(issue_invoice(customer["id"], 120_000, due_on="2026-06-30",
                                    due_on_derogation="120 days agreed in the framework contract"))
    move_to(clock, "2026-05-15")
    paid = record_payment(1_200_000, customer_id=customer["id"], allocations=[(paid_late["id"], 1_200_000)],
                          method="transfer", value_on="2026-05-15")
    created(paid)
    move_to(clock, "2026-05-31")
    url = (f"/v1/customers/{customer['id']}/statement?from=2026-03-01&to=2026-05-31"
           f"&min_position={paid.headers['ar-position']}")
    body = ok(client.get(url))
    # the principal is paid, the interest for 45 days late is still owed: 12,000.00 x 12.15% x 45/365 = 179.75
    assert [(p["number"], p["interest_minor"], p["indemnity_minor"], p["claimed"]) for p in body["penalties"]] == [
        (paid_late["number"], 17975, 4000, False)]
    assert on_time["number"] not in {p["number"] for p in body["penalties"]}
    assert ok(client.get(url + "&penalties=false"))["penalties"] == []
    pdf = client.get(url + "&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
