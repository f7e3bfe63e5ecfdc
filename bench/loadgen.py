"""Closed-loop HTTP/1.1 load generator, run as its own process: `python -m bench.loadgen SPEC.json`.

Each client is one keep-alive connection that sends a request, waits for the whole response, and sends the next.
It is a bare asyncio protocol on uvloop (no HTTP library): a request costs the generator a few tens of
microseconds of CPU, which it reports (`loadgen_cpu`) with the server's and PostgreSQL's, so a run shows whether
the generator, which shares the machine's cores with the server, could have been the bottleneck.

Only requests that complete inside the measured window (after the warm-up) are counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Spec:
    host: str
    port: int
    path: str
    clients: int
    seconds: float
    warmup: float
    bodies: list[list[str]]  # per client, cycled
    key_prefix: str | None = None  # an Idempotency-Key per request: f"{key_prefix}-{client}-{n}"
    server_pid: int | None = None
    worker_pids: list[int] = field(default_factory=list)  # `ar worker` processes beside the server
    database: str | None = None  # PostgreSQL database of the server, for CPU accounting
    authorization: str | None = None  # the Authorization header's value (the server's API key)


@dataclass
class Window:
    start_ns: int
    end_ns: int
    latencies_ns: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    connection_errors: int = 0


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def _complete(self) -> None:
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"\r\ncontent-length:")
        if start >= 0:
            stop = head.find(b"\r\n", start + 2)
            length = int(head[start + 17: stop if stop >= 0 else len(head)])
            total = end + 4 + length
        elif b"transfer-encoding: chunked" in head:
            last = self.buffer.find(b"\r\n0\r\n\r\n", end)
            if last < 0:
                return
            total = last + 7
        else:
            total = end + 4
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4:total])
        del self.buffer[:total]
        self.waiter.set_result((int(head[9:12]), body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


def _requests(spec: Spec, client: int) -> list[tuple[bytes, bytes]]:
    """(head without the Idempotency-Key line and the blank line, body) for each body of the client."""
    out = []
    for text in spec.bodies[client % len(spec.bodies)]:
        body = text.encode()
        head = (f"POST {spec.path} HTTP/1.1\r\nHost: {spec.host}:{spec.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n"
                + (f"Authorization: {spec.authorization}\r\n" if spec.authorization else "")).encode()
        out.append((head, body))
    return out


async def _client(spec: Spec, client: int, window: Window, stop_ns: int) -> None:
    loop = asyncio.get_running_loop()
    requests = _requests(spec, client)
    _, conn = await loop.create_connection(Connection, spec.host, spec.port)
    n = 0
    while True:
        head, body = requests[n % len(requests)]
        key = f"Idempotency-Key: {spec.key_prefix}-{client}-{n}\r\n".encode() if spec.key_prefix else b""
        n += 1
        began = time.perf_counter_ns()
        if began >= stop_ns:
            break
        try:
            status, answer = await conn.request(head + key + b"\r\n" + body)
        except ConnectionError as e:
            window.connection_errors += 1
            if len(window.errors) < 5:
                window.errors.append(str(e))
            await asyncio.sleep(0.05)
            _, conn = await loop.create_connection(Connection, spec.host, spec.port)
            continue
        done = time.perf_counter_ns()
        if window.start_ns <= began and done <= window.end_ns:
            window.latencies_ns.append(done - began)
            window.statuses[status] = window.statuses.get(status, 0) + 1
            if status >= 300 and len(window.errors) < 5:
                window.errors.append(f"{status}: {answer[:300].decode(errors='replace')}")
    assert conn.transport is not None
    conn.transport.close()


def _proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


CLIENT_BACKEND = re.compile(r"\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]")


def _postgres_processes(database: str | None, titles: dict[int, bool]) -> Iterator[tuple[int, int]]:
    """(pid, CPU ticks) of the PostgreSQL processes that work for us: the backends connected to `database` and
    the shared ones (postmaster, WAL writer, checkpointer...), not the backends of other databases.
    `titles` caches, per pid, whether it is ours."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat") as f:
                raw = f.read()
            if "(postgres)" not in raw:
                continue
            if pid not in titles:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    title = f.read().replace(b"\0", b" ").decode(errors="replace")
                titles[pid] = bool(database and f" {database} " in title) or not CLIENT_BACKEND.search(title)
        except OSError:
            continue
        if titles[pid]:
            fields = raw.rpartition(")")[2].split()
            yield pid, int(fields[11]) + int(fields[12])


