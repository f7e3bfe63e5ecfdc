"""Crash recovery, end to end: real `ar serve` processes, real HTTP, real PostgreSQL, a SIGKILL mid-stream.

Four client threads issue invoices as fast as they can; the server is SIGKILLed after ~1.5 s and restarted on
the same database and port. Then:

* every write acknowledged before the kill exists exactly once, with the number it was acknowledged with;
* a write in flight at the kill committed whole or not at all: the numbers are F2026-000001..N, no gap, no
  duplicate, and the next number handed out is N+1;
* every write that was not acknowledged, retried with the same external_id and/or Idempotency-Key, now succeeds
  (201 if it had not committed, 200 or the stored 201 if it had) and creates nothing twice.

An Idempotency-Key whose request was running at the kill stays claimed for `STALE_CLAIM` (60 s): retries get
409 "in flight" meanwhile. Rather than wait, the test ages those orphaned claims in the database by that much and
checks that the retry then takes the claim over without doubling the invoice.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from tests.support.api import AUTH_HEADERS
from tests.support.servers import ArProcess, free_port, killed_at_the_end

from ar.adapters.idempotency_store import STALE_CLAIM

SERIES = "F2026"
WRITERS = 4
WRITE_FOR_S = 1.5  # then kill, once at least MIN_ACKNOWLEDGED writes are in (at most MAX_WRITE_FOR_S: slow machines)
MIN_ACKNOWLEDGED = 20
MAX_WRITE_FOR_S = 10.0
MAX_WRITES_PER_WRITER = 5_000
START_TIMEOUT_S = 30.0
TIMEOUT = httpx.Timeout(5.0, connect=2.0)
IN_FLIGHT = "idempotency-key-in-flight"


class Server(ArProcess):
    """One `ar serve` process in its own process group, its output in a log file."""

    def __init__(self, database_url: str, port: int, log_path: Path) -> None:
        env = {**os.environ, "AR_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        env.pop("AR_SIMULATED_CLOCK", None)
        super().__init__(["serve", "--host", "127.0.0.1", "--port", str(port)], log_path, env, port=port)

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> bool:
        if not super().wait_healthy(timeout_s):
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"ar serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            pytest.fail(f"ar serve did not answer /healthz within {timeout_s} s:\n{self.log_tail()}")
        return True


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server started by the test; all killed at the end, whatever happens."""
    with killed_at_the_end() as started:
        yield started


@dataclass
class Write:
    """One POST /v1/invoices of the stream: by external_id, by Idempotency-Key, or both (in rotation)."""

    n: int
    writer: int
    customer_id: str
    status: int | None = None  # of the first attempt, when a response came back
    error: str | None = None  # the transport error of the first attempt (sent or not: in doubt)
    invoice_id: str | None = None
    number: str | None = None

    @property
    def external_id(self) -> str | None:
        return None if self.n % 3 == 1 else f"crash-{self.n:05d}"

    @property
    def key(self) -> str | None:
        return None if self.n % 3 == 0 else f"crash-key-{self.n:05d}"

    @property
    def total_minor(self) -> int:
        return 1_000 + self.n

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "customer_id": self.customer_id, "series": SERIES, "total_minor": self.total_minor,
            "vat": [{"rate": "0", "base_minor": self.total_minor, "vat_minor": 0}],
        }
        if self.external_id is not None:
            body["external_id"] = self.external_id
        return body

    def headers(self) -> dict[str, str]:
        return {"Idempotency-Key": self.key} if self.key is not None else {}

    def post(self, client: httpx.Client) -> httpx.Response:
        return client.post("/v1/invoices", json=self.body(), headers=self.headers())

    def __repr__(self) -> str:
        return (f"Write(n={self.n}, writer={self.writer}, external_id={self.external_id}, key={self.key}, "
                f"status={self.status}, error={self.error}, number={self.number})")


def _write_stream(base_url: str, writer: int, customer_id: str, numbers: Iterator[int], writes: list[Write],
                  stop: threading.Event) -> None:
    """Issue invoices one after another until a transport error (the kill) or `stop`."""
    with httpx.Client(base_url=base_url, timeout=TIMEOUT, headers=AUTH_HEADERS) as client:
        for _ in range(MAX_WRITES_PER_WRITER):
            if stop.is_set():
                return
            write = Write(n=next(numbers), writer=writer, customer_id=customer_id)
            writes.append(write)
            try:
                response = write.post(client)
            except httpx.TransportError as exc:
                write.error = type(exc).__name__
                return
            write.status = response.status_code
            if response.is_success:
                write.invoice_id, write.number = response.json()["id"], response.json()["number"]


