"""Read-model benchmark: a large history built through the event store, then the projections' full rebuild and the
reports on top of the read models, against a bare-SQL anchor.

    python -m bench.readmodels                              # PostgreSQL 1,000,000 invoices, then SQLite 100,000
    python -m bench.readmodels --invoices 20000             # a quick pass (SQLite gets a tenth)
    python -m bench.readmodels --backend sqlite --invoices 100000
    python -m bench.readmodels --backend postgres --database bench_rm_1m --history-only   # build once, keep
    python -m bench.readmodels --backend postgres --database bench_rm_1m --reuse          # measure on it
    python -m bench.readmodels --backend postgres --database bench_rm_1m --reuse --rebuild-only

Per backend: a fresh database (PostgreSQL: `bench_rm_<random>`, dropped WITH (FORCE) at the end; SQLite: a
temporary directory), or the kept one named by --database, migrated by `ar.runtime.build`, then

1. the history (bench/history.py): customers, invoices, payments, credit notes... through `Receivables.save`,
   many aggregates per transaction; events/s;
2. `runtime.projections.rebuild("receivables")`, then `rebuild("customers")`, each alone in the runner: events/s,
   the CPU of this process, of PostgreSQL and of other processes, and a cProfile of a 100k-event slice in the
   middle of the receivables rebuild;
3. ANALYZE (PostgreSQL: VACUUM ANALYZE, what autovacuum would have done by then) of the read models;
4. `ar.reports.aging.aging(engine, as_of=today, top=100)` and as of 6 months ago, 20 calls a series; the anchor:
   a bare GROUP BY into the same five buckets over `bench_open_items(customer_id, due_on, open_minor)` (one row
   per invoice of the invoices read model), with a covering index on (due_on, open_minor), then without;
5. one customer's aging (`aging(..., customer_id=)`) and statement (`ar.reports.statement.statement`, the last
   three months), 200 calls a series on random customers, plus the largest customer's statement;
6. PostgreSQL: EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of each report.

Each series is repeated `--runs` times; the tables show the median of the runs' p50 and p99 (p99 of 20 calls is
their maximum). Results: bench/out/readmodels-<backend>.json, the plans in bench/out/readmodels-explain.txt, the
profile in bench/out/readmodels-profile-<backend>.txt, and bench/out/readmodels.md (a section for BENCHMARKS.md,
from the latest JSON of each backend), printed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import math
import os
import pickle
import pstats
import random
import re
import resource
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.adapters.clocks import SettableClock
from ar.config import Settings
from ar.domain.clock import BUSINESS_TZ
from ar.domain.customer import Customer
from ar.projections.projection import Projection
from ar.projections.topics import event_topics
from ar.reports.aging import aging
from ar.reports.bands import Bands, band
from ar.reports.statement import statement
from ar.runtime import Runtime, build
from bench import commands
from bench.harness import log
from bench.history import HistoryConfig, HistoryStats, generate
from bench.loadgen import CpuMeter, wait_quiet
from bench.run import DEFAULT_ADMIN_URL, machine

OUT = commands.ROOT / "bench" / "out"
DEFAULT_INVOICES = {"postgres": 1_000_000, "sqlite": 100_000}
GOALS = {"rebuild_events_per_s": 10_000, "aging_today_ms": 100.0, "aging_as_of_ms": 1000.0,
         "customer_aging_ms": 5.0, "statement_ms": 5.0}
READ_MODELS = ("invoices", "payments", "ledger_entries", "open_by_due", "customer_balances", "customers",
               "open_totals", "aging_steps", "customer_aging_steps", "customer_open_months")

anchor_metadata = sa.MetaData()
open_items = sa.Table(
    "bench_open_items", anchor_metadata,
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("open_minor", sa.BigInteger, nullable=False),
)
COVERING_INDEX = "ix_bench_open_items_due_open"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.readmodels", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=("postgres", "sqlite", "both"), default="both")
    p.add_argument("--invoices", type=int, default=None,
                   help="invoices of the history (default: 1,000,000 on PostgreSQL, 100,000 on SQLite; with "
                   "--backend both, SQLite gets a tenth of this)")
    p.add_argument("--customers", type=int, default=None,
                   help="customers (default: 20,000 for 1,000,000 invoices, pro rata, at least 200)")
    p.add_argument("--batch-events", type=int, default=3000, help="events per transaction of the history")
    p.add_argument("--max-history-minutes", type=float, default=0.0,
                   help="stop the history at the end of the day on which it has taken this long (0: no limit); "
                   "the report says what size was reached")
    p.add_argument("--runs", type=int, default=3, help="repetitions of each latency series (median of runs)")
    p.add_argument("--calls", type=int, default=20, help="calls per aging series")
    p.add_argument("--customer-calls", type=int, default=200, help="calls per one-customer series")
    p.add_argument("--profile-events", type=int, default=100_000,
                   help="events of the profiled slice of the receivables rebuild (0: no profile)")
    p.add_argument("--customers-rebuild-events", type=int, default=0,
                   help="stop the customers rebuild after this many events, to time it on a long log (0: all). "
                   "The rebuild is one transaction: stopping rolls it back and leaves the rows as they were")
    p.add_argument("--quiet-timeout", type=float, default=10.0,
                   help="before each measured series, wait up to this long for a quiet machine")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--postgres-url", default=os.environ.get("AR_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL),
                   help="admin URL; the database is created and dropped through it")
    p.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL) for inspection")
    p.add_argument("--database", default=None,
                   help="use this database and keep it (PostgreSQL: a name, created if missing, e.g. bench_rm_1m; "
                   "SQLite: a file path); with --history-only or --reuse")
    p.add_argument("--history-only", action="store_true",
                   help="build the history into --database, save its statistics beside it and stop")
    p.add_argument("--rebuild-only", action="store_true",
                   help="time the receivables rebuild, write readmodels-<backend>-rebuild.json and stop")
    p.add_argument("--reuse", action="store_true",
                   help="skip the history: reuse the one built into --database by --history-only")
    p.add_argument("--out", type=Path, default=OUT)
    return p.parse_args(argv)


# Measuring --------------------------------------------------------------------------------------------------------
def nearest_rank(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Series:
    """Repeated runs of `calls` timed calls; the medians of the runs' percentiles."""

    name: str
    runs: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "runs": self.runs,
                "p50_ms": statistics.median(r["p50_ms"] for r in self.runs),
                "p99_ms": statistics.median(r["p99_ms"] for r in self.runs),
                "max_ms": max(r["max_ms"] for r in self.runs),
                "other_cores": statistics.median(r["other_cores"] for r in self.runs),
                "calls": int(self.runs[0]["calls"]) if self.runs else 0}


