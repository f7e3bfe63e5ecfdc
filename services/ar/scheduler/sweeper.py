"""The sweeper: at `clock.now()`, run every dunning action the agenda says is due, one customer at a time.

The aggregates decide (`Receivables.run_dunning`); the agenda only says where to look. Two sweepers may run at
once (two `ar worker` processes): on PostgreSQL each customer is taken under a transaction-scoped advisory lock,
so the other sweeper skips it instead of deciding it again; without the lock (SQLite, or a lock lost), optimistic
concurrency on the invoices still lets one decision through and turns the other into a no-op.
"""

from __future__ import annotations

import logging
import threading
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.clock import Clock
from ar.domain.errors import DomainError
from ar.projections.dunning_queries import due_by_customer

if TYPE_CHECKING:
    from ar.application.receivables import Receivables

log = logging.getLogger(__name__)
LOCK_SPACE = 0x6172  # "ar": the first key of our advisory locks


@dataclass
class SweepReport:
    customers: int = 0
    reminders: int = 0
    invoices: int = 0
    skipped_locked: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # customer id -> why its run was refused


class Sweeper:
    def __init__(self, app: Receivables, engine: sa.Engine, catch_up: Any, clock: Clock) -> None:
        self.app, self.engine, self.catch_up, self.clock = app, engine, catch_up, clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def sweep(self) -> SweepReport:
        """One pass over everything due today (nothing on a day that is not a business day)."""
        report = SweepReport()
        today = self.clock.today()
        if not self.app.calendar.is_business_day(today):
            return report
        with self._lock:
            self.catch_up()
            with self.engine.connect() as conn:
                due = due_by_customer(conn, today)
            for customer_id, invoice_ids in due.items():
                self._run_one(customer_id, invoice_ids, report)
            self.catch_up()
        return report

    def _run_one(self, customer_id: UUID, invoice_ids: list[UUID], report: SweepReport) -> None:
        with self.engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                key = zlib.crc32(customer_id.bytes) - 2**31
                if not conn.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:space, :key)"),
                                   {"space": LOCK_SPACE, "key": key}):
                    report.skipped_locked += 1
                    return
            try:
                run = self.app.run_dunning(customer_id, invoice_ids)
            except DomainError as e:  # e.g. a missing penalty rate: refused, shown, retried next sweep
                log.warning("dunning run for customer %s refused: %s", customer_id, e.detail)
                report.failures[str(customer_id)] = e.detail
                return
        report.customers += 1
        report.reminders += len(run.reminders)
        report.invoices += sum(len(r.lines) for r in run.reminders)

    # Background loop ------------------------------------------------------------------------------------------
    def start(self, interval_s: float) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.sweep()
                except Exception:
                    log.exception("dunning sweep failed; retrying")
                self._stop.wait(interval_s)

        self._thread = threading.Thread(target=loop, name="dunning-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
