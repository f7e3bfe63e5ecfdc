"""`min_position`: a position beyond the event store's head is refused at once; a read waits only while the read
models genuinely lag, and waiting holds no worker thread, so sixty waiting reads do not slow an unrelated request.

The server is a real uvicorn in a thread, with the projections left off (`run_projections=false`, as beside a
worker): the read models stay behind until the test moves them, so the waits are genuine.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.support.api import AUTH_HEADERS
from tests.support.servers import serving_in_thread

from ar.adapters.clocks import SettableClock
from ar.config import Settings
from ar.runtime import Runtime, build

WAITERS = 60


@pytest.fixture
def lagging(settings: Settings, clock: SettableClock) -> Iterator[Runtime]:
    """A runtime whose read models move only when the test catches them up."""
    rt = build(settings.model_copy(update={"run_projections": False}), clock)
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
def base_url(lagging: Runtime) -> Iterator[str]:
    with serving_in_thread(lagging) as url:
        yield url


def register(http: httpx.Client) -> tuple[str, int]:
    """A write (a customer registered): the customer's id and the write's AR-Position."""
    r = http.post("/v1/customers", json={"name": "Martin SARL", "kind": "professional"})
    assert r.status_code == 201, r.text
    return r.json()["id"], int(r.headers["ar-position"])


def write(http: httpx.Client) -> int:
    return register(http)[1]


def test_a_position_beyond_the_event_store_head_is_refused_at_once(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30, headers=AUTH_HEADERS) as http:
        head = write(http)
        started = time.monotonic()
        r = http.get("/v1/invoices", params={"min_position": head + 1})
        elapsed = time.monotonic() - started
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == "min_position" and r.json()["head"] == head
    # refused without the 2 s wait (READ_AFTER_WAIT_S); a loaded 2-core machine took 0.58 s once for the request itself
    assert elapsed < 1.0, f"{elapsed:.2f} s for a position that will never come"


def test_a_read_waits_while_the_read_models_lag_and_answers_once_they_catch_up(base_url: str,
                                                                               lagging: Runtime) -> None:
    with httpx.Client(base_url=base_url, timeout=30, headers=AUTH_HEADERS) as http:
        customer_id, position = register(http)
        catch_up = threading.Timer(0.3, lagging.projections.catch_up)  # a worker, a moment later
        started = time.monotonic()
        catch_up.start()
        r = http.get(f"/v1/customers/{customer_id}/statement", params={"min_position": position})
        elapsed = time.monotonic() - started
        catch_up.join()
    assert r.status_code == 200, r.text
    assert "Martin SARL" in r.text
    assert 0.25 < elapsed < 1.9, elapsed


def test_a_read_the_read_models_do_not_reach_in_2_s_answers_503_with_retry_after(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30, headers=AUTH_HEADERS) as http:
        position = write(http)
        started = time.monotonic()
        r = http.get("/v1/invoices", params={"min_position": position})
        elapsed = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1" and r.headers["content-type"] == "application/problem+json"
    assert 1.9 < elapsed < 5, elapsed


def test_sixty_waiting_reads_do_not_slow_an_unrelated_request(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30, headers=AUTH_HEADERS) as http:
        position = write(http)
        answers: list[int] = []

        async def wait_all() -> None:
            async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=AUTH_HEADERS,
                                         limits=httpx.Limits(max_connections=WAITERS)) as waiter:
                got = await asyncio.gather(*(waiter.get("/v1/invoices", params={"min_position": position})
                                             for _ in range(WAITERS)))
            answers.extend(r.status_code for r in got)

        waiters = threading.Thread(target=asyncio.run, args=(wait_all(),))
        waiters.start()
        time.sleep(0.4)  # every waiter is in its 2 s wait
        latencies = []
        for _ in range(9):
            started = time.perf_counter()
            assert http.get("/v1/dunning/policies").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
        waiters.join(timeout=30)
    assert answers == [503] * WAITERS  # they did wait: nothing moved the read models
    ms = [round(s * 1000) for s in latencies]
    assert statistics.median(latencies) < 0.2, ms
    assert max(latencies) < 1.0, ms  # a read blocked on 40 threads held by waiters took 2.4 s here