def timed_series(name: str, runs: int, calls: int, call: Callable[[int], Any], database: str | None,
                 quiet_timeout: float, warmup: int = 2) -> dict[str, Any]:
    try:
        return _timed_series(name, runs, calls, call, database, quiet_timeout, warmup)
    except Exception as e:  # one failing report must not lose an hour of history and rebuild
        log(f"  {name}: FAILED {type(e).__name__}: {e}")
        return {"name": name, "error": f"{type(e).__name__}: {e}"}


def _timed_series(name: str, runs: int, calls: int, call: Callable[[int], Any], database: str | None,
                  quiet_timeout: float, warmup: int) -> dict[str, Any]:
    series = Series(name)
    for _ in range(warmup):
        call(-1)
    for run in range(runs):
        if quiet_timeout > 0:
            wait_quiet(0.3, quiet_timeout)
        # no polling thread during a latency series (interval of an hour: the PostgreSQL processes are read at the
        # start and the stop only, enough for the pool's long-lived backends): every 0.25 s it scanned /proc holding
        # the GIL and stalled the call in flight, a few ms in the p99 of the one-customer series
        meter = CpuMeter(None, database, interval_s=3600.0)
        meter.start()
        times = []
        for i in range(calls):
            began = time.perf_counter()
            call(run * calls + i)
            times.append((time.perf_counter() - began) * 1000)
        cpu = meter.stop()
        series.runs.append({"calls": calls, "p50_ms": nearest_rank(times, 0.5), "p99_ms": nearest_rank(times, 0.99),
                            "max_ms": max(times), "mean_ms": statistics.fmean(times),
                            "other_cores": round(cpu["other"], 2)})
    result = series.summary()
    runs_text = ", ".join(f"{r['p50_ms']:.1f}/{r['p99_ms']:.1f}" for r in series.runs)
    log(f"  {name}: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms (runs p50/p99: {runs_text}; other CPU "
        f"{result['other_cores']:.2f} cores)")
    return result


class Instrumented:
    """Wraps a projection: the time of each batch (between the starts of consecutive `apply` calls: fetch, decode,
    apply, commit), a cProfile of the batches of events [profile_from, profile_to), the time of the final write of
    a rebuild (the projection's optional `rebuilding` hook), and an optional stop. Forwards `topics`."""

    def __init__(self, inner: Projection, profile_from: int = 0, profile_to: int = 0, stop_after: int = 0) -> None:
        self.inner, self.name = inner, inner.name
        self.topics = getattr(inner, "topics", None)
        self.profile_from, self.profile_to, self.stop_after = profile_from, profile_to, stop_after
        self.starts: list[tuple[float, int]] = []  # (apply start, position of its first event)
        self.applied = 0
        self.last_position = 0
        self.final_write_s = 0.0
        self.profiler: cProfile.Profile | None = None
        self.profiled: tuple[int, int, float, float] | None = None  # first and last position, start, end
        self._profile_start: tuple[int, float] | None = None

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        if self.stop_after and self.last_position >= self.stop_after:
            raise StopRebuild
        now = time.perf_counter()
        first, last = events[0][0], events[-1][0]
        self.starts.append((now, first))
        if self.profile_to and self.profiler is None and last >= self.profile_from and self.profiled is None:
            self.profiler = cProfile.Profile()
            self._profile_start = (self.last_position + 1, now)
            self.profiler.enable()
        self.inner.apply(conn, events)
        self.applied += len(events)
        self.last_position = last
        if self.profiler is not None and self._profile_start is not None and last >= self.profile_to:
            self.profiler.disable()
            self.profiled = (self._profile_start[0], last, self._profile_start[1], time.perf_counter())
            self._profile_start = None

    @contextlib.contextmanager
    def rebuilding(self, conn: sa.Connection) -> Iterator[None]:
        hook = getattr(self.inner, "rebuilding", None)
        if hook is None:
            yield
            return
        with hook(conn):
            yield
            began = time.perf_counter()
        self.final_write_s = time.perf_counter() - began

    def reset(self, conn: sa.Connection) -> None:
        self.inner.reset(conn)


