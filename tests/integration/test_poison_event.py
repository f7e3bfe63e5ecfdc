"""A poison event (one a projection cannot apply) stops only that projection, exactly at that event, visibly, with a
back-off; a restart with the fix catches up from there and ends equal to a rebuild. On SQLite and PostgreSQL.

The hook is test-only: a wrapper around the real customers projection that fails on one customer's registration
after applying the events before it in the same batch (as the customers projection failed on PostgreSQL on a name
holding NUL), so the batch must roll back whole and the runner must find the event at fault on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.support.api import AUTH_HEADERS

from ar.adapters.clocks import SettableClock
from ar.api.app import create_app
from ar.domain.clock import BUSINESS_TZ
from ar.domain.customer import Customer
from ar.projections.customers import CustomersProjection
from ar.projections.projection import Projection
from ar.projections.tables import customers, projection_positions
from ar.runtime import Runtime, build

POISON_NAME = "Poison SARL"


class CannotApply(Exception):
    pass


class Poisoned:
    """The real projection, except that it cannot apply the registration of a customer named POISON_NAME."""

    def __init__(self, inner: Projection) -> None:
        self.inner, self.name = inner, inner.name
        self.topics = getattr(inner, "topics", ())

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        for n, (_, event) in enumerate(events):
            if isinstance(event, Customer.Registered) and event.name == POISON_NAME:  # type: ignore[attr-defined]
                self.inner.apply(conn, events[:n])  # written, then rolled back with the batch
                raise CannotApply(f"cannot store the name of customer {event.originator_id}\x00")
        self.inner.apply(conn, events)

    def reset(self, conn: sa.Connection) -> None:
        self.inner.reset(conn)


class Clock:
    """The runner's monotonic clock, moved by hand to pass a back-off."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def poisoned(runtime: Runtime) -> Runtime:
    runner = runtime.projections
    runner.projections = [Poisoned(p) if isinstance(p, CustomersProjection) else p for p in runner.projections]
    return runtime


@pytest.fixture
def fixed(second_runtime: Runtime) -> Runtime:
    """The process restarted with the fix: a new runtime over the same databases, without the fault."""
    return second_runtime


def history(desk: Any) -> tuple[UUID, UUID, int]:
    """Two good customers, the poison between them, invoices on either side. Returns (good, poison id, position
    of the poison event)."""
    good = desk.customer(name="Avant SARL")
    desk.invoice(good.id, 12_000)
    poison = desk.customer(name=POISON_NAME)
    runtime_head = desk.app.recorder.max_notification_id()
    after = desk.customer(name="Après SARL")
    desk.invoice(after.id, 24_000)
    desk.invoice(poison.id, 6_000)
    return good.id, poison.id, int(runtime_head)


def names(runtime: Runtime) -> set[str]:
    with runtime.engine.connect() as conn:
        return set(conn.scalars(sa.select(customers.c.name)))


def table_rows(runtime: Runtime, table: sa.Table) -> list[dict[str, Any]]:
    with runtime.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()]


def test_a_poison_event_stops_only_its_projection_just_before_that_event(poisoned: Runtime, desk: Any) -> None:
    runner = poisoned.projections
    _, poison_id, poison_at = history(desk)

    runner.catch_up()

    head = runner.head()
    status = {s.name: s for s in runner.status()}
    assert status["receivables"].position == head and status["dunning"].position == head
    assert status["receivables"].stall is None and status["dunning"].stall is None
    stuck = status["customers"]
    assert stuck.position == poison_at - 1  # every event before the poison applied, none after
    assert names(poisoned) >= {"Avant SARL"} and not names(poisoned) & {POISON_NAME, "Après SARL"}
    stall = stuck.stall
    assert stall is not None and stall.position == poison_at and stall.attempts == 1
    assert stall.event is not None and stall.event.originator_id == poison_id
    assert stall.event.originator_version == 1 and stall.event.topic.endswith("Customer.Registered")
    assert stall.error.startswith("CannotApply: cannot store the name") and "\x00" not in stall.error
    assert stall.next_retry_at > stall.first_failed_at


def test_reminders_go_out_while_the_customers_projection_is_stuck(poisoned: Runtime, desk: Any,
                                                                  clock: SettableClock) -> None:
    desk.customer(name=POISON_NAME)
    debtor = desk.customer(name="Après SARL")
    desk.invoice(debtor.id, 1_000_000, due_on=date(2026, 3, 31))
    poisoned.projections.catch_up()
    assert [s.name for s in poisoned.projections.stuck()] == ["customers"]

    clock.set(datetime.combine(date(2026, 3, 26), datetime.min.time(), tzinfo=BUSINESS_TZ).replace(hour=9))
    report = poisoned.sweeper.sweep()  # it catches the read models up first: that must not fail

    assert (report.reminders, report.failures) == (1, {})


