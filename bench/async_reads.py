"""Async reads: does asyncpg (or psycopg's own async mode) serve `ar`'s read side better than the sync engine in
FastAPI's threadpool?

    python -m bench.async_reads                       # 20,000 invoices, 1/4/16 callers, 3 runs, 4 s a cell
    python -m bench.async_reads --invoices 5000 --seconds 2 --runs 1      # a quick pass

A fresh PostgreSQL database (`bench_async_<random>`, dropped WITH (FORCE) at the end), migrated by
`ar.runtime.build`, filled by the realistic history of bench/history.py through the event store, the projections
caught up, then VACUUM ANALYZE. Two read paths, each exactly the code the routes run:

* `list`: `ar.projections.invoice_queries.list_invoices`, one customer's first page of 50 (GET /v1/invoices);
* `statement`: `ar.reports.statement.statement`, one customer's last three months (movements from the ledger
  entries range, opening balance, aging, refusals: five to six queries on one connection).

Four ways to run them, N concurrent callers each (1, 4, 16), closed loop, in one uvloop event loop (as
`ar serve` runs):

* `sync-threads` (today): the runtime's sync engine (psycopg 3, the pool `Settings` sizes), each call in a worker
  thread through `anyio.to_thread.run_sync` limited to `Settings().threadpool_size` threads, as FastAPI runs a sync
  route;
* `sync-autocommit`: the same engine and threads, its connections in autocommit (`isolation_level="AUTOCOMMIT"`):
  no BEGIN and no ROLLBACK a read, and psycopg keeps the statements it prepared (it drops them all on every
  ROLLBACK, so in a read ending in one they never outlive it). Each query still sees a committed snapshot of its
  own, as under READ COMMITTED in a transaction;
* `asyncpg`: an SQLAlchemy async engine on `postgresql+asyncpg://` (same pool size), each caller a task;
* `psycopg-async`: an SQLAlchemy async engine on `postgresql+psycopg://` (psycopg 3's async mode, same driver).

The async variants run the same functions through `AsyncConnection.run_sync` (SQLAlchemy's async engine runs every
statement in a greenlet the same way; a hand-written `await conn.execute(...)` port would take one greenlet
switch per query instead of one per call), so the SQL, the Python around it and the rows are identical and only
the driver, the transaction and the concurrency model differ.

First, one caller, the variants taking turns in blocks of 20 calls (15 rounds): the CPU a call costs when nothing
else is in flight. Then per cell: calls/s, p50/p99 latency, and the CPU a call costs (this process: driver,
SQLAlchemy, report code, event loop; PostgreSQL's backends apart). The variants are interleaved inside each
run (their order rotates) so that a busy machine weighs on each alike; `uptime`'s load is recorded before each run.
The median of the runs is reported. Then the `min_position` wait (`ar.api.waiting`): what one positions read costs,
and how many threads and reads 64 waiting requests take.

Results: bench/out/async-reads.json and bench/out/async-reads.md (printed at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import signal
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import anyio
import sqlalchemy as sa
import uvloop
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ar.adapters.clocks import SettableClock
from ar.api import waiting
from ar.config import Settings
from ar.domain.clock import BUSINESS_TZ
from ar.projections.invoice_queries import InvoiceFilter, list_invoices
from ar.reports.statement import statement
from ar.runtime import Runtime, build
from bench import commands
from bench.harness import log
from bench.history import HistoryConfig, HistoryStats, generate
from bench.loadgen import CpuMeter
from bench.readmodels import READ_MODELS, analyze, nearest_rank
from bench.run import DEFAULT_ADMIN_URL, machine

OUT = commands.ROOT / "bench" / "out"
VARIANTS = ("sync-threads", "sync-autocommit", "asyncpg", "psycopg-async")
OPERATIONS = ("list", "statement")
PAGE = 50


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.async_reads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--invoices", type=int, default=20_000)
    p.add_argument("--customers", type=int, default=None, help="default: one per 50 invoices, at least 200")
    p.add_argument("--callers", default="1,4,16", help="concurrent callers per cell, comma-separated")
    p.add_argument("--seconds", type=float, default=4.0, help="measured seconds per cell")
    p.add_argument("--runs", type=int, default=3, help="repetitions of every cell (median of runs)")
    p.add_argument("--cpu-rounds", type=int, default=15,
                   help="rounds of the interleaved one-caller CPU series (each variant `--cpu-block` calls a round)")
    p.add_argument("--cpu-block", type=int, default=20)
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--seed", type=int, default=20261129)
    p.add_argument("--postgres-url", default=os.environ.get("AR_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL),
                   help="admin URL; the database is created and dropped through it")
    p.add_argument("--out", type=Path, default=OUT)
    return p.parse_args(argv)


# The two read paths, runnable on a sync Connection -----------------------------------------------------------------
class _Lent:
    """Stands for an Engine whose `connect()` lends one open Connection: the read functions take an engine and
    open one connection; run through `AsyncConnection.run_sync` they get the async engine's connection instead."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def connect(self) -> contextlib.nullcontext[sa.Connection]:
        return contextlib.nullcontext(self.conn)


