"""The read side off the request path: saves wake the in-process projections at most once per batch interval, so a
burst of commands is applied in a few batches rather than one catch-up each; a read waiting for a position wakes
them at once; the position rows are created once, with a statement that never fails; `ar serve` keeps few
PostgreSQL connections open."""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from tests.integration.conftest import Desk
from tests.support.api import AUTH_HEADERS
from tests.support.servers import serving_in_thread

from ar.adapters.clocks import SettableClock
from ar.config import EVENT_STORE_MIN_CONNECTIONS, Settings, sized_to_cores
from ar.projections.runner import ProjectionRunner
from ar.projections.tables import invoices, projection_positions
from ar.runtime import Runtime, build

LONG_S = 60.0  # a polling interval no test waits out: a catch-up that comes sooner was woken


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> float:
    """Seconds until `condition()` held; fails past `timeout_s`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "not reached in time"
        time.sleep(0.01)
    return time.monotonic() - started


def caught_up(runner: ProjectionRunner, name: str = "customers") -> Callable[[], bool]:
    """`customers`: no command's lookup advances it, only the loop does."""
    return lambda: runner.position(name) >= runner.head()


def count_passes(runner: ProjectionRunner) -> list[float]:
    """The start times of the loop's catch-ups from now on (set before `start`)."""
    began: list[float] = []
    run_pass = runner._loop._run_pass

    def counted() -> object:
        began.append(time.monotonic())
        return run_pass()

    runner._loop._run_pass = counted
    return began