def test_a_stuck_projection_backs_off_and_logs_once_per_attempt(poisoned: Runtime, desk: Any,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    runner = poisoned.projections
    runner._monotonic = clock  # the back-off is measured on this clock
    _, _, poison_at = history(desk)
    caplog.set_level(logging.ERROR, logger="ar.projections.runner")

    for _ in range(20):  # the background loop polls every 0.2 s: within the back-off, nothing is retried
        runner.catch_up()
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is not None  # the first one has the traceback
    assert f"stopped at event {poison_at}" in caplog.messages[0] and "attempt 1, next in 1 s" in caplog.messages[0]

    attempts = []
    for wait in (1.0, 2.0, 4.0):
        clock.now += wait - 0.01
        runner.catch_up()
        clock.now += 0.01
        runner.catch_up()
        [stall] = runner.stuck()
        attempts.append(stall.attempts)
    assert attempts == [2, 3, 4]
    assert len(caplog.records) == 4 and "attempt 4, next in 8 s" in caplog.messages[-1]
    assert all(r.exc_info is None for r in caplog.records[1:])
    assert [s.position for s in runner.stuck()] == [poison_at]


@pytest.fixture
def api_process(runtime: Runtime) -> Iterator[Runtime]:
    """An API process beside the worker: same databases, no fault, projections left to the worker."""
    other = build(runtime.settings.model_copy(update={"run_projections": False}), runtime.clock,
                  run_migrations=False)
    try:
        yield other
    finally:
        other.close()


def test_a_projection_stuck_in_one_process_shows_in_another(poisoned: Runtime, desk: Any,
                                                            api_process: Runtime) -> None:
    _, poison_id, poison_at = history(desk)
    poisoned.projections.catch_up()  # the worker process

    with TestClient(create_app(runtime=api_process), headers=AUTH_HEADERS) as api:
        body = api.get("/v1/projections").json()
        ready = api.get("/readyz")
        waiting = api.get("/v1/invoices", params={"min_position": poison_at})
        before = api.get("/v1/invoices", params={"min_position": poison_at - 1})

    customers_row = next(p for p in body["projections"] if p["name"] == "customers")
    assert customers_row["position"] == poison_at - 1
    stuck = customers_row["stuck"]
    assert stuck["failed_position"] == poison_at and stuck["attempts"] == 1
    assert stuck["event"]["originator_id"] == str(poison_id) and stuck["event"]["originator_version"] == 1
    assert stuck["error"].startswith("CannotApply") and stuck["first_failed_at"] and stuck["next_retry_at"]
    assert all(p["stuck"] is None for p in body["projections"] if p["name"] != "customers")

    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "degraded"
    [detail] = ready.json()["details"]["projections"]["stuck"]
    assert (detail["name"], detail["failed_position"]) == ("customers", poison_at)

    assert waiting.status_code == 503 and int(waiting.headers["retry-after"]) >= 1
    assert waiting.headers["content-type"] == "application/problem+json"
    assert "customers read model is stopped at event" in waiting.json()["detail"]
    assert before.status_code == 200  # a position before the poison is readable


def test_reads_waiting_on_a_stuck_projection_answer_503_at_once(poisoned: Runtime, desk: Any) -> None:
    history(desk)
    with TestClient(create_app(runtime=poisoned), headers=AUTH_HEADERS) as api:
        poisoned.projections.catch_up()
        head = poisoned.projections.head()
        started = time.monotonic()
        r = api.get("/v1/aging", params={"min_position": head})
        elapsed = time.monotonic() - started
        still_working = api.post("/v1/customers", json={"name": "Nouveau SARL", "kind": "professional"})
    assert r.status_code == 503 and "retry-after" in r.headers
    assert elapsed < 1.0, f"waited {elapsed:.2f} s for a projection that cannot move"
    assert still_working.status_code == 201, still_working.text


def test_after_the_fix_a_restart_catches_up_from_that_event_and_equals_a_rebuild(
        poisoned: Runtime, desk: Any, fixed: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    _, _, poison_at = history(desk)
    poisoned.projections.catch_up()
    assert [s.position for s in poisoned.projections.stuck()] == [poison_at]
    caplog.set_level(logging.WARNING, logger="ar.projections.runner")
    caplog.clear()

    fixed.projections.catch_up()

    assert caplog.messages == [f"projection customers got past event {poison_at}, where it had stopped"]

    head = fixed.projections.head()
    assert {s.name: (s.position, s.stall) for s in fixed.projections.status()} == {
        "receivables": (head, None), "customers": (head, None), "dunning": (head, None),
        "subscription_outbox": (head, None), "payer_accounts": (head, None)}
    with fixed.engine.connect() as conn:
        assert conn.execute(sa.select(projection_positions.c.failed_position, projection_positions.c.error,
                                      projection_positions.c.attempts)
                            .where(projection_positions.c.failed_position.is_not(None))).all() == []
    assert names(fixed) >= {"Avant SARL", POISON_NAME, "Après SARL"}
    incremental = table_rows(fixed, customers)
    fixed.projections.rebuild("customers")
    assert table_rows(fixed, customers) == incremental


def test_the_failure_columns_of_the_tables_module_match_the_migrated_table(runtime: Runtime) -> None:
    migrated = {c["name"] for c in sa.inspect(runtime.engine).get_columns("projection_positions")}
    assert migrated == {c.name for c in projection_positions.columns}
