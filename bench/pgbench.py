"""The database anchor: pgbench, one single-row INSERT per transaction, on a scratch database.

`pgbench -n -c N -j N -T seconds -f insert.sql -l`: each client is a connection in its own thread; latencies
come from the per-transaction log (`-l`), so p50/p99 are computed the same way as for the HTTP cells.
"""

from __future__ import annotations

import glob
import os
import re
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from bench.commands import postgres_database
from bench.loadgen import CpuMeter, percentile

SCRIPT = "\\set v random(1, 1000000000)\nINSERT INTO t(v) VALUES (:v);\n"


def find_pgbench() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"),
                        key=lambda p: int(re.sub(r"\D", "", Path(p).parts[-3]) or 0))
    return candidates[-1] if candidates else shutil.which("pgbench")


def version(pgbench: str) -> str:
    return subprocess.run([pgbench, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def _connection_args(url: str) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(url)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
            "-U", unquote(parts.username or "postgres")]
    env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
    return args, env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _pgbench(pgbench: str, url: str, clients: int, seconds: float, workdir: Path, log: bool) -> str:
    args, env = _connection_args(url)
    dbname = urlsplit(url).path.lstrip("/")
    argv = [pgbench, *args, "-n", "-c", str(clients), "-j", str(clients), "-T", str(max(1, round(seconds))),
            "-f", str(workdir / "insert.sql")]
    if log:
        argv += ["-l", "--log-prefix", str(workdir / "tx")]
    argv.append(dbname)
    done = subprocess.run(argv, capture_output=True, text=True, cwd=workdir, env={**os.environ, **env})
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _cell(pgbench: str, url: str, n: int, seconds: float, warmup: float, workdir: Path) -> dict[str, Any]:
    if warmup > 0:
        _pgbench(pgbench, url, n, warmup, workdir, log=False)
    for old in workdir.glob("tx*"):
        old.unlink()
    dbname = urlsplit(url).path.lstrip("/")
    meter, children = CpuMeter(None, dbname, interval_s=0.1), _children_cpu()
    meter.start()
    out = _pgbench(pgbench, url, n, seconds, workdir, log=True)
    cpu, children = meter.stop(), _children_cpu() - children
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if not found:
        raise RuntimeError(f"cannot read pgbench's tps from:\n{out}")
    latencies = []
    for path in workdir.glob("tx*"):
        with open(path) as f:
            latencies += [int(line.split()[2]) for line in f if line.strip()]
    latencies.sort()
    cpu["loadgen"] = children / seconds  # pgbench itself (about: the window also has connection set-up)
    cpu["other"] = max(0.0, cpu["machine"] - cpu["loadgen"] - cpu["postgres"])
    return {
        "kind": "pgbench", "backend": "postgres", "operation": "INSERT (pgbench)", "clients": n,
        "seconds": seconds, "requests": len(latencies), "ok": len(latencies), "rps": float(found.group(1)),
        "p50_ms": percentile(latencies, 0.50) / 1e3, "p90_ms": percentile(latencies, 0.90) / 1e3,
        "p99_ms": percentile(latencies, 0.99) / 1e3, "cpu": cpu, "statuses": {}, "errors": [],
    }


def run_cells(pgbench: str, admin_url: str, clients: list[int], seconds: float, warmup: float,
              measured: Callable[[Callable[[], dict[str, Any]]], dict[str, Any]] = lambda cell: cell(),
              ) -> list[dict[str, Any]]:
    """One cell per client count, on one scratch database (created and dropped here). `measured` runs a cell
    (e.g. waits for a quiet machine, runs it again if it was noisy)."""
    results = []
    with postgres_database(admin_url, "ar_bench_pgbench") as url, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "insert.sql").write_text(SCRIPT)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id bigserial PRIMARY KEY, v integer NOT NULL)")
        for n in clients:
            results.append(measured(lambda n=n: _cell(pgbench, url, n, seconds, warmup, workdir)))  # type: ignore[misc]
    return results