@pytest.fixture
def batched(settings: Settings, clock: SettableClock, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A runtime whose saves wake its projections at most once per `request.param` ms."""
    interval_ms = getattr(request, "param", 300)
    rt = build(settings.model_copy(update={"projection_batch_interval_ms": interval_ms}), clock)
    try:
        yield rt
    finally:
        rt.close()


def test_a_burst_of_commands_is_applied_in_a_few_catch_ups_within_the_batch_interval(batched: Runtime) -> None:
    runner, desk = batched.projections, Desk(batched.app)
    passes = count_passes(runner)
    runner.start(LONG_S)
    wait_for(lambda: len(passes) >= 1)
    wait_for(caught_up(runner))
    before = len(passes)

    started = time.monotonic()
    customer = desk.customer()
    saves = 1
    for total in range(100, 1_000, 100):
        desk.invoice(customer.id, total)
        saves += 1
    burst_s = time.monotonic() - started
    wait_for(caught_up(runner))
    time.sleep(0.4)  # past one more interval: no catch-up is left pending

    catch_ups = len(passes) - before
    assert 1 <= catch_ups < saves, f"{catch_ups} catch-ups for {saves} saves"
    assert catch_ups <= math.ceil(burst_s / 0.3) + 1, f"{catch_ups} catch-ups in {burst_s:.2f} s"
    starts = passes[before:]
    assert all(b - a >= 0.29 for a, b in itertools.pairwise(starts)), starts


@pytest.mark.parametrize("batched", [10_000], indirect=True)
def test_a_read_waiting_for_a_position_wakes_the_projections_without_waiting_for_the_interval(
        batched: Runtime) -> None:
    runner, desk = batched.projections, Desk(batched.app)
    passes = count_passes(runner)
    runner.start(LONG_S)
    wait_for(lambda: len(passes) >= 1)
    wait_for(caught_up(runner))

    desk.customer()
    time.sleep(0.3)
    assert not caught_up(runner)(), "a save alone waits for the batch interval (10 s here)"
    runner.wake()  # what a read with min_position does
    assert wait_for(caught_up(runner)) < 2


@pytest.mark.parametrize("batched", [10_000], indirect=True)
def test_a_read_with_min_position_over_http_answers_at_once_whatever_the_batch_interval(
        batched: Runtime) -> None:
    with serving_in_thread(batched) as url, httpx.Client(base_url=url, timeout=30, headers=AUTH_HEADERS) as http:
        wait_for(caught_up(batched.projections))
        r = http.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional"})
        assert r.status_code == 201, r.text
        started = time.monotonic()
        read = http.get(f"/v1/customers/{r.json()['id']}/statement",
                        params={"min_position": r.headers["ar-position"]})
        elapsed = time.monotonic() - started
    assert read.status_code == 200, read.text
    assert "Martin SARL" in read.text
    assert elapsed < 1.5, f"{elapsed:.2f} s: the read waited for the batch interval"


def test_position_rows_are_created_once_without_a_failing_statement(runtime: Runtime) -> None:
    """Two runners (two processes) on one database, each creating its rows: no error on the database's side (a
    failed INSERT is logged by PostgreSQL with its statement), one row per projection."""
    errors: list[str] = []

    @sa.event.listens_for(runtime.engine, "handle_error")
    def _failed(context: Any) -> None:
        errors.append(str(context.original_exception))

    other = ProjectionRunner(runtime.app, runtime.engine, runtime.projections.projections)
    runtime.projections.catch_up()
    other.catch_up()
    runtime.projections.rebuild("customers")
    assert errors == []
    with runtime.engine.connect() as conn:
        names = conn.scalars(sa.select(projection_positions.c.name)).all()
    assert sorted(names) == sorted(p.name for p in runtime.projections.projections)


def test_pools_and_threads_are_sized_to_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert sized_to_cores() == 8 and Settings().pool_size == 8 and Settings().threadpool_size == 8
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert Settings().pool_size == 24 and Settings().threadpool_size == 24
    assert Settings(pool_size=10).threadpool_size == 24  # each its own
    env = Settings(database_url="postgresql://u@h/db", pool_size=10).event_store_env()
    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"]) == (str(EVENT_STORE_MIN_CONNECTIONS), "8")
    tiny = Settings(database_url="postgresql://u@h/db", pool_size=1).event_store_env()
    assert (tiny["POSTGRES_POOL_SIZE"], tiny["POSTGRES_MAX_OVERFLOW"]) == ("1", "0")


def test_a_started_server_keeps_few_postgresql_connections_open(pg_database: str, tmp_path: object,
                                                                clock: SettableClock) -> None:
    """The default sizes, the projections and the dunning loops running: an idle process holds a handful of
    connections (it held 45 when the event store opened its whole pool at start)."""
    settings = Settings(database_url=pg_database, pool_size=40, outbox_dir=f"{tmp_path}/outbox")
    dbname = pg_database.rsplit("/", 1)[1]
    rt = build(settings, clock)
    try:
        rt.projections.start(settings.projection_interval_s)
        rt.start_dunning()
        Desk(rt.app).customer()
        rt.projections.wake()
        time.sleep(1.0)
        with psycopg.connect(pg_database, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                               "pg_backend_pid()", (dbname,)).fetchone()
        assert row is not None
        assert row[0] <= 8, f"{row[0]} connections for one idle process"
    finally:
        rt.close()


def test_concurrent_commands_fill_the_event_store_pool_only_as_needed(pg_database: str, tmp_path: object,
                                                                      clock: SettableClock) -> None:
    """The event store's pool grows past its two start-up connections under concurrent commands, up to
    `pool_size`, and every command succeeds."""
    settings = Settings(database_url=pg_database, pool_size=6, run_dunning=False, outbox_dir=f"{tmp_path}/outbox")
    rt = build(settings, clock)
    try:
        desk = Desk(rt.app)
        customers = [desk.customer(external_id=f"C{n}") for n in range(6)]
        failures: list[BaseException] = []

        def issue(customer_id: Any) -> None:
            try:
                for total in (100, 200, 300):
                    desk.invoice(customer_id, total)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=issue, args=(c.id,)) for c in customers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        rt.projections.catch_up()
        with rt.engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(invoices)) == 18
    finally:
        rt.close()