def _is_in_flight(response: httpx.Response) -> bool:
    return (response.status_code == 409 and response.headers.get("retry-after") == "1"
            and response.json().get("type", "").endswith(IN_FLIGHT))


def _retry(client: httpx.Client, write: Write) -> httpx.Response:
    response = write.post(client)
    assert response.status_code in (200, 201) or (write.key is not None and _is_in_flight(response)), (
        f"retry of {write!r}: {response.status_code} {response.text}")
    return response


def _check_retried(write: Write, response: httpx.Response, *, in_doubt: bool) -> bool:
    """A successful retry names the same invoice as the first acknowledgement, if there was one, and creates
    nothing new for an acknowledged write. True if an in-doubt write turns out to have committed before the kill."""
    data = response.json()
    replayed = response.headers.get("idempotent-replayed") == "true"
    if not in_doubt:
        assert response.status_code == 200 or replayed, f"{write!r} created again: {response.status_code} {data}"
    assert data["external_id"] == write.external_id, (write, data)
    assert data["total"]["minor"] == write.total_minor, (write, data)
    if write.invoice_id is not None:
        assert (data["id"], data["number"]) == (write.invoice_id, write.number), (write, data)
    write.invoice_id, write.number = data["id"], data["number"]
    return in_doubt and (response.status_code == 200 or replayed)


