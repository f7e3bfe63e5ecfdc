"""Dunning benchmark: N invoices due for a step on the same day across M customers.

    python -m bench.dunning                          # 100,000 invoices, 20,000 customers, PostgreSQL
    python -m bench.dunning --invoices 10000 --customers 2000 --runs 1

Per run: a fresh PostgreSQL database; customers and invoices built through the event store with the real domain
(`Customer.register`, `Invoice.issue`, saved 1,000 aggregates a transaction), all due on 2026-03-31; the read models
(including the dunning agenda) caught up; then the clock is set to 2026-04-07 (the professional policy's first
reminder, +7 days) and one sweep (in --sweepers processes at once, like that many `ar worker`s sharing the work
through their chunk locks) decides and records every reminder: that sweep is the figure. Then delivery:
`--deliver` reminders are delivered to a local SMTP server (aiosmtpd in this process's thread) by the delivery
worker, in messages/s. Figures are printed and appended to bench/out/dunning.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import socket
import statistics
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

from ar.adapters.clocks import SettableClock
from ar.config import Settings
from ar.domain.clock import BUSINESS_TZ
from ar.domain.customer import Customer, Language
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.reference import creditor_reference
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine
from ar.runtime import Runtime, build

ADMIN = os.environ.get("AR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OUT = Path(__file__).parent / "out"
DUE = date(2026, 3, 31)
ISSUED = date(2026, 3, 1)
SWEEP_DAY = date(2026, 4, 7)  # the professional policy's first reminder (+7); the courtesy note is skipped


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def fresh_database(name: str) -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(runtime: Runtime, invoices: int, customers: int) -> float:
    """Customers, then invoices round-robin over them; returns the seconds it took."""
    at = datetime.combine(ISSUED, clock_time(9), tzinfo=BUSINESS_TZ).astimezone(UTC)
    started = time.perf_counter()
    people = [Customer.register(id=uuid4(), name=f"Client {n:05d} SARL", kind=CustomerKind.PROFESSIONAL,
                                country="FR", language=Language.FR if n % 3 else Language.EN,
                                emails=[f"ap{n}@client.example"], terms=PaymentTerms(), credit_limit=None,
                                external_id=None, at=at) for n in range(customers)]
    for start in range(0, customers, 1000):
        runtime.app.save(*people[start:start + 1000])
    batch: list[Invoice] = []
    for n in range(invoices):
        number = f"B2026-{n + 1:06d}"
        total = Money(10_000 + (n * 37) % 500_000, "EUR")
        base = Money(round(total.minor / Decimal("1.2")), "EUR")
        batch.append(Invoice.issue(
            id=uuid4(), number=number, series="B2026", customer_id=people[n % customers].id,
            kind=InvoiceKind.STANDARD, total=total, vat=[VatLine(Decimal(20), base, total - base)],
            issued_on=ISSUED, due_on=DUE, category=Category.SERVICES, purchase_order=None, external_id=None,
            structured_reference=creditor_reference(number), deposits=[], at=at))
        if len(batch) == 1000:
            runtime.app.save(*batch)
            batch = []
    if batch:
        runtime.app.save(*batch)
    return time.perf_counter() - started


def one_run(args: argparse.Namespace, n: int) -> dict[str, Any]:
    name = f"bench_dn_{os.getpid()}_{n}"
    url = fresh_database(name)
    clock = SettableClock(datetime.combine(DUE, clock_time(9), tzinfo=BUSINESS_TZ))
    settings = Settings(database_url=url, pool_size=8, run_dunning=False, run_projections=False,
                        outbox_dir=Path(f"/tmp/{name}-outbox"))
    runtime = build(settings, clock)
    try:
        built = populate(runtime, args.invoices, args.customers)
        log(f"run {n}: built {args.invoices} invoices for {args.customers} customers in {built:.1f} s")
        started = time.perf_counter()
        runtime.projections.catch_up()
        caught_up = time.perf_counter() - started
        log(f"run {n}: read models and agenda caught up in {caught_up:.1f} s")
        clock.set(datetime.combine(SWEEP_DAY, clock_time(6), tzinfo=BUSINESS_TZ))
        swept, reports = sweep_in_processes(settings, args.sweepers)
        reminders = sum(r["reminders"] for r in reports)
        invoices = sum(r["invoices"] for r in reports)
        log(f"run {n}: {args.sweepers} sweeper process(es) decided {reminders} reminders for {invoices} invoices "
            f"in {swept:.1f} s; skipped (locked by the other): {sum(r['skipped_locked'] for r in reports)}; "
            f"refused: {sum(r['failures'] for r in reports)}")
        started = time.perf_counter()
        runtime.projections.catch_up()
        queued = time.perf_counter() - started
        log(f"run {n}: agenda and delivery queue caught up with the sweep in {queued:.1f} s")
        result = {"invoices": args.invoices, "customers": args.customers, "build_s": built,
                  "catch_up_s": caught_up, "sweepers": args.sweepers, "sweep_s": swept, "reminders": reminders,
                  "reminded_invoices": invoices, "queue_catch_up_s": queued}
        if args.deliver:
            result.update(deliver(runtime, args.deliver))
        return result
    finally:
        runtime.close()
        drop_database(name)


def _sweeper(settings: Settings, ready: Any, go: Any, out: Any) -> None:
    """One sweeping process (like one `ar worker`): its own application, pools and clock at the sweep day."""
    clock = SettableClock(datetime.combine(SWEEP_DAY, clock_time(6), tzinfo=BUSINESS_TZ))
    runtime = build(settings, clock, run_migrations=False)
    try:
        ready.set()
        go.wait()
        started = time.time()
        report = runtime.sweeper.sweep()
        out.put({"started": started, "ended": time.time(), "reminders": report.reminders,
                 "invoices": report.invoices, "skipped_locked": report.skipped_locked,
                 "failures": len(report.failures)})
    finally:
        runtime.close()


def sweep_in_processes(settings: Settings, count: int) -> tuple[float, list[dict[str, Any]]]:
    """Start `count` sweeper processes at once; the wall time from the first start to the last end."""
    context = multiprocessing.get_context("spawn")
    go, out = context.Event(), context.Queue()
    readies = [context.Event() for _ in range(count)]
    settings = settings.model_copy(update={"create_tables": False})  # set up already, by this process
    procs = [context.Process(target=_sweeper, args=(settings, readies[i], go, out)) for i in range(count)]
    for proc, ready in zip(procs, readies, strict=True):
        proc.start()
        ready.wait(120)
    go.set()
    reports = [out.get(timeout=1800) for _ in procs]
    for proc in procs:
        proc.join(60)
    return max(r["ended"] for r in reports) - min(r["started"] for r in reports), reports


def deliver(runtime: Runtime, count: int) -> dict[str, Any]:
    """Deliver `count` reminders to a local aiosmtpd server; messages/s."""
    from aiosmtpd.controller import Controller

    from ar.delivery.worker import build_delivery

    class Sink:
        received = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Sink.received += 1
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = runtime.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
        worker = build_delivery(settings, runtime.app, runtime.engine, runtime.clock)
        started = time.perf_counter()
        done = 0
        while done < count:
            n = worker.run_once()
            if n == 0:
                break
            done += n
        elapsed = time.perf_counter() - started
        log(f"delivered {done} reminders ({Sink.received} SMTP messages) in {elapsed:.1f} s: "
            f"{done / elapsed:.0f} messages/s")
        return {"delivered": done, "deliver_s": elapsed, "messages_per_s": done / elapsed}
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sweepers", type=int, default=1, help="sweeping processes at once (like `ar worker`s)")
    parser.add_argument("--deliver", type=int, default=2_000, help="reminders to deliver over SMTP (0: none)")
    args = parser.parse_args()
    runs = [one_run(args, n) for n in range(args.runs)]
    summary = {"machine": f"{platform.node()} {os.cpu_count()} cpus {platform.python_version()}",
               "when": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs,
               "median_sweep_s": statistics.median(r["sweep_s"] for r in runs)}
    if args.deliver:
        summary["median_messages_per_s"] = statistics.median(r["messages_per_s"] for r in runs)
    OUT.mkdir(exist_ok=True)
    with (OUT / "dunning.json").open("a") as f:
        f.write(json.dumps(summary, default=str) + "\n")
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
