"""The receivables read models, kept in one transaction from one position: invoices (open items), payments
(unapplied cash), ledger entries (every balance change with its business date and recording time), open amounts
by due date and customer balances. They share their inputs (an allocation needs the payment's value date and the
invoice's due date), so one projection keeps them consistent with each other by construction.

The parts: `batch` (the invoice and payment rows, composing `ledger` and `summaries`), `state` (what a batch
accumulates), `bulk` (rows loaded, changed and written once), `spill` (a rebuild's memory kept within limits: rows
written early and brought back, summary cells staged)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from ar.domain.invoice import Invoice
from ar.domain.payment import Payment
from ar.projections.receivables.batch import INVOICE_DELTAS, Batch
from ar.projections.receivables.bulk import insert_rows
from ar.projections.receivables.spill import Spill
from ar.projections.receivables.state import State
from ar.projections.receivables.summaries import SUMMARY_TABLES
from ar.projections.tables import invoices, ledger_entries, payments
from ar.projections.topics import event_topics


class ReceivablesProjection:
    name = "receivables"

    def __init__(self, *, rebuild_max_invoices: int = 200_000, rebuild_max_payments: int = 50_000,
                 rebuild_max_cells: int = 300_000) -> None:
        """During a rebuild, at most this many invoice rows, payment rows and summary cells stay in memory
        (spill.py)."""
        self.rebuild_max_invoices, self.rebuild_max_payments = rebuild_max_invoices, rebuild_max_payments
        self.rebuild_max_cells = rebuild_max_cells
        self._rebuild: Spill | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        return event_topics(Invoice.Event, Payment.Event)

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        if self._rebuild is not None:  # recent rows stay in memory, the ledger is written now, the rest when due
            spill = self._rebuild
            spill.reload(conn, events)
            batch = Batch(conn, spill.state)
            for position, event in events:
                batch.event(position, event)
            insert_rows(conn, ledger_entries, batch.entries)
            spill.evict(conn)
            gc.freeze()  # the rows kept in memory are long-lived: spare them the collector's full passes
            return
        batch = Batch(conn, State())
        invoice_ids = {e.originator_id for _, e in events if isinstance(e, Invoice.Event)}
        payment_ids = {e.originator_id for _, e in events if isinstance(e, Payment.Event)}
        payment_ids |= {e.payment_id for _, e in events if hasattr(e, "payment_id")}
        batch.invoices.prefetch(conn, invoice_ids)
        batch.payments.prefetch(conn, payment_ids)
        batch.prefetch_histories({e.originator_id for _, e in events if type(e) in INVOICE_DELTAS})
        for position, event in events:
            batch.event(position, event)
        batch.flush()

    @contextlib.contextmanager
    def rebuilding(self, conn: sa.Connection) -> Iterator[None]:
        """During a rebuild (one transaction, after `reset`), keep the rows in memory and write each once, in a
        COPY, instead of inserting and then updating rows batch after batch; within bounds (spill.py)."""
        state = State()
        spill = self._rebuild = Spill(state, max_invoices=self.rebuild_max_invoices,
                                      max_payments=self.rebuild_max_payments, max_cells=self.rebuild_max_cells)
        for rows in (state.invoices, state.payments):
            rows.missing, rows.packed = spill.get_back, True
        try:
            yield
            spill.finish(conn)
        finally:
            self._rebuild = None
            gc.unfreeze()

    def reset(self, conn: sa.Connection) -> None:
        for table in (*SUMMARY_TABLES, ledger_entries, payments, invoices):
            conn.execute(table.delete())
