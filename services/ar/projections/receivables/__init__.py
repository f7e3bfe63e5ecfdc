"""The receivables read models, kept in one transaction from one position: invoices (open items), payments
(unapplied cash), ledger entries (every balance change with its business date and recording time), open amounts
by due date and customer balances. They share their inputs (an allocation needs the payment's value date and the
invoice's due date), so one projection keeps them consistent with each other by construction.

The parts: `batch` (the invoice and payment rows, composing `ledger` and `summaries`), `state` (what a batch
accumulates), `bulk` (rows loaded, changed and written once)."""

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
from ar.projections.receivables.state import State
from ar.projections.receivables.summaries import SUMMARY_TABLES, insert_summaries
from ar.projections.tables import invoices, ledger_entries, payments
from ar.projections.topics import event_topics


class ReceivablesProjection:
    name = "receivables"

    def __init__(self) -> None:
        self._rebuild: State | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        return event_topics(Invoice.Event, Payment.Event)

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        if self._rebuild is not None:  # rows stay in memory until the rebuild ends; only the ledger is written now
            batch = Batch(conn, self._rebuild)
            for position, event in events:
                batch.event(position, event)
            insert_rows(conn, ledger_entries, batch.entries)
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
        """During a rebuild (one transaction, after `reset`), keep every row in memory and write each table once
        at the end, in one COPY, instead of inserting and then updating rows batch after batch."""
        self._rebuild = State()
        try:
            yield
            insert_rows(conn, invoices, list(self._rebuild.invoices.new.values()))
            insert_rows(conn, payments, list(self._rebuild.payments.new.values()))
            insert_summaries(conn, self._rebuild)
        finally:
            self._rebuild = None
            gc.unfreeze()

    def reset(self, conn: sa.Connection) -> None:
        for table in (*SUMMARY_TABLES, ledger_entries, payments, invoices):
            conn.execute(table.delete())