Read = Callable[[sa.Engine, UUID], Any]


def reads(today: date) -> dict[str, Read]:
    from_on = (today.replace(day=1) - timedelta(days=62)).replace(day=1)  # the last three months

    def invoice_list(engine: sa.Engine, customer_id: UUID) -> Any:
        rows, _ = list_invoices(engine, InvoiceFilter(as_of=today, customer_id=customer_id), None, PAGE)
        return rows

    def customer_statement(engine: sa.Engine, customer_id: UUID) -> Any:
        return statement(engine, customer_id, from_on=from_on, to_on=today)

    return {"list": invoice_list, "statement": customer_statement}


class Variant:
    """One way of running a read from the event loop."""

    name: str

    async def call(self, read: Read, customer_id: UUID) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class SyncThreads(Variant):
    """Today: the sync engine in a worker thread, as FastAPI runs a sync route (anyio, `threadpool_size` tokens)."""

    def __init__(self, name: str, engine: sa.Engine, threads: int) -> None:
        self.name, self.engine, self.limiter = name, engine, anyio.CapacityLimiter(threads)

    async def call(self, read: Read, customer_id: UUID) -> Any:
        return await to_thread.run_sync(read, self.engine, customer_id, limiter=self.limiter)


class AsyncEngineVariant(Variant):
    def __init__(self, name: str, engine: AsyncEngine) -> None:
        self.name, self.engine = name, engine

    async def call(self, read: Read, customer_id: UUID) -> Any:
        async with self.engine.connect() as conn:
            return await conn.run_sync(lambda sync: read(cast(sa.Engine, _Lent(sync)), customer_id))

    async def close(self) -> None:
        await self.engine.dispose()


def async_url(settings: Settings, driver: str) -> str:
    return sa.make_url(settings.sqlalchemy_url()).set(drivername=f"postgresql+{driver}").render_as_string(
        hide_password=False)


