"""The two commands under load, and the servers they run on.

* issue-invoice: `POST /v1/invoices`, every client on the same numbering series (`B`, gapless, so every issue
  serializes on it, as a company's single yearly series does), one of 16 customers per client.
* record-payment: `POST /v1/payments` with one explicit allocation: a partial payment of 10.00 EUR of an invoice
  of 1,200.00 EUR. The invoices are the ones issued by the issue-invoice cells just before (topped up to
  `MIN_PAYABLE`), split into disjoint sets, one per client, so two clients never race for the same invoice.
  Each request reads the customer and the invoice, and saves the payment and the invoice in one transaction.

Every request carries a new `Idempotency-Key` (a retry-safe client's behaviour) unless `--no-idempotency-key`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
ISSUE, PAY = "issue-invoice", "record-payment"
OPERATIONS = (ISSUE, PAY)
PATHS = {ISSUE: "/v1/invoices", PAY: "/v1/payments"}
SERIES = "B"
CUSTOMERS = 16
INVOICE_TOTAL_MINOR = 120_000
PAYMENT_MINOR = 1_000
MIN_PAYABLE = 16 * 32


def code_version() -> str:
    """The commit, `+dirty` if services/ or migrations/ differ from it (others may be editing)."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "services", "migrations"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("+dirty" if dirty else "")


@contextlib.contextmanager
def code(mode: str) -> Iterator[tuple[Path, str]]:
    """(directory to run the servers from, its version). Others may be editing the working tree meanwhile:
    "snapshot" copies services/ and migrations/ as they are at the start, so the code under test does not change
    during the run; "head" takes them from the last commit; "worktree" runs the working tree as it is; a directory
    holding services/ and migrations/ (e.g. one `git archive` of a given commit, for several runs on the same code)
    is used as it is (its version in its .version file)."""
    if mode == "worktree":
        yield ROOT, code_version()
        return
    given = Path(mode)
    if given.is_dir():
        if not (given / "services" / "ar").is_dir():
            raise ValueError(f"{given} has no services/ar")
        label = given / ".version"
        yield given.resolve(), label.read_text().strip() if label.exists() else str(given)
        return
    directory = Path(tempfile.mkdtemp(prefix="ar-bench-code-"))
    try:
        if mode == "head":
            archive = subprocess.run(["git", "archive", "HEAD", "services", "migrations"], cwd=ROOT,
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
            version = code_version().removesuffix("+dirty")
        elif mode == "snapshot":
            for part in ("services", "migrations"):
                shutil.copytree(ROOT / part, directory / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            version = code_version()
        else:
            raise ValueError(f"unknown code mode {mode!r}")
        yield directory, version
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# The admin key the benchmark servers install at start (AR_ADMIN_KEY) and every client sends.
BENCH_TOKEN = "ark_benchadmin01_" + "B" * 40
AUTH_HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}"}


def _env(code_root: Path, **extra: str) -> dict[str, str]:
    """The servers import `ar` from `code_root` (ahead of the editable install) and `bench` from the repo."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(code_root / "services"), str(ROOT)]), **extra}


# Servers ----------------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)  # `ar worker` processes beside it

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> list[int]:
        """The server's worker processes (`--workers N`: uvicorn forks them), whose CPU is the server's."""
        found: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(p) for p in (task / "children").read_text().split()]
        return found

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        for process in [self.process, *self.workers]:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _start(name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path, cwd: Path,
           timeout_s: float = 90.0) -> Server:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, process, port, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log_path}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer /healthz within {timeout_s:.0f} s; see {log_path}")


@contextlib.contextmanager
def ar_server(database_url: str, log_dir: Path, name: str, code_root: Path = ROOT, env: dict[str, str] | None = None,
              with_worker: bool = False, processes: int = 1) -> Iterator[Server]:
    """`ar serve` as shipped (uvicorn, 1 worker, default pool and threadpool sizes, access log at info), with
    extra AR_* settings in `env`; `with_worker`: the projections run in an `ar worker` process beside it
    (AR_RUN_PROJECTIONS=false for the server; the worker gets a small pool: it needs few connections)."""
    port = free_port()
    settings = {"AR_DATABASE_URL": database_url, "AR_ADMIN_KEY": BENCH_TOKEN, **(env or {})}
    if with_worker:
        settings["AR_RUN_PROJECTIONS"] = "false"
    server = _start(name, [str(VENV_BIN / "ar"), "serve", "--host", "127.0.0.1", "--port", str(port),
                           "--workers", str(processes)],
                    _env(code_root, **settings), port, log_dir, code_root)
    if with_worker:
        with open(log_dir / f"{name}-worker.log", "wb") as log:
            server.workers.append(subprocess.Popen(
                [str(VENV_BIN / "ar"), "worker"], cwd=code_root, stdout=log, stderr=subprocess.STDOUT,
                env=_env(code_root, **{**settings, "AR_RUN_PROJECTIONS": "true", "AR_POOL_SIZE": "4"})))
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def minimal_server(log_dir: Path, name: str = "minimal-app", code_root: Path = ROOT,
                   processes: int = 1) -> Iterator[Server]:
    """bench/minimal_app.py on the same server settings as `ar serve` (and as many server processes)."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.minimal_app:app", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(processes), "--log-level", "info", "--timeout-graceful-shutdown", "10"]
    server = _start(name, argv, _env(code_root), port, log_dir, code_root)
    try:
        yield server
    finally:
        server.stop()


