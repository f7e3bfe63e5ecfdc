"""The dunning run over time, on SQLite and PostgreSQL: the clock moves day by day and the sweeper runs each day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from tests.integration.conftest import Desk, eur

from ar.adapters.clocks import SettableClock
from ar.domain.clock import BUSINESS_TZ
from ar.domain.reminder import Reminder
from ar.projections.dunning_tables import dunning_agenda, dunning_tasks, reminder_deliveries
from ar.runtime import Runtime

DUE = date(2026, 3, 31)


def move_to(clock: SettableClock, day: date) -> None:
    clock.set(datetime.combine(day, time(9, 0), tzinfo=BUSINESS_TZ))


def sweep_days(runtime: Runtime, clock: SettableClock, until: date) -> list[tuple[date, Reminder]]:
    """Sweep every day up to `until`; the reminders decided, in order, with their day."""
    def reminder_ids() -> list[Any]:
        runtime.projections.catch_up()
        with runtime.engine.connect() as conn:
            return list(conn.scalars(sa.select(reminder_deliveries.c.reminder_id).union(
                sa.select(dunning_tasks.c.task_id))))

    decided: list[tuple[date, Reminder]] = []
    seen = set(reminder_ids())
    day = clock.today()
    while day <= until:
        move_to(clock, day)
        runtime.sweeper.sweep()
        new = [i for i in reminder_ids() if i not in seen]
        seen.update(new)
        decided += sorted(((day, runtime.app.get_reminder(i)) for i in new), key=lambda x: x[1].template)
        day += timedelta(days=1)
    return decided


def steps(decided: list[tuple[date, Reminder]]) -> list[tuple[date, str, list[str]]]:
    return [(day, r.template, [line["number"] for line in r.lines]) for day, r in decided]


def test_a_professional_debt_rises_on_schedule_on_business_days_once_each(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000_000, due_on=DUE)
    decided = sweep_days(runtime, clock, date(2026, 6, 15))
    n = invoice.number
    assert steps(decided) == [
        (date(2026, 3, 26), "courtesy", [n]),
        (date(2026, 4, 7), "reminder-1", [n]),  # +7; 6 April is Easter Monday but the 7th is the date anyway
        (date(2026, 4, 21), "reminder-2", [n]),
        (date(2026, 4, 28), "call", [n]),
        (date(2026, 5, 5), "reminder-3", [n]),
        (date(2026, 5, 15), "formal-notice", [n]),
        (date(2026, 6, 1), "handoff", [n]),  # +60 is Saturday 30 May: the next business day
    ]
    notice = decided[5][1]
    assert notice.channel == "letter" and notice.content["notice_deadline_on"] == "2026-05-23"
    penalty = notice.lines[0]["penalty"]
    # 10,000.00 x 12.15% x 45/365 = 149.79, plus the EUR 40 indemnity
    assert (penalty["interest_minor"], penalty["indemnity_minor"]) == (14979, 4000)
    history = [e["type"] for e in runtime.app.history(invoice.id)]
    assert history.count("LatePenaltyClaimed") == 1
    with runtime.engine.connect() as conn:
        row = conn.execute(sa.select(dunning_agenda).where(dunning_agenda.c.invoice_id == invoice.id)).one()
        tasks = conn.execute(sa.select(dunning_tasks.c.kind)).scalars().all()
    assert (row.state, row.next_on) == ("complete", None)
    assert sorted(tasks) == ["call", "handoff"]


def test_one_consolidated_reminder_per_customer_and_a_rerun_is_a_no_op(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer, other = desk.customer(name="A SARL"), desk.customer(name="B SAS")
    first = desk.invoice(customer.id, 50_000, due_on=DUE)
    second = desk.invoice(customer.id, 70_000, due_on=DUE - timedelta(days=3))
    theirs = desk.invoice(other.id, 10_000, due_on=DUE)
    move_to(clock, date(2026, 4, 7))
    report = runtime.sweeper.sweep()
    assert (report.customers, report.reminders, report.invoices) == (2, 2, 3)
    again = runtime.sweeper.sweep()
    assert again.reminders == 0
    run = runtime.app.run_dunning(customer.id, [first.id, second.id])
    assert run.reminders == [] and run.position is None
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.select(reminder_deliveries.c.reminder_id, reminder_deliveries.c.customer_id)).all()
    mine = [runtime.app.get_reminder(r.reminder_id) for r in rows if r.customer_id == customer.id]
    assert len(mine) == 1
    assert [line["number"] for line in mine[0].lines] == [second.number, first.number]  # oldest due first
    assert mine[0].content["totals"][0]["remindable_minor"] == 120_000
    assert theirs.id not in {line["invoice_id"] for line in mine[0].lines}


def test_a_partial_payment_re_anchors_and_the_rest_is_still_reminded(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 100_000, due_on=DUE)
    sweep_days(runtime, clock, date(2026, 4, 7))  # courtesy, reminder-1
    move_to(clock, date(2026, 4, 15))
    desk.payment(customer.id, 40_000, allocations=[(invoice.id, 40_000)])
    decided = sweep_days(runtime, clock, date(2026, 5, 10))
    # reminder-2 was due on 21 April; re-anchored: 14 days (its gap after reminder-1) from the payment on 15 April
    assert steps(decided)[0] == (date(2026, 4, 29), "reminder-2", [invoice.number])
    assert decided[0][1].lines[0]["remindable_minor"] == 60_000
    move_to(clock, date(2026, 5, 11))
    desk.payment(customer.id, 60_000, allocations=[(invoice.id, 60_000)])
    assert sweep_days(runtime, clock, date(2026, 7, 1)) == []  # paid in full: stopped


def test_a_dispute_pauses_and_its_resolution_resumes(runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 100_000, due_on=DUE)
    dispute = uuid4()
    move_to(clock, date(2026, 4, 1))
    runtime.app.open_dispute(invoice.id, dispute_id=dispute, amount=None, reason="goods damaged")
    assert sweep_days(runtime, clock, date(2026, 5, 31)) == []
    runtime.app.resolve_dispute(invoice.id, dispute_id=dispute, outcome="rejected")
    decided = sweep_days(runtime, clock, date(2026, 6, 10))
    # the courtesy note's moment has passed (skipped); reminder-1 comes 7 days after the resolution
    assert steps(decided) == [(date(2026, 6, 8), "reminder-1", [invoice.number])]


def test_the_undisputed_part_is_still_reminded(runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 100_000, due_on=DUE)
    move_to(clock, date(2026, 4, 1))
    runtime.app.open_dispute(invoice.id, dispute_id=uuid4(), amount=eur(30_000), reason="one item missing")
    decided = sweep_days(runtime, clock, date(2026, 4, 8))
    assert steps(decided) == [(date(2026, 4, 7), "reminder-1", [invoice.number])]
    assert decided[0][1].lines[0]["remindable_minor"] == 70_000


def test_a_broken_promise_resumes_one_step_firmer(runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 100_000, due_on=DUE)
    sweep_days(runtime, clock, date(2026, 4, 8))  # courtesy, reminder-1
    runtime.app.promise_payment(invoice.id, promise_id=uuid4(), promised_on=date(2026, 5, 4), amount=None)
    decided = sweep_days(runtime, clock, date(2026, 5, 6))
    # reminder-2 (due 21 April) waited for the promise; on 5 May the promise is broken and it goes out at once
    assert steps(decided) == [(date(2026, 5, 5), "reminder-2", [invoice.number])]
    assert "PromiseBroken" in [e["type"] for e in runtime.app.history(invoice.id)]


def test_a_kept_promise_stops_the_reminders(runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 100_000, due_on=DUE)
    move_to(clock, date(2026, 4, 2))
    runtime.app.promise_payment(invoice.id, promise_id=uuid4(), promised_on=date(2026, 4, 20), amount=None)
    move_to(clock, date(2026, 4, 17))
    desk.payment(customer.id, 100_000, allocations=[(invoice.id, 100_000)])
    assert sweep_days(runtime, clock, date(2026, 6, 1)) == []


def test_two_sweepers_racing_decide_each_reminder_once(
        runtime: Runtime, second_runtime: Runtime, desk: Desk, clock: SettableClock, race: Any) -> None:
    customers = [desk.customer(name=f"Client {n}") for n in range(6)]
    for c in customers:
        desk.invoice(c.id, 10_000, due_on=DUE)
        desk.invoice(c.id, 20_000, due_on=DUE)
    move_to(clock, date(2026, 4, 7))
    reports: list[Any] = []
    outcomes = race(lambda: reports.append(runtime.sweeper.sweep()),
                    lambda: reports.append(second_runtime.sweeper.sweep()))
    assert outcomes == [None, None]
    runtime.projections.catch_up()
    with runtime.engine.connect() as conn:
        ids = conn.scalars(sa.select(reminder_deliveries.c.reminder_id)).all()
    assert len(ids) == len(customers)
    lines = [line["invoice_id"] for i in ids for line in runtime.app.get_reminder(i).lines]
    assert len(lines) == len(set(lines)) == 12


def test_a_simulation_replays_history_under_another_policy_and_writes_nothing(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    from ar.application.dunning import default_rules
    from ar.domain.dunning_policy import PolicyRules, Step
    from ar.domain.terms import CustomerKind

    customer = desk.customer()
    paid = desk.invoice(customer.id, 100_000, due_on=DUE)
    unpaid = desk.invoice(customer.id, 50_000, due_on=DUE)
    move_to(clock, date(2026, 4, 10))
    desk.payment(customer.id, 100_000, allocations=[(paid.id, 100_000)])
    move_to(clock, date(2026, 7, 1))
    head = runtime.projections.head()
    _, rules = default_rules()[CustomerKind.PROFESSIONAL]
    stricter = PolicyRules(steps=tuple(s if s.key != "reminder-1" else Step.from_dict({**s.to_dict(), "offset_days": 2})
                                       for s in rules.steps))
    result = runtime.app.simulate_dunning(rules=stricter, from_on=date(2026, 3, 2), to_on=date(2026, 6, 15),
                                          customer_ids=[customer.id])
    sent = [(r["run_on"], r["template"], [line["number"] for line in r["lines"]]) for r in result.reminders]
    both = [unpaid.number, paid.number] if unpaid.number < paid.number else [paid.number, unpaid.number]
    assert sent[:2] == [(date(2026, 3, 26), "courtesy", both), (date(2026, 4, 2), "reminder-1", both)]
    assert all(paid.number not in numbers for day, _, numbers in sent if day > date(2026, 4, 10))
    assert [t for _, t, _ in sent] == ["courtesy", "reminder-1", "reminder-2", "call", "reminder-3",
                                       "formal-notice", "handoff"]
    assert result.penalties_claimed["EUR"] > 4000
    assert runtime.projections.head() == head  # nothing written


def test_a_rebuilt_dunning_projection_equals_the_incremental_one(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    customer = desk.customer()
    first, second = desk.invoice(customer.id, 100_000, due_on=DUE), desk.invoice(customer.id, 30_000, due_on=DUE)
    move_to(clock, date(2026, 4, 2))
    runtime.app.promise_payment(second.id, promise_id=uuid4(), promised_on=date(2026, 4, 20), amount=None)
    sweep_days(runtime, clock, date(2026, 5, 20))
    desk.payment(customer.id, 50_000, allocations=[(first.id, 50_000)])
    runtime.projections.catch_up()
    tables = (dunning_agenda, dunning_tasks, reminder_deliveries)

    def rows() -> dict[str, list[Any]]:
        with runtime.engine.connect() as conn:
            return {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t))) for t in tables}

    before = rows()
    assert before["dunning_tasks"] and before["reminder_deliveries"]
    runtime.projections.rebuild("dunning")
    assert rows() == before