def variants(names: Sequence[str], runtime: Runtime, settings: Settings) -> list[Variant]:
    pool = {"pool_size": settings.pool_size, "max_overflow": max(2, settings.pool_size // 2)}  # as ar.database
    made: list[Variant] = []
    for name in names:
        if name == "sync-threads":
            made.append(SyncThreads(name, runtime.engine, settings.threadpool_size))
        elif name == "sync-autocommit":
            engine = runtime.engine.execution_options(isolation_level="AUTOCOMMIT")
            made.append(SyncThreads(name, engine, settings.threadpool_size))
        elif name == "asyncpg" and importlib.util.find_spec("asyncpg") is None:
            log("asyncpg is not installed (`ar` does not depend on it): `pip install asyncpg` to measure it")
        elif name == "asyncpg":
            made.append(AsyncEngineVariant(name, create_async_engine(async_url(settings, "asyncpg"), **pool)))
        elif name == "psycopg-async":
            made.append(AsyncEngineVariant(name, create_async_engine(async_url(settings, "psycopg"), **pool)))
        else:
            raise SystemExit(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
    return made


# Measuring --------------------------------------------------------------------------------------------------------
async def cell(variant: Variant, read: Read, callers: int, seconds: float, customers: list[UUID],
               rng: random.Random, database: str | None) -> dict[str, Any]:
    """`callers` tasks calling in a closed loop for `seconds`; warmed first (pools filled to `callers`)."""
    picks = [rng.choice(customers) for _ in range(4096)]

    async def caller(i: int, stop_at: float, times: list[float]) -> None:
        n = i
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            await variant.call(read, picks[n % len(picks)])
            times.append(time.perf_counter() - began)
            n += callers

    warm: list[float] = []
    await _gather(caller(i, time.perf_counter() + min(1.0, seconds / 4), warm) for i in range(callers))
    times: list[float] = []
    meter = CpuMeter(None, database, interval_s=3600.0)  # no polling thread: it would hold the GIL in the window
    meter.start()
    cpu0, began = time.process_time(), time.perf_counter()
    await _gather(caller(i, began + seconds, times) for i in range(callers))
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu0
    used = meter.stop()
    ms = sorted(t * 1000 for t in times)
    return {"calls": len(ms), "calls_per_s": len(ms) / wall, "p50_ms": nearest_rank(ms, 0.5),
            "p99_ms": nearest_rank(ms, 0.99), "cpu_ms_per_call": cpu * 1000 / len(ms),
            "postgres_cpu_ms_per_call": used["postgres"] * wall * 1000 / len(ms),
            "process_cores": cpu / wall, "postgres_cores": used["postgres"], "other_cores": used["other"]}


async def _gather(coroutines: Iterator[Awaitable[None]]) -> None:
    await asyncio.gather(*coroutines)


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


async def measure(args: argparse.Namespace, runtime: Runtime, settings: Settings, stats: HistoryStats,
                  database: str | None) -> dict[str, Any]:
    callers = [int(c) for c in args.callers.split(",")]
    made = variants(args.variants.split(","), runtime, settings)
    paths = reads(stats.today)
    customers = [c.id for c in stats.customers if stats.invoices_per_customer[c.id] > 0]
    rng = random.Random(args.seed)
    runs: list[dict[str, Any]] = []
    try:
        for variant in made:  # pools and prepared statements warm before the interleaved series
            for read in paths.values():
                for customer_id in customers[:20]:
                    await variant.call(read, customer_id)
        log("the CPU a call costs, one caller, the variants interleaved:")
        cpu = await interleaved_cpu(made, paths, customers, args.cpu_rounds, args.cpu_block, rng)
        for run in range(args.runs):
            load = load_average()
            log(f"run {run + 1}/{args.runs}: load average {load}")
            cells = []
            for op in OPERATIONS:
                for n in callers:
                    rotated = made[run % len(made):] + made[:run % len(made)]
                    for variant in rotated:
                        r = await cell(variant, paths[op], n, args.seconds, customers, rng, database)
                        cells.append({"variant": variant.name, "operation": op, "callers": n, **r})
                        log(f"  {op:9} {n:2} callers {variant.name:13} {r['calls_per_s']:7.0f} calls/s  "
                            f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  CPU {r['cpu_ms_per_call']:.2f} "
                            f"ms/call (+PostgreSQL {r['postgres_cpu_ms_per_call']:.2f})")
            runs.append({"run": run + 1, "load_before": load, "cells": cells})
    finally:
        for variant in made:
            await variant.close()
    return {"runs": runs, "medians": medians(runs), "interleaved_cpu": cpu}


async def interleaved_cpu(made: list[Variant], paths: dict[str, Read], customers: list[UUID], rounds: int,
                          block: int, rng: random.Random) -> list[dict[str, Any]]:
    """The CPU a call costs, one caller: blocks of `block` sequential calls, the variants taking turns `rounds`
    times on the same customers, so that other work on the machine weighs on each alike."""
    out = []
    for op, read in paths.items():
        spent = {v.name: [0.0, 0.0, 0] for v in made}  # CPU s, wall s, calls
        for _ in range(rounds):
            picks = [rng.choice(customers) for _ in range(block)]
            for variant in made:
                cpu0, began = time.process_time(), time.perf_counter()
                for customer_id in picks:
                    await variant.call(read, customer_id)
                total = spent[variant.name]
                total[0] += time.process_time() - cpu0
                total[1] += time.perf_counter() - began
                total[2] += block
        for name, (cpu, wall, calls) in spent.items():
            out.append({"operation": op, "variant": name, "calls": calls, "cpu_ms_per_call": cpu * 1000 / calls,
                        "wall_ms_per_call": wall * 1000 / calls})
            log(f"  one caller, interleaved: {op:9} {name:13} CPU {cpu * 1000 / calls:.2f} ms/call, "
                f"wall {wall * 1000 / calls:.2f} ms/call ({calls} calls)")
    return out


def medians(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for run in runs:
        for c in run["cells"]:
            groups.setdefault((c["operation"], c["callers"], c["variant"]), []).append(c)
    keys = ("calls_per_s", "p50_ms", "p99_ms", "cpu_ms_per_call", "postgres_cpu_ms_per_call", "process_cores",
            "postgres_cores", "other_cores")
    return [{"operation": op, "callers": n, "variant": v, "runs": len(cs),
             **{k: statistics.median(c[k] for c in cs) for k in keys}} for (op, n, v), cs in groups.items()]


async def min_position_wait(runtime: Runtime) -> dict[str, Any]:
    """What `read_after` costs today: one positions read (`runner.progress`, a worker thread), timed; then 64
    requests awaiting `waiting.progress` at once: how many reads (threads) they take."""
    runner = runtime.projections
    times = []
    for _ in range(200):
        began = time.perf_counter()
        await to_thread.run_sync(runner.progress, 0.0)
        times.append((time.perf_counter() - began) * 1000)
    cpu0 = time.process_time()
    for _ in range(200):
        runner.progress(0.0)
    cpu_ms = (time.process_time() - cpu0) * 1000 / 200
    reads_done = 0
    inner = runner.progress

    def counted(max_age_s: float = 0.0) -> Any:
        nonlocal reads_done
        reads_done += 1
        time.sleep(0.005)  # a slower read, so that the 64 surely overlap it
        return inner(max_age_s)

    runner.progress = counted  # type: ignore[method-assign]
    try:
        rounds = 20
        for _ in range(rounds):
            await asyncio.gather(*(waiting.progress(runner, 0.0) for _ in range(64)))
    finally:
        del runner.progress
    ms = sorted(times)
    return {"progress_read_p50_ms": nearest_rank(ms, 0.5), "progress_read_p99_ms": nearest_rank(ms, 0.99),
            "progress_read_cpu_ms": cpu_ms, "waiters": 64, "rounds": rounds, "reads_for_all_waiters": reads_done}


# Database ---------------------------------------------------------------------------------------------------------
def build_history(args: argparse.Namespace, runtime: Runtime, today: date) -> tuple[HistoryStats, dict[str, Any]]:
    customers = args.customers or max(200, args.invoices // 50)
    config = HistoryConfig(invoices=args.invoices, customers=customers, today=today, seed=args.seed)
    log(f"history: {config.invoices:,} invoices, {customers:,} customers")
    stats = generate(runtime.app, config, progress=log)
    began = time.perf_counter()
    events = runtime.projections.catch_up()
    caught_up_s = time.perf_counter() - began
    analyze(runtime.engine, READ_MODELS)
    with runtime.engine.connect() as conn:
        counts = {t: int(conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) or 0)
                  for t in ("invoices", "customers", "ledger_entries")}
    log(f"history: {stats.events:,} events in {stats.seconds:.0f} s; projections caught up in {caught_up_s:.0f} s; "
        f"{counts}")
    return stats, {"events": stats.events, "projected": events, "rows": counts, "customers": customers,
                   "largest_customer_invoices": max(stats.invoices_per_customer.values(), default=0)}


# Report -----------------------------------------------------------------------------------------------------------
def render(result: dict[str, Any]) -> str:
    info, data = result["machine"], result["data"]
    lines = [f"Machine: {info['nproc']} cores ({info['cpu']}), {info['postgres'].split(' on ')[0]}, Python "
             f"{info['python']}; threadpool {result['threadpool_size']} threads, pools {result['pool_size']} "
             f"connections. Data: {data['rows']['invoices']:,} invoices, {data['rows']['customers']:,} customers, "
             f"{data['rows']['ledger_entries']:,} ledger entries (largest customer "
             f"{data['largest_customer_invoices']:,} invoices). Load average before each run: "
             f"{'; '.join(r['load_before'] for r in result['runs'])}. {result['seconds']:.0f} s a cell, median of "
             f"{len(result['runs'])} runs.", "",
             "| read | callers | variant | calls/s | p50 ms | p99 ms | CPU ms/call (this process) | "
             "PostgreSQL CPU ms/call | cores: this process / PostgreSQL / others |",
             "|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for m in sorted(result["medians"], key=lambda m: (OPERATIONS.index(m["operation"]), m["callers"],
                                                      VARIANTS.index(m["variant"]))):
        lines.append(f"| {m['operation']} | {m['callers']} | {m['variant']} | {m['calls_per_s']:.0f} | "
                     f"{m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {m['cpu_ms_per_call']:.2f} | "
                     f"{m['postgres_cpu_ms_per_call']:.2f} | {m['process_cores']:.2f} / {m['postgres_cores']:.2f} / "
                     f"{m['other_cores']:.2f} |")
    lines += ["", "One caller, the variants interleaved in blocks (CPU of this process and wall time per call):", "",
              "| read | variant | calls | CPU ms/call | wall ms/call |", "|---|---|---:|---:|---:|"]
    lines += [f"| {c['operation']} | {c['variant']} | {c['calls']} | {c['cpu_ms_per_call']:.2f} | "
              f"{c['wall_ms_per_call']:.2f} |" for c in result["interleaved_cpu"]]
    w = result["min_position"]
    lines += ["", f"`min_position` wait: one positions read {w['progress_read_p50_ms']:.1f} ms p50 "
              f"({w['progress_read_p99_ms']:.1f} p99) through a worker thread, {w['progress_read_cpu_ms']:.2f} ms "
              f"CPU; {w['waiters']} requests waiting at once took {w['reads_for_all_waiters']} reads in "
              f"{w['rounds']} rounds."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the database is dropped
    args.out.mkdir(parents=True, exist_ok=True)
    info = {**machine(args.postgres_url), "code": commands.code_version()}
    log(f"machine: {info}")
    today = datetime.now(BUSINESS_TZ).date()
    with commands.postgres_database(args.postgres_url, "bench_async") as url:
        settings = Settings(database_url=url)
        runtime = build(settings, clock=SettableClock(datetime.combine(today, clock_time(20), BUSINESS_TZ)))
        try:
            stats, data = build_history(args, runtime, today)
            database = commands.database_name(url)
            measured = uvloop.run(measure(args, runtime, settings, stats, database))
            wait = uvloop.run(min_position_wait(runtime))
        finally:
            runtime.close()
    result = {"machine": info, "data": data, "threadpool_size": settings.threadpool_size,
              "pool_size": settings.pool_size, "seconds": args.seconds, **measured, "min_position": wait,
              "args": {k: str(v) for k, v in vars(args).items()}}
    (args.out / "async-reads.json").write_text(json.dumps(result, indent=1, default=str))
    text = render(result)
    (args.out / "async-reads.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