class StopRebuild(Exception):
    pass


@contextlib.contextmanager
def only(runtime: Runtime, projection: Projection) -> Iterator[None]:
    """Run the runner with this projection alone (`catch_up` runs them all, one after the other)."""
    saved = runtime.projections.projections
    runtime.projections.projections = [projection]
    try:
        yield
    finally:
        runtime.projections.projections = saved


def rebuild(runtime: Runtime, name: str, database: str | None, *, profile_events: int = 0,
            stop_after: int = 0) -> tuple[dict[str, Any], Instrumented]:
    inner = next(p for p in runtime.projections.projections if p.name == name)
    head = runtime.projections.head()
    middle = head // 2
    wrapper = Instrumented(inner, middle, middle + profile_events if profile_events else 0, stop_after)
    meter = CpuMeter(None, database)
    meter.start()
    began = time.perf_counter()
    stopped = False
    with only(runtime, wrapper):
        try:
            events = runtime.projections.rebuild(name)  # events of the log gone through
        except StopRebuild:
            stopped = True
            events = wrapper.last_position
    seconds = time.perf_counter() - began
    cpu = meter.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profiled_s = (wrapper.profiled[3] - wrapper.profiled[2]) if wrapper.profiled else 0.0
    profiled_events = (wrapper.profiled[1] - wrapper.profiled[0] + 1) if wrapper.profiled else 0
    rate = events / seconds if seconds else 0.0
    rate_unprofiled = (events - profiled_events) / (seconds - profiled_s) if seconds > profiled_s else rate
    tenth = max(1, len(wrapper.starts) // 10)

    def window_rate(part: list[tuple[float, int]]) -> float:
        if len(part) < 2:
            return 0.0
        return (part[-1][1] - part[0][1]) / (part[-1][0] - part[0][0])

    result = {"name": name, "events": events, "head": head, "stopped_early": stopped, "seconds": round(seconds, 1),
              "decoded_events": wrapper.applied, "final_write_s": round(wrapper.final_write_s, 1),
              "max_rss_mb": round(rss_mb),
              "events_per_cpu_s": round(events / (cpu["loadgen"] * seconds)) if cpu["loadgen"] else 0,
              "events_per_s": round(rate), "events_per_s_unprofiled": round(rate_unprofiled),
              "profiled_events": profiled_events, "profiled_seconds": round(profiled_s, 1),
              "first_tenth_events_per_s": round(window_rate(wrapper.starts[:tenth + 1])),
              "last_tenth_events_per_s": round(window_rate(wrapper.starts[-tenth - 1:])),
              "cpu": {k: round(v, 2) for k, v in cpu.items()}}
    log(f"rebuild {name}: {events:,} events ({wrapper.applied:,} of them decoded and applied) in {seconds:.1f} s "
        f"= {rate:,.0f} events/s, final write {wrapper.final_write_s:.1f} s, max RSS {rss_mb:,.0f} MB "
        f"({rate_unprofiled:,.0f} without the profiled slice; first tenth {result['first_tenth_events_per_s']:,}, "
        f"last tenth {result['last_tenth_events_per_s']:,}); CPU cores: this process {cpu['loadgen']:.2f}, "
        f"PostgreSQL {cpu['postgres']:.2f}, other {cpu['other']:.2f}" + ("; stopped early" if stopped else ""))
    return result, wrapper


def profile_summary(wrapper: Instrumented, path: Path) -> dict[str, Any]:
    """Cumulative times of the rebuild's parts in the profiled slice, and the top functions (full text to path)."""
    if wrapper.profiler is None or wrapper.profiled is None:
        return {}
    raw: dict[Any, Any] = pstats.Stats(wrapper.profiler).stats  # type: ignore[attr-defined]
    total = wrapper.profiled[3] - wrapper.profiled[2]

    def outermost(func: str, filename: str = "") -> float:
        """The largest cumulative time of a function of that name (nested wrappers count once)."""
        return max((v[3] for k, v in raw.items() if k[2] == func and k[0].endswith(filename)), default=0.0)

    per_event = (_function_time(raw, "receivables.py", "invoice_event")
                 + _function_time(raw, "receivables.py", "payment_event"))
    steps = _function_time(raw, "receivables.py", "_step")
    parts = {
        "read the notification log (`select_notifications`, the projection's topics only)":
            outermost("select_notifications"),
        "decode events (`mapper.to_domain_event`: JSON, transcodings, event objects)": outermost("to_domain_event"),
        "projection: per-event Python (`invoice_event`, `payment_event`), without the aging steps":
            per_event - steps,
        "projection: aging steps (`_step`: each invoice's deltas in effective-date order)": steps,
        "projection: write the batch's ledger entries (one COPY)": _function_time(raw, "receivables.py",
                                                                                   "insert_rows"),
        "commit": outermost("commit", "base.py"),
    }
    parts["the rest (position row, SQLAlchemy set-up, ...)"] = max(0.0, total - sum(parts.values()))
    out = io.StringIO()
    pstats.Stats(wrapper.profiler, stream=out).sort_stats("cumulative").print_stats(45)
    pstats.Stats(wrapper.profiler, stream=out).sort_stats("tottime").print_stats(30)
    path.write_text(out.getvalue())
    events = wrapper.profiled[1] - wrapper.profiled[0] + 1
    tottime = sorted(((v[2], f"{Path(k[0]).name}:{k[1]}({k[2]})") for k, v in raw.items()), reverse=True)[:12]
    return {"events": events, "seconds": round(total, 2), "events_per_s_profiled": round(events / total),
            "parts_s": {k: round(v, 2) for k, v in parts.items()},
            "top_tottime": [(name, round(t, 2)) for t, name in tottime]}


def _function_time(raw: dict[Any, Any], filename: str, func: str, qualifier: str | None = None) -> float:
    """Cumulative seconds of `func` in `filename` (of the class `qualifier`, told apart by line order)."""
    found = [(k, v) for k, v in raw.items() if k[0].endswith(filename) and k[2] == func]
    if qualifier and len(found) > 1:
        found.sort(key=lambda kv: kv[0][1])  # _Rows.flush comes before _Batch.flush in receivables.py
        found = [found[0]] if qualifier == "_Rows" else [found[-1]]
    return float(sum(v[3] for _, v in found))


# Anchor -----------------------------------------------------------------------------------------------------------
def anchor_query(as_of: date) -> sa.Select[int, Any, int]:
    index = band(open_items.c.due_on, Bands().thresholds(as_of)).label("band")
    return sa.select(index, sa.func.sum(open_items.c.open_minor), sa.func.count()).group_by(index)


def build_anchor(engine: sa.Engine) -> dict[str, Any]:
    anchor_metadata.drop_all(engine)
    anchor_metadata.create_all(engine)
    from ar.projections.tables import invoices

    with engine.begin() as conn:
        conn.execute(open_items.insert().from_select(
            ["customer_id", "due_on", "open_minor"],
            sa.select(invoices.c.customer_id, invoices.c.due_on, invoices.c.open_minor)))
        rows = conn.scalar(sa.select(sa.func.count()).select_from(open_items))
        open_rows = conn.scalar(sa.select(sa.func.count()).select_from(open_items).where(open_items.c.open_minor > 0))
    return {"rows": int(rows or 0), "open_rows": int(open_rows or 0)}


def analyze(engine: sa.Engine, tables: Sequence[str]) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


# EXPLAIN ----------------------------------------------------------------------------------------------------------
@dataclass
class Captured:
    statement: str
    parameters: Any
    ms: float


@contextlib.contextmanager
def capture(engine: sa.Engine) -> Iterator[list[Captured]]:
    found: list[Captured] = []
    starts: list[float] = []

    def before(_conn: Any, _cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement_: str, parameters: Any, _context: Any, _many: bool) -> None:
        found.append(Captured(statement_, parameters, (time.perf_counter() - starts.pop()) * 1000))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


INDEX_USE = re.compile(r"(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)")
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
SPILL = re.compile(r"(Disk Usage: \d+kB|Batches: (?:[2-9]|\d\d+)|external merge\s+Disk: \d+kB|Sort Method: "
                   r"external \w+)")


def anatomy(engine: sa.Engine, report: str, call: Callable[[], Any], calls: int = 20) -> dict[str, Any]:
    """Statements per call, and the time spent in the driver's execute (round trip + server) against the call's."""
    with capture(engine) as found:
        began = time.perf_counter()
        for _ in range(calls):
            call()
        call_ms = (time.perf_counter() - began) * 1000 / calls
    db_ms = sum(c.ms for c in found) / calls
    return {"report": report, "statements": len(found) / calls, "call_ms": round(call_ms, 2),
            "execute_ms": round(db_ms, 2)}


def explain(engine: sa.Engine, report: str, call: Callable[[], Any], keep: int = 2,
            setup: str | None = None) -> list[dict[str, Any]]:
    try:
        return _explain(engine, report, call, keep, setup)
    except Exception as e:
        log(f"  EXPLAIN {report}: FAILED {type(e).__name__}: {e}")
        return []


def _explain(engine: sa.Engine, report: str, call: Callable[[], Any], keep: int,
             setup: str | None) -> list[dict[str, Any]]:
    """Run `call` once capturing its statements, then EXPLAIN (ANALYZE, BUFFERS) the `keep` slowest queries."""
    with capture(engine) as found:
        call()
    slowest = sorted((c for c in found if c.statement.lstrip().upper().startswith("SELECT")),
                     key=lambda c: -c.ms)[:keep]
    out = []
    for c in slowest:
        with engine.connect() as conn:
            if setup:
                conn.exec_driver_sql(setup)
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + c.statement, c.parameters))
            conn.rollback()
        out.append({"report": report, "ms": round(c.ms, 1), "statement": " ".join(c.statement.split()),
                    "plan": plan, "indexes": sorted({f"{m[1]} ({m[0]})" for m in INDEX_USE.findall(plan)}),
                    "seq_scans": sorted(set(SEQ_SCAN.findall(plan))), "spills": sorted(set(SPILL.findall(plan))),
                    "execution_ms": _execution_ms(plan)})
    return out


