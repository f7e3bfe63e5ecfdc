"""Command benchmark: issue-invoice and record-payment over HTTP against `ar serve`, with two anchors.

    python -m bench.run                      # the full matrix once, 20 s per cell (`make bench`)
    python -m bench.run --seconds 3          # a quick pass
    python -m bench.run --runs 3 --seconds 8 # medians of three runs
    python -m bench.run --profile-only       # py-spy profile of the server, issue-invoice, 4 clients, PostgreSQL

Per run: pgbench (single-row INSERT) and the minimal FastAPI app (bench/minimal_app.py) at each client count,
then, for each backend, a fresh database, a fresh `ar serve` subprocess, 16 customers, issue-invoice at each
client count, then record-payment at each client count. Each cell is preceded by a warm-up at the same client
count. The load generator (bench/loadgen.py) is a separate process on the same machine. Results go to
bench/out/ (JSON and a Markdown table), and the table is printed.

The machine may be shared: before each cell the run waits (bounded) for the CPU to be idle, and a cell during
which other processes still took CPU ("other" in the table) is run again, up to --noisy-retries times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import commands, lag, pgbench, profiling
from bench.commands import PATHS, PAY, ROOT
from bench.harness import describe, key_prefix, load, log, measured

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds per cell (default 20)")
    p.add_argument("--warmup", type=float, default=None, help="warm-up seconds before each cell (default: "
                   "seconds/10, between 1 and 3)")
    p.add_argument("--runs", type=int, default=1, help="repeat the whole matrix; the table shows medians")
    p.add_argument("--clients", default="1,4,16", help="comma-separated client counts (default 1,4,16)")
    p.add_argument("--backends", default="postgres,sqlite", help="postgres, sqlite or both (default)")
    p.add_argument("--operations", default=",".join(commands.OPERATIONS), help="issue-invoice, record-payment")
    p.add_argument("--no-anchors", action="store_true", help="skip pgbench and the minimal app")
    p.add_argument("--no-idempotency-key", action="store_true", help="send no Idempotency-Key header")
    p.add_argument("--profile", action="store_true", help="after the matrix, profile the server with py-spy")
    p.add_argument("--profile-only", action="store_true", help="only the profile")
    p.add_argument("--profile-seconds", type=float, default=15.0)
    p.add_argument("--profile-clients", type=int, default=4)
    p.add_argument("--profile-operation", default=commands.ISSUE, choices=commands.OPERATIONS)
    p.add_argument("--quiet-threshold", type=float, default=0.3,
                   help="before each cell, wait until the machine's busy CPU is at most this many cores (other "
                   "processes would skew the cell)")
    p.add_argument("--quiet-timeout", type=float, default=30.0,
                   help="...but no longer than this many seconds (0: do not wait); the cell records the CPU that "
                   "other processes used during it as 'other'")
    p.add_argument("--quiet-budget", type=float, default=180.0,
                   help="total seconds of such waiting over the whole run (keeps `make bench` bounded)")
    p.add_argument("--noisy-threshold", type=float, default=0.15,
                   help="a cell during which other processes took more CPU than this (cores) is run again")
    p.add_argument("--noisy-retries", type=int, default=1, help="how many times (default 1)")
    p.add_argument("--postgres-url", default=os.environ.get("AR_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL),
                   help="admin URL; fresh databases are created and dropped through it (env AR_TEST_POSTGRES_URL)")
    p.add_argument("--ar-env", action="append", default=[], metavar="AR_X=VALUE",
                   help="extra setting for `ar serve` (repeatable), e.g. AR_POOL_SIZE=8")
    p.add_argument("--processes", type=int, default=1,
                   help="server processes (`ar serve --workers N`, and the minimal app the same); their CPU is "
                   "reported as the worker's")
    p.add_argument("--with-worker", action="store_true",
                   help="run the projections in an `ar worker` process beside `ar serve` (AR_RUN_PROJECTIONS=false)")
    p.add_argument("--code", default="snapshot", metavar="snapshot|head|worktree|DIR",
                   help="snapshot (default): run the servers from a copy of services/ and migrations/ taken at the "
                   "start, so that edits made meanwhile do not change the code under test; head: from the last "
                   "commit; worktree: the working tree as it is; DIR: a directory with services/ and migrations/")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = p.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(3.0, max(1.0, args.seconds / 10))
    return args


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


# Matrix -----------------------------------------------------------------------------------------------------------
def minimal_cells(args: argparse.Namespace, run: int, log_dir: Path, code_root: Path) -> list[dict[str, Any]]:
    results = []
    customer = str(uuid.uuid4())
    with commands.minimal_server(log_dir, f"minimal-app-run{run}", code_root, args.processes) as server:
        for n in _ints(args.clients):
            body = commands.bodies(commands.ISSUE, n, [customer])
            r = measured(args, lambda n=n, body=body: load(  # type: ignore[misc]
                server, "/v1/invoices", n, args.seconds, args.warmup, body, key_prefix(args, f"minimal-{n}")))
            r.update(kind="minimal", backend="-", operation="validate only", run=run)
            log(describe(r))
            results.append(r)
    return results


def ar_cells(args: argparse.Namespace, backend: str, run: int, log_dir: Path, code_root: Path,
             code: str) -> list[dict[str, Any]]:
    results = []
    with commands.database(backend, args.postgres_url) as url, \
            commands.ar_server(url, log_dir, f"ar-{backend}-run{run}", code_root, ar_env(args),
                               args.with_worker, args.processes) as server, \
            httpx.Client(base_url=server.base_url, timeout=120, headers=commands.AUTH_HEADERS) as http:
        customers = commands.register_customers(http)
        for operation in _names(args.operations):
            invoices = commands.payable_invoices(http, customers) if operation == PAY else None
            for n in _ints(args.clients):
                body = commands.bodies(operation, n, customers, invoices)

                def cell(n: int = n, body: list[list[str]] = body, operation: str = operation) -> dict[str, Any]:
                    with lag.sampled(server.base_url, commands.AUTH_HEADERS) as lagged:
                        r = load(server, PATHS[operation], n, args.seconds, args.warmup, body,
                                 key_prefix(args, f"{backend}-{operation}-{n}"), commands.database_name(url))
                    return {**r, **lagged}

                r = measured(args, cell)
                r.update(code=code, kind="ar", backend=backend, operation=operation, run=run)
                log(describe(r))
                results.append(r)
    return results


def ar_env(args: argparse.Namespace) -> dict[str, str]:
    pairs = [item.partition("=") for item in args.ar_env]
    if any(not key.startswith("AR_") or not sep for key, sep, _ in pairs):
        raise SystemExit(f"--ar-env takes AR_NAME=value, not {args.ar_env}")
    return {key: value for key, _, value in pairs}


def machine(postgres_url: str) -> dict[str, str]:
    def first(path: str, prefix: str) -> str:
        try:
            with open(path) as f:
                return next((line.split(":", 1)[1].strip() for line in f if line.startswith(prefix)), "?")
        except OSError:
            return "?"

    pg_version = "?"
    try:
        import psycopg

        with psycopg.connect(postgres_url) as conn:
            row = conn.execute("SELECT version()").fetchone()
            pg_version = str(row[0]) if row else "?"
    except Exception as e:  # pragma: no cover - reported, not fatal
        pg_version = f"unavailable ({type(e).__name__})"
    return {"nproc": str(os.cpu_count()), "cpu": first("/proc/cpuinfo", "model name"),
            "memory": first("/proc/meminfo", "MemTotal"), "postgres": pg_version,
            "python": platform.python_version(), "kernel": platform.release()}


# Report -----------------------------------------------------------------------------------------------------------
def medians(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["kind"], r["backend"], r["operation"], r["clients"]), []).append(r)
    out = []
    for (kind, backend, operation, clients), rs in groups.items():
        out.append({
            "kind": kind, "backend": backend, "operation": operation, "clients": clients, "runs": len(rs),
            "rps": statistics.median(r["rps"] for r in rs), "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "p99_ms": statistics.median(r["p99_ms"] for r in rs),
            "rps_all": [round(r["rps"], 1) for r in rs],
            "errors": sum(r["requests"] - r["ok"] + r.get("connection_errors", 0) for r in rs),
            "noisy": sum(bool(r.get("noisy")) for r in rs),
            "lag_max_s": max((r["lag_max_s"] for r in rs if r.get("lag_max_s") is not None), default=None),
            "lag_p50_s": statistics.median(lags) if (lags := [r["lag_p50_s"] for r in rs
                                                               if r.get("lag_p50_s") is not None]) else None,
            "cpu": {k: statistics.median(r["cpu"].get(k, 0.0) for r in rs)
                    for k in ("server", "worker", "postgres", "loadgen", "other", "machine")},
        })
    return out


def table(rows: list[dict[str, Any]]) -> str:
    anchors = {(r["kind"], r["clients"]): r["rps"] for r in rows if r["kind"] in ("pgbench", "minimal")}

    def ratio(rps: float, kind: str, clients: int) -> str:
        anchor = anchors.get((kind, clients))
        if not anchor or rps <= 0:
            return "-"
        return f"{rps / anchor:.3f} (1/{anchor / rps:.0f})" if rps < anchor else f"{rps / anchor:.2f}"

    order = {"ar": 0, "minimal": 1, "pgbench": 2}
    lines = ["| backend | operation | clients | req/s | p50 ms | p99 ms | ÷ pgbench | ÷ minimal app | "
             "CPU cores: server / PG / load gen. / other | non-2xx | read models' lag p50 / max s | runs: req/s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|"]
    for r in sorted(rows, key=lambda r: (order[r["kind"]], r["backend"] != "postgres", r["operation"],
                                         r["clients"])):
        name = {"ar": "ar", "minimal": "minimal app", "pgbench": "pgbench"}[r["kind"]]
        cpu = r["cpu"]
        worker = f" + {cpu['worker']:.2f} worker" if cpu["worker"] else ""
        lines.append(
            f"| {r['backend'] if r['kind'] == 'ar' else name} | {r['operation']} | {r['clients']} | {r['rps']:,.0f}"
            f"{' *' * bool(r['noisy'])} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {ratio(r['rps'], 'pgbench', r['clients'])} | "
            f"{ratio(r['rps'], 'minimal', r['clients'])} | {cpu['server']:.2f}{worker} / {cpu['postgres']:.2f} / "
            f"{cpu['loadgen']:.2f} / {cpu['other']:.2f} | {r['errors']} | {_lag(r)} | "
            f"{', '.join(f'{x:,.0f}' for x in r['rps_all'])} |")
    if any(r["noisy"] for r in rows):
        lines.append("\n\\* other processes took more than the noisy threshold of CPU during at least one run")
    return "\n".join(lines)


def _lag(r: dict[str, Any]) -> str:
    p50, most = r.get("lag_p50_s"), r.get("lag_max_s")
    return "-" if p50 is None or most is None else f"{p50:.2f} / {most:.2f}"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: servers stopped, databases dropped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out: Path = args.out
    log_dir = out / f"logs-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with commands.code(args.code) as (code_root, code):
        info = {"code": code, **machine(args.postgres_url)}
        log(f"machine: {info}")
        if not args.profile_only:
            matrix(args, stamp, info, log_dir, code_root, code)
        if args.profile or args.profile_only:
            print(profiling.run(args, out / f"profile-{stamp}", log_dir, code_root))
    log(f"done in {(time.monotonic() - began) / 60:.1f} min; results in {out}")


def matrix(args: argparse.Namespace, stamp: str, info: dict[str, str], log_dir: Path, code_root: Path,
           code: str) -> None:
    results: list[dict[str, Any]] = []
    clients, backends = _ints(args.clients), _names(args.backends)
    cells = len(clients) * ((0 if args.no_anchors else 2) + len(backends) * len(_names(args.operations)))
    log(f"{args.runs} run(s) x {cells} cells x ({args.seconds:g} s + {args.warmup:g} s warm-up): about "
        f"{args.runs * cells * (args.seconds + args.warmup + 1) / 60:.0f} min plus start-ups")
    pgbench_bin = pgbench.find_pgbench()
    for run in range(args.runs):
        if not args.no_anchors:
            if pgbench_bin:
                results += pgbench.run_cells(pgbench_bin, args.postgres_url, clients, args.seconds, args.warmup,
                                             lambda cell: measured(args, cell))
                for r in results[-len(clients):]:
                    r["run"] = run
                    log(describe(r))
            else:
                log("pgbench not found: no database anchor")
            results += minimal_cells(args, run, log_dir, code_root)
        for backend in backends:
            results += ar_cells(args, backend, run, log_dir, code_root, code)
    rows = medians(results)
    variant = " ".join([*args.ar_env, *(["--with-worker"] if args.with_worker else []),
                        *([f"--processes {args.processes}"] if args.processes > 1 else []),
                        *(["--no-idempotency-key"] if args.no_idempotency_key else [])])
    text = table(rows) + (f"\n\nar code: {code} ({args.code}); {args.runs} run(s) of {args.seconds:g} s per cell"
                          + (f"; variant: {variant}" if variant else ""))
    out: Path = args.out
    (out / f"results-{stamp}.json").write_text(json.dumps(
        {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}, "results": results, "medians": rows},
        indent=1))
    (out / f"table-{stamp}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
