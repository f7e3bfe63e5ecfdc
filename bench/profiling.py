"""Where the server's time goes: py-spy on the `ar serve` process under load, plus PostgreSQL's side.

Two py-spy recordings of the same cell (default: issue-invoice, 4 clients, PostgreSQL), each under its own load:

* `--gil`: only the thread holding the GIL is sampled. One process runs Python on one core at a time, so this is
  where the server's CPU budget goes (the ceiling once the GIL is saturated).
* `--idle`: every thread, waiting or not; restricted to the request worker threads while they serve a request,
  this is where a request's wall time goes (database round trips, lock waits, GIL waits show up where they happen).

Meanwhile `pg_stat_activity` of the server's database is sampled every 20 ms: what its connections are doing
(waiting for the event-table lock, for the WAL flush of a commit, for the client, running).

Samples are put in categories by walking each stack from the leaf up to the first frame that names a known
component (`MARKERS`), so a psycopg wait under `IdempotencyStore.claim` counts as idempotency, and one under
`EventStore.put` as the event-store save.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench import commands
from bench.commands import PATHS, PAY
from bench.harness import describe, key_prefix, load, log, measured

MARKERS: list[tuple[str, tuple[str, ...]]] = [
    ("idempotency store: claim/finish (own transactions)", ("IdempotencyStore.",)),
    ("event store: encode events (mapper, JSON transcoder)", ("Mapper.to_stored_event",)),
    ("event store: save (LOCK TABLE + INSERT + COMMIT, pipelined)", ("EventStore.put",)),
    ("reading aggregates (repository.get, cache or SELECT)", ("Repository.get", "EventStore.get")),
    ("response model (InvoiceOut.of / PaymentOut.of)", ("Out.of (ar/api/schemas",)),
    ("FastAPI: response validation + JSON serialization", ("serialize_response",)),
    ("FastAPI: request parsing + validation (dependencies, body)", ("solve_dependencies", "request_body_to_args",
                                                                   "Request.json", "Request.body")),
    ("uvicorn access log (logging)", ("(logging/",)),
    ("application/domain logic (Receivables, aggregates)", ("Receivables.", "(ar/domain/")),
    ("idempotency middleware (buffering, hashing)", ("IdempotencyMiddleware",)),
    ("threadpool hop (anyio to_thread)", ("(anyio/", "run_in_threadpool")),
    ("HTTP + ASGI plumbing (uvicorn, Starlette, FastAPI)", ("(uvicorn/", "(starlette/", "(fastapi/")),
    ("event loop (uvloop, C: sockets, HTTP parsing)", ("Runner.run (asyncio/runners.py",)),
]
SERIES_LOCK = "numbering-series lock wait (gapless series, per-process lock)"
IDLE_WORKER = ("Queue.get (queue.py", "WorkerThread.run (anyio/_backends/_asyncio.py:1113)")


def find_py_spy() -> str | None:
    for candidate in (commands.VENV_BIN / "py-spy", shutil.which("py-spy")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def parse(path: Path) -> Iterator[tuple[str, list[str], int]]:
    """py-spy's raw (collapsed) format: `thread (tid): name;frame;frame... count`."""
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack:
                continue
            frames = stack.split(";")
            yield frames[0].partition(": ")[2], frames[1:], int(count)


def classify(thread: str, frames: list[str]) -> str:
    if thread == "projections":
        return "projections thread (read-model catch-up, woken by every save)"
    if thread.startswith("pool-"):
        return "psycopg_pool housekeeping threads"
    if frames and "attempt (ar/application/receivables.py" in frames[-1] and "issue_invoice" in frames[-1]:
        return SERIES_LOCK  # a leaf Python frame in a waiting thread: blocked in a C call, the series lock
    for frame in reversed(frames):
        for label, needles in MARKERS:
            if any(n in frame for n in needles):
                return label
    return "other"


def summarize(path: Path, *, workers_only: bool) -> tuple[int, Counter[str]]:
    """(samples, samples per category); `workers_only`: request worker threads serving a request."""
    total, counts = 0, Counter[str]()
    for thread, frames, n in parse(path):
        idle = thread != "AnyIO worker thread" or any(any(m in f for m in IDLE_WORKER) for f in frames[-3:])
        if workers_only and idle:
            continue
        total += n
        counts[classify(thread, frames)] += n
    return total, counts


def top_frames(path: Path, n: int = 15) -> list[tuple[str, int]]:
    """Inclusive samples of the frames of our code and of the libraries on the hot path."""
    counts: Counter[str] = Counter()
    for _, frames, k in parse(path):
        for frame in set(frames):
            if any(p in frame for p in ("(ar/", "(eventsourcing/", "serialize_response", "solve_dependencies")) \
                    and "(ar/cli.py" not in frame:
                counts[frame] += k
    return counts.most_common(n)


def statement(query: str | None) -> str:
    """`INSERT idempotency_keys`, `COMMIT`...: the verb and the table of a statement."""
    text = " ".join((query or "?").split())
    found = re.match(r"(?i)(INSERT INTO|UPDATE|DELETE FROM|LOCK TABLE|SELECT .*? FROM|\w+)\s*([\w.\"]*)", text)
    if not found:
        return text[:40]
    verb = found.group(1).split()[0].upper()
    return f"{verb} {found.group(2).replace(chr(34), '')}".strip()