def _execution_ms(plan: str) -> float | None:
    m = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return float(m.group(1)) if m else None


# One backend ------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def database(backend: str, admin_url: str, keep: bool, name: str | None = None) -> Iterator[str]:
    if name is not None and backend == "sqlite":
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{Path(name).resolve()}"
    elif name is not None:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
        log(f"using database {name} (kept; drop it with DROP DATABASE \"{name}\" WITH (FORCE))")
        yield commands.with_database(admin_url, name)
    elif backend == "sqlite":
        with commands.sqlite_database() as url:
            yield url
    elif keep:
        import uuid

        import psycopg

        name = f"bench_rm_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        log(f"keeping database {name}")
        yield commands.with_database(admin_url, name)
    else:
        with commands.postgres_database(admin_url, "bench_rm") as url:
            yield url


def run_backend(args: argparse.Namespace, backend: str, invoices: int) -> dict[str, Any]:
    customers = args.customers or max(200, round(invoices * 20_000 / 1_000_000))
    today = datetime.now(BUSINESS_TZ).date()
    config = HistoryConfig(invoices=invoices, customers=customers, today=today, batch_events=args.batch_events,
                           seed=args.seed, max_seconds=args.max_history_minutes * 60)
    result: dict[str, Any] = {"backend": backend, "invoices": invoices, "customers": customers,
                              "today": today.isoformat(), "started": datetime.now().isoformat(timespec="seconds")}
    with database(backend, args.postgres_url, args.keep, args.database) as url:
        dbname = commands.database_name(url)
        settings = Settings(database_url=url)
        clock = SettableClock(datetime.combine(today, clock_time(20), BUSINESS_TZ))
        runtime = build(settings, clock=clock)
        try:
            result.update(measure(args, runtime, config, dbname))
        finally:
            runtime.close()
    result["finished"] = datetime.now().isoformat(timespec="seconds")
    return result