def _age_orphaned_claims(database_url: str) -> list[str]:
    """Make the claims left by killed requests as old as `STALE_CLAIM` (as if the client had waited that long)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "UPDATE idempotency_keys SET created_at = created_at - %s WHERE status_code IS NULL RETURNING key",
            (STALE_CLAIM,)).fetchall()
    return [row[0] for row in rows]


def _list_all(client: httpx.Client, customer_id: str, min_position: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"customer_id": customer_id, "limit": 500, "min_position": min_position}
    for _ in range(100):
        page = client.get("/v1/invoices", params=params)
        assert page.status_code == 200, page.text
        rows += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows
        params = {"customer_id": customer_id, "limit": 500, "cursor": cursor}
    pytest.fail("the invoice list did not end within 100 pages")


def test_sigkill_mid_stream_loses_no_acknowledged_write_and_leaves_no_gap(
        pg_database: str, servers: list[Server], tmp_path: Path) -> None:
    started = time.monotonic()
    port = free_port()
    first = Server(pg_database, port, tmp_path / "ar-1.log")
    servers.append(first)
    first.start()
    first.wait_healthy()

    with httpx.Client(base_url=first.base_url, timeout=TIMEOUT, headers=AUTH_HEADERS) as client:
        customer = client.post("/v1/customers", json={"name": "Crash SARL", "kind": "professional",
                                                      "external_id": "crash-customer"})
        assert customer.status_code == 201, customer.text
    customer_id: str = customer.json()["id"]

    # A stream of writes from four clients, then SIGKILL while they are running.
    writes: list[Write] = []
    numbers = itertools.count(1)
    stop = threading.Event()
    threads = [threading.Thread(target=_write_stream, name=f"writer-{i}", daemon=True,
                                args=(first.base_url, i, customer_id, numbers, writes, stop))
               for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    writing = time.monotonic()
    while time.monotonic() - writing < MAX_WRITE_FOR_S:
        time.sleep(0.05)
        if (time.monotonic() - writing >= WRITE_FOR_S
                and sum(w.status is not None for w in list(writes)) >= MIN_ACKNOWLEDGED):
            break
    first.kill()
    for thread in threads:
        thread.join(timeout=15)
    stop.set()
    assert not any(thread.is_alive() for thread in threads), "a client thread did not stop after the kill"

    writes.sort(key=lambda w: w.n)
    assert [w.n for w in writes] == list(range(1, len(writes) + 1))
    acknowledged = [w for w in writes if w.status is not None]
    in_doubt = [w for w in writes if w.status is None]
    assert all(w.status == 201 for w in acknowledged), [w for w in acknowledged if w.status != 201]
    assert all(not w.error or w.status is None for w in writes)
    assert len(acknowledged) >= MIN_ACKNOWLEDGED, f"only {len(acknowledged)} writes acknowledged before the kill"
    assert all(w.error is not None for w in in_doubt)
    assert len(in_doubt) <= WRITERS  # each client stops at its first connection error
    numbers_acknowledged = [w.number for w in acknowledged]
    assert len(set(numbers_acknowledged)) == len(numbers_acknowledged), "a number was acknowledged twice"

    # Restart on the same database and port.
    second = Server(pg_database, port, tmp_path / "ar-2.log")
    servers.append(second)
    second.start()
    second.wait_healthy()

    with httpx.Client(base_url=second.base_url, timeout=TIMEOUT, headers=AUTH_HEADERS) as client:
        # Every acknowledged write survived, with its number.
        for w in acknowledged:
            got = client.get(f"/v1/invoices/{w.invoice_id}")
            assert got.status_code == 200, f"{w!r} lost after the crash: {got.status_code} {got.text}"
            assert got.json()["number"] == w.number, (w, got.json())
            assert got.json()["external_id"] == w.external_id, (w, got.json())

        # Retry what was not acknowledged, and the last acknowledged writes of each client: same key, same body.
        last_acknowledged = [w for i in range(WRITERS) for w in [x for x in acknowledged if x.writer == i][-3:]]
        doubtful = {w.n for w in in_doubt}
        pending: list[Write] = []
        committed_in_doubt = 0
        for w in in_doubt + last_acknowledged:
            response = _retry(client, w)
            if _is_in_flight(response):
                pending.append(w)
                continue
            committed_in_doubt += _check_retried(w, response, in_doubt=w.n in doubtful)

        # A key still claimed by a killed request answers 409 until STALE_CLAIM; then a retry takes it over.
        orphaned = _age_orphaned_claims(pg_database)
        assert {w.key for w in pending} <= set(orphaned), (pending, orphaned)
        assert set(orphaned) <= {w.key for w in writes}, orphaned
        for w in pending:
            response = _retry(client, w)
            assert not _is_in_flight(response), f"the stale claim of {w!r} was not taken over: {response.text}"
            committed_in_doubt += _check_retried(w, response, in_doubt=w.n in doubtful)

        # The next number follows the last one: no number was burnt, none is assigned twice.
        fresh = client.post("/v1/invoices", json={
            "customer_id": customer_id, "series": SERIES, "total_minor": 999,
            "vat": [{"rate": "0", "base_minor": 999, "vat_minor": 0}], "external_id": "crash-fresh"})
        assert fresh.status_code == 201, fresh.text
        assert fresh.json()["number"] == f"{SERIES}-{len(writes) + 1:06d}", (fresh.json(), len(writes))

        # The read model (caught up to the fresh write) holds every write exactly once, numbered without gaps.
        rows = _list_all(client, customer_id, int(fresh.headers["AR-Position"]))

    assert all(w.invoice_id is not None for w in writes), [w for w in writes if w.invoice_id is None]
    by_id = Counter(row["id"] for row in rows)
    assert [i for i, n in by_id.items() if n > 1] == []
    expected = {w.invoice_id: w for w in writes} | {fresh.json()["id"]: None}
    assert set(by_id) == set(expected), (set(by_id) ^ set(expected))
    for row in rows:
        w = expected[row["id"]]
        if w is not None:
            assert (row["number"], row["external_id"], row["total_minor"]) == (
                w.number, w.external_id, w.total_minor), (w, row)
    external_ids = Counter(row["external_id"] for row in rows if row["external_id"] is not None)
    assert all(n == 1 for n in external_ids.values()), external_ids
    assert set(external_ids) == {w.external_id for w in writes if w.external_id} | {"crash-fresh"}
    assert sorted(row["number"] for row in rows) == [f"{SERIES}-{i:06d}" for i in range(1, len(writes) + 2)]

    elapsed = time.monotonic() - started
    print(f"\ncrash recovery: {len(acknowledged)} writes acknowledged before the kill, {len(in_doubt)} in doubt "
          f"{dict(Counter(w.error for w in in_doubt))} ({committed_in_doubt} of them had committed), "
          f"{len(pending)} retries answered 409 in flight ({sum(w.n not in doubtful for w in pending)} of them "
          f"acknowledged; {len(orphaned)} orphaned claims aged); {elapsed:.1f} s")
