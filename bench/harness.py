"""Running one cell: the load generator process, the quiet-machine check, a one-line description."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

from bench import loadgen
from bench.commands import BENCH_TOKEN, ROOT, Server


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load(server: Server, path: str, clients: int, seconds: float, warmup: float, bodies: list[list[str]],
         key_prefix: str | None, database: str | None = None) -> dict[str, Any]:
    """Run the load generator process against `server`; its JSON result."""
    spec = {"host": "127.0.0.1", "port": server.port, "path": path, "clients": clients, "seconds": seconds,
            "warmup": warmup, "bodies": bodies, "key_prefix": key_prefix, "server_pid": server.pid,
            "worker_pids": [w.pid for w in server.workers] + server.children(),
            "database": database, "authorization": f"Bearer {BENCH_TOKEN}"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    try:
        done = subprocess.run([sys.executable, "-m", "bench.loadgen", f.name], cwd=ROOT, capture_output=True,
                              text=True, timeout=seconds + warmup + 120)
    finally:
        os.unlink(f.name)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def failures(r: dict[str, Any]) -> int:
    """Requests answered with a non-2xx status, and connections lost."""
    return int(r["requests"] - r["ok"] + r.get("connection_errors", 0))


def describe(r: dict[str, Any]) -> str:
    cpu = r["cpu"]
    bad = failures(r)
    return (f"{r['kind']:8} {r['backend']:8} {r['operation']:16} c={r['clients']:<3} {r['rps']:9.1f} req/s  "
            f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  cpu server {cpu['server']:.2f} "
            + (f"worker {cpu['worker']:.2f} " if cpu.get("worker") else "")
            + f"pg {cpu['postgres']:.2f} loadgen {cpu['loadgen']:.2f} other {cpu['other']:.2f} "
            f"(machine {cpu['machine']:.2f}/{cpu['cores']})"
            + (f"  lag p50 {r['lag_p50_s']:.2f} s max {r['lag_max_s']:.2f} s" if r.get("lag_max_s") is not None
               else "")
            + (f"  NON-2xx {bad}: {r['errors'][:1]}" if bad else ""))


_waited = [0.0]


def wait_quiet(args: argparse.Namespace) -> None:
    """Before a cell: wait for a quiet machine, at most --quiet-timeout, and --quiet-budget over the whole run."""
    timeout = min(args.quiet_timeout, args.quiet_budget - _waited[0])
    if timeout <= 0:
        return
    waited, busy = loadgen.wait_quiet(args.quiet_threshold, timeout)
    _waited[0] += max(0.0, waited - 1.0)
    if busy > args.quiet_threshold:
        log(f"machine still busy ({busy:.2f} cores) after {waited:.0f} s; measuring anyway (see 'other' CPU)")
    elif waited > 2:
        log(f"waited {waited:.0f} s for a quiet machine")


def measured(args: argparse.Namespace, cell: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a cell on a quiet machine; if other processes still took more than --noisy-threshold cores during it,
    or some requests failed (e.g. PostgreSQL's max_connections reached by other users), run it again (up to
    --noisy-retries times, while --quiet-budget lasts: a retry spends it too) and keep the best attempt (fewest
    failures, then quietest), flagged `noisy` if still noisy."""
    best: dict[str, Any] | None = None
    r: dict[str, Any] = {}
    for attempt in range(1 + max(0, args.noisy_retries)):
        if attempt:
            if _waited[0] >= args.quiet_budget:
                break
            log(f"noisy (other processes took {r['cpu']['other']:.2f} cores) or {failures(r)} failures: "
                f"{r['rps']:.1f} req/s; again")
            _waited[0] += args.seconds + args.warmup
        wait_quiet(args)
        r = cell()
        r["attempts"] = attempt + 1
        if best is None or (failures(r), r["cpu"]["other"]) < (failures(best), best["cpu"]["other"]):
            best = r
        if r["cpu"]["other"] <= args.noisy_threshold and not failures(r):
            break
    assert best is not None
    best["noisy"] = best["cpu"]["other"] > args.noisy_threshold
    return best


def key_prefix(args: argparse.Namespace, label: str) -> str | None:
    return None if args.no_idempotency_key else f"{label}-{uuid.uuid4().hex[:8]}"