def measure(args: argparse.Namespace, runtime: Runtime, config: HistoryConfig, dbname: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    backend = "postgres" if runtime.engine.dialect.name == "postgresql" else "sqlite"
    log(f"[{backend}] history: {config.invoices:,} invoices, {config.customers:,} customers, "
        f"{config.days} days up to {config.today}")
    saved = args.out / f"readmodels-history-{backend}-{Path(args.database or 'none').name}.pickle"
    if args.reuse:
        stats, result["history"] = pickle.loads(saved.read_bytes())
        log(f"reusing the history of {args.database}: {stats.events:,} events")
    else:
        meter = CpuMeter(None, dbname)
        meter.start()
        cpu0 = time.process_time()
        stats = generate(runtime.app, config, progress=log)
        cpu = meter.stop()
        result["history"] = {**stats.summary(), "process_cpu_s": round(time.process_time() - cpu0, 1),
                             "cpu": {k: round(v, 2) for k, v in cpu.items()}}
        if args.database:
            saved.write_bytes(pickle.dumps((stats, result["history"])))
    h = result["history"]
    log(f"history: {stats.events:,} events in {stats.seconds:.0f} s = {stats.events_per_s:,.0f} events/s "
        f"({stats.transactions:,} transactions); CPU cores: this process {h['cpu']['loadgen']:.2f}, "
        f"PostgreSQL {h['cpu']['postgres']:.2f}, other {h['cpu']['other']:.2f}")
    result["event_store"] = event_store_size(runtime)
    if args.history_only:
        return result

    receivables, wrapper = rebuild(runtime, "receivables", dbname, profile_events=args.profile_events)
    if args.rebuild_only:
        (args.out / f"readmodels-{backend}-rebuild.json").write_text(json.dumps(receivables, indent=1, default=str))
        result["rebuild_only"] = True
        return result
    profile_path = args.out / f"readmodels-profile-{backend}.txt"
    customers_rebuild, _ = rebuild(runtime, "customers", dbname, stop_after=args.customers_rebuild_events)
    if customers_rebuild["stopped_early"]:
        restore_customers(runtime)
    result["rebuild"] = {"receivables": receivables, "customers": customers_rebuild,
                         "profile": profile_summary(wrapper, profile_path)}
    del wrapper
    (args.out / f"readmodels-{backend}.partial.json").write_text(json.dumps(result, indent=1, default=str))
    analyze(runtime.engine, READ_MODELS)
    result["read_models"] = table_counts(runtime.engine)
    log(f"read models: {result['read_models']}")
    result.update(reports(args, runtime, stats, dbname))
    return result


def restore_customers(runtime: Runtime) -> None:
    """A stopped rebuild rolls back: write the customers rows again from the customer events alone (the reports
    need their names)."""
    projection = next(p for p in runtime.projections.projections if p.name == "customers")
    topics = event_topics(Customer.Event)
    head, position = runtime.projections.head(), 0
    with runtime.engine.begin() as conn:
        projection.reset(conn)
        while notifications := runtime.app.recorder.select_notifications(position, 5000, stop=head, topics=topics,
                                                                          inclusive_of_start=False):
            projection.apply(conn, [(n.id, runtime.app.mapper.to_domain_event(n)) for n in notifications])
            position = notifications[-1].id
    log("customers rows written again from the customer events")


def event_store_size(runtime: Runtime) -> dict[str, Any]:
    if runtime.engine.dialect.name != "postgresql":
        return {}
    with runtime.engine.connect() as conn:
        size = conn.scalar(sa.text("SELECT pg_database_size(current_database())"))
    return {"database_bytes": int(size or 0)}


def table_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: int(conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) or 0) for t in READ_MODELS}