def _system_ticks() -> tuple[int, int, int]:
    """(busy, interrupts, total) jiffies of all cores; busy excludes the interrupts (mostly loopback networking,
    which grows with the request rate and is charged to no process)."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in f.readline().split()[1:9])
    return user + nice + system + steal, irq + softirq, user + nice + system + idle + iowait + irq + softirq + steal


class CpuMeter:
    """CPU used over a window, in cores (1.0 = one core busy the whole time): this process (the load
    generator), the server process, `ar worker` processes if any, our PostgreSQL processes, the whole machine, and
    "other": the rest, i.e. other processes (a quiet machine shows ~0; interrupts are reported apart, as "irq").
    PostgreSQL processes are polled every `interval_s` so that backends which start and exit inside the window
    (pgbench's) count too (up to their last poll)."""

    def __init__(self, server_pid: int | None, database: str | None, interval_s: float = 0.25,
                 worker_pids: tuple[int, ...] = ()) -> None:
        self.server_pid, self.database, self.interval_s = server_pid, database, interval_s
        self.worker_pids = worker_pids
        self.titles: dict[int, bool] = {}
        self.baseline: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.stopping = threading.Event()
        self.poller = threading.Thread(target=self._poll_loop, daemon=True)
        self.before: dict[str, float] = {}

    def _poll(self, first: bool = False) -> None:
        for pid, ticks in _postgres_processes(self.database, self.titles):
            self.baseline.setdefault(pid, ticks if first else 0)
            self.last[pid] = ticks

    def _poll_loop(self) -> None:
        while not self.stopping.wait(self.interval_s):
            self._poll()

    def _snapshot(self) -> dict[str, float]:
        busy, irq, total = _system_ticks()
        return {"wall": time.perf_counter(), "loadgen": time.process_time(),
                "server": _proc_ticks(self.server_pid) / CLK_TCK if self.server_pid else 0.0,
                "worker": sum(_proc_ticks(p) for p in self.worker_pids) / CLK_TCK,
                "busy": busy / CLK_TCK, "irq": irq / CLK_TCK, "total": total / CLK_TCK}

    def start(self) -> None:
        self._poll(first=True)
        self.before = self._snapshot()
        self.poller.start()

    def stop(self) -> dict[str, float]:
        after = self._snapshot()
        self.stopping.set()
        self.poller.join()
        self._poll()
        wall = after["wall"] - self.before["wall"]
        used = {k: (after[k] - self.before[k]) / wall for k in ("loadgen", "server", "worker")}
        used["postgres"] = sum(self.last[p] - self.baseline[p] for p in self.last) / CLK_TCK / wall
        machine = (after["busy"] - self.before["busy"]) / wall
        return {**used, "machine": machine, "other": max(0.0, machine - sum(used.values())),
                "irq": (after["irq"] - self.before["irq"]) / wall,
                "cores": round((after["total"] - self.before["total"]) / wall)}


def wait_quiet(threshold_cores: float, timeout_s: float) -> tuple[float, float]:
    """Wait until the machine's busy CPU over one second is at most `threshold_cores` (other work would skew a
    cell), or `timeout_s` has passed; (seconds waited, busy cores of the last second)."""
    began = time.monotonic()
    while True:
        busy0, _, _ = _system_ticks()
        wall0 = time.monotonic()
        time.sleep(1.0)
        busy1, _, _ = _system_ticks()
        busy = (busy1 - busy0) / CLK_TCK / (time.monotonic() - wall0)
        waited = time.monotonic() - began
        if busy <= threshold_cores or waited >= timeout_s:
            return waited, busy


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[rank])


async def run(spec: Spec) -> dict[str, Any]:
    now = time.perf_counter_ns()
    start_ns = now + int(spec.warmup * 1e9)
    end_ns = start_ns + int(spec.seconds * 1e9)
    window = Window(start_ns, end_ns)
    meter = CpuMeter(spec.server_pid, spec.database, worker_pids=tuple(spec.worker_pids))
    cpu: dict[str, float] = {}

    async def sample() -> None:
        await asyncio.sleep(max(0.0, (start_ns - time.perf_counter_ns()) / 1e9))
        meter.start()
        await asyncio.sleep(max(0.0, (end_ns - time.perf_counter_ns()) / 1e9))
        cpu.update(meter.stop())

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(_client(spec, c, window, end_ns) for c in range(spec.clients)))
    await sampler
    latencies = sorted(window.latencies_ns)
    ok = sum(n for s, n in window.statuses.items() if 200 <= s < 300)
    return {
        "clients": spec.clients, "seconds": spec.seconds, "requests": len(latencies), "ok": ok,
        "statuses": {str(k): v for k, v in sorted(window.statuses.items())},
        "connection_errors": window.connection_errors, "errors": window.errors,
        "rps": ok / spec.seconds,
        "p50_ms": percentile(latencies, 0.50) / 1e6, "p90_ms": percentile(latencies, 0.90) / 1e6,
        "p99_ms": percentile(latencies, 0.99) / 1e6, "max_ms": (latencies[-1] / 1e6) if latencies else float("nan"),
        "mean_ms": (sum(latencies) / len(latencies) / 1e6) if latencies else float("nan"),
        "cpu": cpu,
    }


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = Spec(**json.load(f))
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    json.dump(runner(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
