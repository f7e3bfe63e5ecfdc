"""The sweeper: at `clock.now()`, run every dunning action the agenda says is due, one customer at a time.

The aggregates decide (`Receivables.run_dunning`); the agenda only says where to look. Two sweepers may run at
once (two `ar worker` processes): customers are decided in chunks saved in one transaction each (group commit);
on PostgreSQL each chunk is taken under a transaction-scoped advisory lock, so the other sweeper skips it instead
of deciding it again; without the lock (SQLite, or chunks that differ), optimistic concurrency on the invoices
still lets one decision through and turns the other into a no-op.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from ar.background import BackgroundLoop
from ar.domain.clock import Clock
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


@contextlib.contextmanager
def _heap_frozen() -> Iterator[None]:
    """A sweep allocates millions of short-lived objects, and each of the collector's full passes it triggers also
    walked the whole heap the process had before (modules, templates, pools: ~170,000 objects): a fifth of a
    sweep's CPU. Frozen (`gc.freeze`), that heap is left out of the passes until the sweep ends; what became
    garbage meanwhile is collected after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Sweeper:
    def __init__(self, app: Receivables, engine: sa.Engine, catch_up: Any, clock: Clock, chunk: int = 200) -> None:
        self.app, self.engine, self.catch_up, self.clock = app, engine, catch_up, clock
        self._loop = BackgroundLoop("dunning-sweeper", self.sweep, log=log, failed="dunning sweep failed; retrying")
        self._lock = threading.Lock()
        self.chunk = chunk

    def sweep(self) -> SweepReport:
        """One pass over everything due today (nothing on a day that is not a business day)."""
        report = SweepReport()
        today = self.clock.today()
        if not self.app.ports.calendar.is_business_day(today):
            return report
        with self._lock:
            self.catch_up()
            with self.engine.connect() as conn:
                due = list(due_by_customer(conn, today).items())
            with _heap_frozen():
                for start in range(0, len(due), self.chunk):
                    self._run_chunk(dict(due[start:start + self.chunk]), report)
        return report

    def _run_chunk(self, due: dict[UUID, list[UUID]], report: SweepReport) -> None:
        """Decide a chunk of customers and save it in one transaction (group commit)."""
        with self.engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                key = zlib.crc32(b"".join(sorted(c.bytes for c in due))) - 2**31
                if not conn.scalar(sa.text("SELECT pg_try_advisory_xact_lock(:space, :key)"),
                                   {"space": LOCK_SPACE, "key": key}):
                    report.skipped_locked += len(due)  # another sweeper is on it
                    return
            runs, refused = self.app.run_dunning_many(due)
        for customer_id, why in refused.items():  # e.g. a missing penalty rate: refused, shown, retried later
            log.warning("dunning run for customer %s refused: %s", customer_id, why)
            report.failures[str(customer_id)] = why
        for run in runs:
            report.customers += 1
            report.reminders += len(run.reminders)
            report.invoices += sum(len(r.lines) for r in run.reminders)

    # Background loop ------------------------------------------------------------------------------------------
    def start(self, interval_s: float) -> None:
        self._loop.start(interval_s)

    def stop(self) -> None:
        self._loop.stop(timeout_s=30)
