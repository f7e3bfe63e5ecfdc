"""`ar serve` on PostgreSQL (where AR_BACKGROUND=process is the default), as a real subprocess, runs the background
work in one worker process of its own: reads with `min_position` see a write (the child applied it: the server processes
run no projection), a killed child is started again and the reads catch up, and the child does not outlive a
SIGKILLed `ar serve`."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.api import AUTH_HEADERS
from tests.support.servers import ArProcess, free_port, killed_at_the_end

TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@pytest.fixture
def servers() -> Iterator[list[ArProcess]]:
    with killed_at_the_end() as started:
        yield started


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _is_worker(pid: int) -> bool:
    try:
        return b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit may wait for a reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _worker_child(serve_pid: int, other_than: int | None = None, timeout_s: float = 10.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = [p for p in _children(serve_pid) if _is_worker(p) and p != other_than and _running(p)]
        if workers:
            assert len(workers) == 1, workers
            return workers[0]
        time.sleep(0.05)
    pytest.fail(f"no worker process under ar serve [{serve_pid}] within {timeout_s} s")


def _issue_and_read_back(client: httpx.Client, customer_id: str, timeout_s: float = 12.0) -> None:
    """An invoice issued, then the list with its position shows it (retried while the worker starts)."""
    issued = client.post("/v1/invoices", json={"customer_id": customer_id, "series": "W", "currency": "EUR",
                                               "total_minor": 12_000,
                                               "vat": [{"rate": "20", "base_minor": 10_000, "vat_minor": 2_000}]})
    assert issued.status_code == 201, issued.text
    params = {"customer_id": customer_id, "min_position": issued.headers["AR-Position"], "limit": 500}
    deadline = time.monotonic() + timeout_s
    while True:
        listed = client.get("/v1/invoices", params=params)
        if listed.status_code == 200:
            assert issued.json()["id"] in [row["id"] for row in listed.json()["items"]]
            return
        assert listed.status_code == 503, listed.text
        assert time.monotonic() < deadline, "the read models did not catch up"


def test_serve_supervises_one_worker_process_that_applies_the_events_and_dies_with_it(
        pg_database: str, servers: list[ArProcess], tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AR_DATABASE_URL": pg_database, "AR_OUTBOX_DIR": str(tmp_path / "outbox"),
           "PYTHONUNBUFFERED": "1"}
    for name in ("AR_SIMULATED_CLOCK", "AR_BACKGROUND", "AR_RUN_PROJECTIONS", "AR_RUN_DUNNING"):
        env.pop(name, None)
    serve = ArProcess(["serve", "--host", "127.0.0.1", "--port", str(port)], tmp_path / "serve.log", env, port=port)
    servers.append(serve)
    serve.start()
    assert serve.wait_healthy(30), serve.log_tail()
    assert serve.proc is not None
    first = _worker_child(serve.proc.pid)

    with httpx.Client(base_url=serve.base_url, timeout=TIMEOUT, headers=AUTH_HEADERS) as client:
        customer = client.post("/v1/customers", json={"name": "Worker SARL", "kind": "professional"})
        assert customer.status_code == 201, customer.text
        _issue_and_read_back(client, customer.json()["id"])

        os.kill(first, signal.SIGKILL)  # the projections crash: ar serve starts them again
        second = _worker_child(serve.proc.pid, other_than=first)
        _issue_and_read_back(client, customer.json()["id"])
    assert "restarting it in" in serve.log_text()

    os.kill(serve.proc.pid, signal.SIGKILL)  # the server alone, not its process group
    serve.proc.wait(10)
    deadline = time.monotonic() + 5
    while _running(second):
        assert time.monotonic() < deadline, f"the worker [{second}] outlived ar serve"
        time.sleep(0.05)