def reports(args: argparse.Namespace, runtime: Runtime, stats: HistoryStats, dbname: str | None) -> dict[str, Any]:
    engine, today = runtime.engine, stats.today
    six_months_ago = today - timedelta(days=182)
    rng = random.Random(args.seed)
    customer_ids = [c.id for c in stats.customers]
    picks = [rng.choice(customer_ids) for _ in range(args.runs * args.customer_calls + 1)]
    largest = max(stats.invoices_per_customer, key=lambda c: stats.invoices_per_customer[c])
    from_on = (today.replace(day=1) - timedelta(days=62)).replace(day=1)  # the last three months

    def cust(i: int) -> UUID:
        return picks[i] if i >= 0 else picks[-1]

    series: dict[str, dict[str, Any]] = {}
    q = args.quiet_timeout
    log("reports:")
    series["aging_today"] = timed_series("aging today", args.runs, args.calls,
                                         lambda _i: aging(engine, as_of=today, top=100), dbname, q)
    series["aging_as_of"] = timed_series("aging as of 6 months ago", args.runs, args.calls,
                                         lambda _i: aging(engine, as_of=six_months_ago, top=100), dbname, q)
    anchor = build_anchor(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE INDEX {COVERING_INDEX} ON bench_open_items (due_on, open_minor)")
    analyze(engine, ["bench_open_items"])

    def run_anchor(_i: int) -> None:
        with engine.connect() as conn:
            conn.execute(anchor_query(today)).all()

    series["anchor_index"] = timed_series("anchor: GROUP BY, covering index", args.runs, args.calls, run_anchor,
                                          dbname, q)
    explained: list[dict[str, Any]] = []
    if engine.dialect.name == "postgresql":
        explained += explain(engine, "anchor, covering index", lambda: run_anchor(0), keep=1)

        def run_anchor_index_only(_i: int) -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                conn.execute(anchor_query(today)).all()

        series["anchor_index_only"] = timed_series("anchor: GROUP BY, covering index, enable_seqscan=off",
                                                   args.runs, args.calls, run_anchor_index_only, dbname, q)
        explained += explain(engine, "anchor, covering index, enable_seqscan=off",
                             lambda: run_anchor_index_only(0), keep=1, setup="SET LOCAL enable_seqscan = off")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {COVERING_INDEX}")
    analyze(engine, ["bench_open_items"])
    series["anchor_no_index"] = timed_series("anchor: GROUP BY, no index", args.runs, args.calls, run_anchor,
                                             dbname, q)
    if engine.dialect.name == "postgresql":
        explained += explain(engine, "anchor, no index", lambda: run_anchor(0), keep=1)
    series["customer_aging"] = timed_series(
        "one customer's aging", args.runs, args.customer_calls,
        lambda i: aging(engine, as_of=today, customer_id=cust(i), top=100), dbname, q)
    series["statement"] = timed_series(
        "one customer's statement", args.runs, args.customer_calls,
        lambda i: statement(engine, cust(i), from_on=from_on, to_on=today), dbname, q)
    series["statement_largest"] = timed_series(
        "the largest customer's statement", args.runs, args.calls,
        lambda _i: statement(engine, largest, from_on=from_on, to_on=today), dbname, q)
    typical = picks[0]
    calls_anatomy = [
        anatomy(engine, "aging today", lambda: aging(engine, as_of=today, top=100), 5),
        anatomy(engine, "one customer's aging", lambda: aging(engine, as_of=today, customer_id=typical, top=100)),
        anatomy(engine, "one customer's statement",
                lambda: statement(engine, typical, from_on=from_on, to_on=today)),
    ]
    for a in calls_anatomy:
        log(f"  {a['report']}: {a['statements']:.0f} statements, {a['execute_ms']} ms in execute of {a['call_ms']} ms")
    if engine.dialect.name == "postgresql":
        log("EXPLAIN (ANALYZE, BUFFERS):")
        explained += explain(engine, "aging today", lambda: aging(engine, as_of=today, top=100))
        explained += explain(engine, "aging as of 6 months ago",
                             lambda: aging(engine, as_of=six_months_ago, top=100))
        explained += explain(engine, "one customer's aging", lambda: aging(engine, as_of=today,
                                                                             customer_id=typical, top=100))
        explained += explain(engine, "one customer's statement", lambda: statement(
            engine, typical, from_on=from_on, to_on=today), keep=3)
        explained += explain(engine, "the largest customer's statement", lambda: statement(
            engine, largest, from_on=from_on, to_on=today), keep=3)
        for e in explained:
            log(f"  {e['report']}: {e['ms']} ms, indexes {e['indexes']}, seq scans {e['seq_scans']}, "
                f"spills {e['spills']}")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS bench_open_items"))
    return {"series": series, "anchor_table": anchor, "explain": explained, "anatomy": calls_anatomy,
            "as_of": six_months_ago.isoformat(),
            "statement_period": [from_on.isoformat(), today.isoformat()],
            "largest_customer_invoices": stats.invoices_per_customer[largest]}


# Report -----------------------------------------------------------------------------------------------------------
def _ms(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def _ok(value: float, goal: float, lower_is_better: bool = True) -> str:
    good = value <= goal if lower_is_better else value >= goal
    return "yes" if good else "**no**"


def backend_table(r: dict[str, Any]) -> list[str]:
    s, h, rb = r["series"], r["history"], r["rebuild"]
    reached = h["counts"].get("invoices", r["invoices"])
    size = f"{reached:,} invoices" if reached == r["invoices"] else \
        f"{reached:,} invoices (of {r['invoices']:,} planned: the history was cut short on {h['today']})"
    lines = [f"#### {r['backend']}: {size}, {r['customers']:,} customers ({h['events']:,} events)", "",
             "| measure | figure | goal | met | anchor / ratio |", "|---|---:|---:|:-:|---|"]
    per_transaction = h["events"] // max(1, h["transactions"])
    lines.append(f"| history through the event store (`app.save(*aggregates)`, ~{per_transaction:,}"
                 f" events a transaction) | {h['events_per_s']:,} events/s | (~12,000 reached elsewhere) | - | "
                 f"{h['seconds']:,.0f} s; CPU: this process {h['cpu']['loadgen']:.2f}, PostgreSQL "
                 f"{h['cpu']['postgres']:.2f}, other {h['cpu']['other']:.2f} cores |")
    for name in ("receivables", "customers"):
        x = rb[name]
        note = f"{x['events']:,} events in {x['seconds']:,.0f} s"
        if x.get("events_per_cpu_s"):
            note += f" ({x['events_per_cpu_s']:,} events per CPU-second of this process)"
        if x.get("decoded_events") is not None and x["decoded_events"] != x["events"]:
            note += f"; {x['decoded_events']:,} of them of the projection's topics, decoded and applied"
        if x.get("final_write_s"):
            note += f"; the final write (COPY of the rows kept in memory) {x['final_write_s']:,.0f} s"
        if x.get("max_rss_mb"):
            note += f"; max RSS {x['max_rss_mb']:,} MB"
        if x.get("stopped_early"):
            note += f" (timed over the first {x['events']:,} of {x['head']:,} events)"
        if x.get("profiled_events"):
            note += f"; {x['events_per_s_unprofiled']:,} events/s without the profiled slice"
        note += (f"; first/last tenth {x['first_tenth_events_per_s']:,}/{x['last_tenth_events_per_s']:,}; CPU: this "
                 f"process {x['cpu']['loadgen']:.2f}, PostgreSQL {x['cpu']['postgres']:.2f}, other "
                 f"{x['cpu']['other']:.2f} cores")
        goal = GOALS["rebuild_events_per_s"]
        lines.append(f"| full rebuild `{name}` | {x['events_per_s']:,} events/s | >= {goal:,} | "
                     f"{_ok(x['events_per_s'], goal, False)} | {note} |")
    a_idx, a_no = s["anchor_index"], s["anchor_no_index"]

    def row(title: str, key: str, goal: float | None, ratios: bool = False) -> None:
        x = s.get(key)
        if x is None:
            return
        if "error" in x:
            lines.append(f"| {title} | failed: {x['error'][:80]} | | | |")
            return
        ratio = ""
        if ratios:
            ratio = (f"{x['p50_ms'] / a_idx['p50_ms']:.1f}x the anchor with index, "
                     f"{x['p50_ms'] / a_no['p50_ms']:.1f}x without (p50)")
        goal_text = f"<= {_ms(goal)} ms (p{'50' if 'aging' in key and 'customer' not in key else '99'})" \
            if goal else "-"
        met = "-"
        if goal:
            met = _ok(x["p99_ms"] if "customer" in key or "statement" in key else x["p50_ms"], goal)
        lines.append(f"| {title} | p50 {_ms(x['p50_ms'])} / p99 {_ms(x['p99_ms'])} ms | {goal_text} | {met} | "
                     f"{ratio}{'; ' if ratio else ''}{x['calls']} calls x {len(x['runs'])} runs, other CPU "
                     f"{x['other_cores']:.2f} |")

    row("aging today (`aging(as_of=today, top=100)`)", "aging_today", GOALS["aging_today_ms"], True)
    row(f"aging as of 6 months ago ({r['as_of']})", "aging_as_of", GOALS["aging_as_of_ms"], True)
    row(f"anchor: bare GROUP BY into 5 buckets, {r['anchor_table']['rows']:,} rows, covering index", "anchor_index",
        None)
    row("anchor: the same, covering index, `enable_seqscan = off` (index-only scan)", "anchor_index_only", None)
    row("anchor: the same, no index", "anchor_no_index", None)
    row("one customer's aging (random customers)", "customer_aging", GOALS["customer_aging_ms"])
    row(f"one customer's statement ({r['statement_period'][0]} to {r['statement_period'][1]}, random customers)",
        "statement", GOALS["statement_ms"])
    row(f"the largest customer's statement ({r['largest_customer_invoices']:,} invoices)", "statement_largest", None)
    return lines


def render(results: list[dict[str, Any]], info: dict[str, str]) -> str:
    lines = ["### Read models: rebuild and reports (`python -m bench.readmodels`)", "",
             f"Machine: {info.get('nproc')} cores ({info.get('cpu')}), {info.get('memory')} RAM, "
             f"{info.get('postgres', '?').split(' on ')[0]} (default settings: shared_buffers 128MB, work_mem 4MB), "
             f"Python {info.get('python')}; code {info.get('code')}. The machine was shared with other work: "
             "'other' is the CPU (in cores) that other processes took during a measure.", ""]
    lines += ["How: a history built through the event store with the real domain (bench/history.py: customers, "
              "invoices numbered by a yearly series, payments allocated with `ar.domain.allocation.allocate`, "
              "partial payments, credit notes, returned direct debits, write-offs, over 18 months up to today), "
              "saved with `runtime.app.save(*aggregates)` many aggregates a transaction; then each projection's "
              "full `runtime.projections.rebuild(...)` alone; then VACUUM ANALYZE of the read models; then each "
              "report called in-process (the function call's time), the aging 20 times a series, one customer's "
              "reports 200 times on random customers; each series run 3 times and the median of the runs' p50 "
              "and p99 shown (p99 of 20 calls is their maximum).", ""]
    for r in results:
        lines += backend_table(r)
        h = r["history"]["counts"]
        lines += ["", f"History: {h.get('invoices', 0):,} invoices, {h.get('payments', 0):,} payments making "
                  f"{h.get('allocations', 0):,} allocations ({h.get('partial_allocations', 0):,} partial), "
                  f"{h.get('credit_notes', 0):,} credit notes, {h.get('returned_payments', 0):,} returned direct "
                  f"debits, {h.get('write_offs', 0):,} write-offs; read models: "
                  + ", ".join(f"{k} {v:,}" for k, v in r["read_models"].items()) + ".", ""]
        prof = r["rebuild"].get("profile") or {}
        if prof:
            lines += [f"Where the receivables rebuild's time goes (cProfile, {prof['events']:,} events in the middle "
                      f"of the log, {prof['seconds']} s under the profiler):", "", "| part | s | share |",
                      "|---|---:|---:|"]
            for part, seconds in prof["parts_s"].items():
                lines.append(f"| {part} | {seconds:.2f} | {seconds / prof['seconds']:.0%} |")
            lines.append("")
    anatomies = [(r["backend"], a) for r in results for a in r.get("anatomy", [])]
    if anatomies:
        lines += ["Anatomy of a call (20 calls; `execute` is the time inside the driver's execute: round trip and "
                  "server):", "", "| backend | report | statements a call | ms in execute | ms a call |",
                  "|---|---|---:|---:|---:|"]
        lines += [f"| {b} | {a['report']} | {a['statements']:.0f} | {a['execute_ms']} | {a['call_ms']} |"
                  for b, a in anatomies]
        lines.append("")
    explained = [e for r in results for e in r.get("explain", [])]
    if explained:
        lines += ["EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, the slowest statements of each report "
                  "(plans in bench/out/readmodels-explain.txt):", "",
                  "| report | statement | ms | indexes used | seq scans | spills to disk |",
                  "|---|---|---:|---|---|---|"]
        for e in explained:
            lines.append(f"| {e['report']} | `{e['statement'][:90]}...` | {e['execution_ms'] or e['ms']} | "
                         f"{', '.join(e['indexes']) or '-'} | {', '.join(e['seq_scans']) or '-'} | "
                         f"{', '.join(e['spills']) or '-'} |")
        lines.append("")
    return "\n".join(lines)


def write_outputs(out: Path, info: dict[str, str]) -> str:
    results = []
    for backend in ("postgres", "sqlite"):
        path = out / f"readmodels-{backend}.json"
        if path.exists():
            results.append(json.loads(path.read_text()))
    text = render(results, info)
    notes = out / "readmodels-notes.md"
    if notes.exists():
        text += "\n" + notes.read_text()
    (out / "readmodels.md").write_text(text + "\n")
    plans = []
    for r in results:
        for e in r.get("explain", []):
            plans.append(f"== {r['backend']} {r['invoices']:,} invoices: {e['report']} ({e['ms']} ms)\n"
                         f"{e['statement']}\n\n{e['plan']}\n")
    if plans:
        (out / "readmodels-explain.txt").write_text("\n".join(plans))
    return text


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: the database is dropped
    args.out.mkdir(parents=True, exist_ok=True)
    info = {**machine(args.postgres_url), "code": commands.code_version()}
    log(f"machine: {info}")
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    began = time.monotonic()
    for backend in backends:
        if args.invoices is None:
            n = DEFAULT_INVOICES[backend]
        elif args.backend == "both" and backend == "sqlite":
            n = max(1000, args.invoices // 10)
        else:
            n = args.invoices
        result = run_backend(args, backend, n)
        if args.history_only or args.rebuild_only:
            log(f"[{backend}] done in {(time.monotonic() - began) / 60:.1f} min (history or rebuild only)")
            continue
        result["machine"] = info
        result["args"] = {k: str(v) for k, v in vars(args).items()}
        (args.out / f"readmodels-{backend}.json").write_text(json.dumps(result, indent=1, default=str))
        log(f"[{backend}] done in {(time.monotonic() - began) / 60:.1f} min")
    if not (args.history_only or args.rebuild_only):
        print(write_outputs(args.out, info))


if __name__ == "__main__":
    main()