class ActivitySampler(threading.Thread):
    """Samples pg_stat_activity of one database every `interval_s`."""

    def __init__(self, url: str, database: str, interval_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.url, self.database, self.interval_s = url, database, interval_s
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        conn = None
        for _ in range(40):  # the server under test holds many connections; max_connections may be reached
            try:
                conn = psycopg.connect(self.url, autocommit=True)
                break
            except psycopg.OperationalError:
                if self.stop.wait(0.25):
                    return
        if conn is None:
            return
        with conn:
            while not self.stop.wait(self.interval_s):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    (self.database,)).fetchall()
                self.samples += 1
                for state, wtype, wevent, query in rows:
                    if state == "idle":
                        continue
                    self.counts[f"{state}: {f'{wtype}:{wevent}' if wtype else 'running'} ({statement(query)})"] += 1


def _percent_table(title: str, total: int, counts: Counter[str], note: str = "") -> list[str]:
    lines = [f"**{title}** ({total} samples{note})", "", "| share | where |", "|---:|---|"]
    lines += [f"| {100 * n / total:.1f} % | {label} |" for label, n in counts.most_common()] if total else []
    return [*lines, ""]


def run(args: argparse.Namespace, out_dir: Path, log_dir: Path, code_root: Path) -> str:
    py_spy = find_py_spy()
    if py_spy is None:
        return "py-spy not found (pip install py-spy into .venv): no profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    operation, clients, seconds = args.profile_operation, args.profile_clients, args.profile_seconds
    report = [f"Profile: {operation}, {clients} clients, PostgreSQL, {seconds:g} s per recording, py-spy 100 Hz.", ""]
    with commands.database("postgres", args.postgres_url) as url, \
            commands.ar_server(url, log_dir, "ar-postgres-profile", code_root) as server, \
            httpx.Client(base_url=server.base_url, timeout=120, headers=commands.AUTH_HEADERS) as http:
        customers = commands.register_customers(http)
        invoices = commands.payable_invoices(http, customers) if operation == PAY else None
        body = commands.bodies(operation, clients, customers, invoices)
        database = commands.database_name(url)
        assert database is not None
        r = measured(args, lambda: load(server, PATHS[operation], clients, seconds, args.warmup, body,
                                        key_prefix(args, "profile-base"), database))
        r.update(kind="ar", backend="postgres", operation=operation, run=0)
        log("unprofiled: " + describe(r))
        report.append(f"Without the profiler: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms.")
        results: dict[str, Any] = {}
        for mode in ("gil", "idle"):
            raw = out_dir / f"py-spy-{mode}.txt"
            samplers: list[ActivitySampler] = []

            def recorded(mode: str = mode, raw: Path = raw, samplers: list[ActivitySampler] = samplers,
                         ) -> dict[str, Any]:
                spy = subprocess.Popen([py_spy, "record", "--pid", str(server.pid), "--duration",
                                        str(round(seconds)), "--rate", "100", "--format", "raw", "--threads",
                                        f"--{mode}", "--output", str(raw)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                sampler = ActivitySampler(args.postgres_url, str(database))
                time.sleep(0.5)
                sampler.start()
                r = load(server, PATHS[operation], clients, seconds, 0.0, body,
                         key_prefix(args, f"profile-{mode}"), database)
                sampler.stop.set()
                sampler.join()
                samplers[:] = [sampler]
                _, err = spy.communicate(timeout=60)
                if spy.returncode != 0:
                    raise RuntimeError(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')}")
                return r

            r = measured(args, recorded)
            r.update(kind="ar", backend="postgres", operation=operation, run=0)
            log(f"py-spy --{mode}: " + describe(r))
            results[mode] = (raw, r, samplers[0])
    gil_raw, gil_r, _ = results["gil"]
    idle_raw, idle_r, sampler = results["idle"]
    report.append(f"Under py-spy --gil: {gil_r['rps']:.0f} req/s; under --idle: {idle_r['rps']:.0f} req/s "
                  f"(server CPU {gil_r['cpu']['server']:.2f} / {idle_r['cpu']['server']:.2f} cores).")
    report.append("")
    total, counts = summarize(gil_raw, workers_only=False)
    possible = round(seconds) * 100
    report += _percent_table("CPU: the thread holding the GIL (py-spy --gil)", total, counts,
                             f"; the GIL was held in {100 * total / possible:.0f} % of the {possible} ticks")
    total, counts = summarize(idle_raw, workers_only=True)
    report += _percent_table("Wall time of the request worker threads while serving a request (py-spy --idle)",
                             total, counts)
    if sampler is not None and sampler.samples:
        lines = ["**PostgreSQL: the server's non-idle connections** (pg_stat_activity every 20 ms, "
                 f"{sampler.samples} samples; mean connections per sample)", "", "| mean | state: wait (query) |",
                 "|---:|---|"]
        lines += [f"| {n / sampler.samples:.2f} | {label} |" for label, n in sampler.counts.most_common(12)]
        report += [*lines, ""]
    report += ["**Top frames, inclusive (py-spy --gil)**", "", "| share | frame |", "|---:|---|"]
    gil_total = sum(n for _, _, n in parse(gil_raw)) or 1
    report += [f"| {100 * n / gil_total:.1f} % | `{frame}` |" for frame, n in top_frames(gil_raw)]
    report.append("")
    report.append(f"Raw stacks (collapsed, for flamegraph.pl or speedscope): {gil_raw}, {idle_raw}")
    text = "\n".join(report)
    (out_dir / "summary.md").write_text(text + "\n")
    return text