# Databases --------------------------------------------------------------------------------------------------------
def with_database(url: str, dbname: str) -> str:
    return urlsplit(url)._replace(path=f"/{dbname}").geturl()


def database_name(url: str) -> str | None:
    """The PostgreSQL database of a URL; None for SQLite."""
    return urlsplit(url).path.lstrip("/") if url.startswith("postgres") else None


@contextlib.contextmanager
def postgres_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A fresh database (its URL), dropped at the end even if connections are left."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="ar-bench-")
    try:
        yield f"sqlite:///{directory}/ar.sqlite"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def database(backend: str, admin_url: str) -> Iterator[str]:
    if backend == "postgres":
        with postgres_database(admin_url, "ar_bench") as url:
            yield url
    elif backend == "sqlite":
        with sqlite_database() as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")


# Bodies -----------------------------------------------------------------------------------------------------------
def invoice_body(customer_id: str) -> str:
    return json.dumps({
        "customer_id": customer_id, "series": SERIES, "currency": "EUR", "total_minor": INVOICE_TOTAL_MINOR,
        "vat": [{"rate": "20", "base_minor": 100_000, "vat_minor": 20_000}], "purchase_order": "PO-778",
    }, separators=(",", ":"))


def payment_body(customer_id: str, invoice_id: str) -> str:
    return json.dumps({
        "customer_id": customer_id, "amount_minor": PAYMENT_MINOR, "currency": "EUR", "method": "transfer",
        "allocations": [{"invoice_id": invoice_id, "amount_minor": PAYMENT_MINOR}],
    }, separators=(",", ":"))


# Setup through the API --------------------------------------------------------------------------------------------
def register_customers(client: httpx.Client, n: int = CUSTOMERS) -> list[str]:
    ids = []
    for i in range(n):
        r = client.post("/v1/customers", json={"name": f"Bench customer {i}", "kind": "professional",
                                               "terms": {"kind": "net", "days": 30}})
        r.raise_for_status()
        ids.append(r.json()["id"])
    return ids


def _event_store_head(client: httpx.Client) -> int | None:
    r = client.get("/readyz")
    head = r.json().get("event_store_head") if r.status_code == 200 else None
    return int(head) if head is not None else None


def open_invoices(client: httpx.Client) -> list[tuple[str, str]]:
    """(customer_id, invoice_id) of every invoice with at least 10 payments left in it, from the read model
    (read after the event store's head: `min_position`)."""
    found: list[tuple[str, str]] = []
    head = _event_store_head(client)
    params: dict[str, str | int] = {"limit": 500, **({"min_position": head} if head else {})}
    while True:
        for _ in range(30):
            r = client.get("/v1/invoices", params=params)
            if r.status_code != 503:  # read models not there yet: Retry-After
                break
            time.sleep(1)
        r.raise_for_status()
        page = r.json()
        found += [(row["customer_id"], row["id"]) for row in page["items"]
                  if row["open_minor"] >= 10 * PAYMENT_MINOR]
        if not page["next_cursor"]:
            return found
        params = {"limit": 500, "cursor": page["next_cursor"]}


def payable_invoices(client: httpx.Client, customers: list[str], minimum: int = MIN_PAYABLE) -> list[tuple[str, str]]:
    invoices = open_invoices(client)
    for i in range(len(invoices), minimum):
        r = client.post("/v1/invoices", content=invoice_body(customers[i % len(customers)]),
                        headers={"content-type": "application/json"})
        r.raise_for_status()
        invoices.append((customers[i % len(customers)], r.json()["id"]))
    return invoices


def bodies(operation: str, clients: int, customers: list[str],
           invoices: list[tuple[str, str]] | None = None) -> list[list[str]]:
    """The request bodies of each client, which it cycles through."""
    if operation == ISSUE:
        return [[invoice_body(customers[c % len(customers)])] for c in range(clients)]
    assert invoices, "record-payment needs invoices"
    return [[payment_body(customer, invoice) for customer, invoice in invoices[c::clients]] for c in range(clients)]
