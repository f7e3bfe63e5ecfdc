"""A rebuild in bounded memory. The rows of invoices and payments stay in memory while they may still change;
past a limit (`max_invoices`, `max_payments`) some are written to their table, the oldest settled ones first (an
invoice paid, a payment applied: few events touch them again), then the oldest others. An event that touches one
later brings it back first (DELETE ... RETURNING: the row leaves the table again, so it is written once more, never
updated), an invoice with its deltas from the ledger (for the step counts). The summary cells are deltas: past
`max_cells` they are written to temporary staging tables and the summary tables are summed from those at the end
(GROUP BY), so a cell touched in several spans adds up as the in-memory sums would have. A rebuild that stays
within the limits writes as before, each table once at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from itertools import islice
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.invoice import Invoice
from ar.domain.payment import Payment
from ar.projections.receivables.bulk import Rows, insert_rows
from ar.projections.receivables.state import ZERO, State
from ar.projections.receivables.summaries import insert_summaries
from ar.projections.tables import (
    aging_steps,
    customer_aging_steps,
    customer_balances,
    customer_open_months,
    invoices,
    ledger_entries,
    open_by_due,
    open_totals,
    payments,
)

log = logging.getLogger(__name__)
_CHUNK = 500
_STAGED = {"by_due": open_by_due, "balances": customer_balances, "steps": customer_aging_steps,
           "months": customer_open_months}


class Spill:
    """What a rebuild keeps in memory, bounded: see the module's docstring."""

    def __init__(self, state: State, *, max_invoices: int, max_payments: int, max_cells: int) -> None:
        self.state, self.max_cells = state, max_cells
        self.max_rows = {"invoices": max_invoices, "payments": max_payments}
        self.evicted = False  # rows written before the end: events may have to bring some back
        self.staging: dict[str, sa.Table] | None = None  # created at the first spill of the summaries
        self.counts = {"invoices_written_early": 0, "invoices_brought_back": 0, "payments_written_early": 0,
                       "payments_brought_back": 0, "cells_staged": 0}

    # Rows -----------------------------------------------------------------------------------------------------
    def reload(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        """Bring back the rows written earlier that these events touch (and their invoices' ledger deltas)."""
        if not self.evicted:
            return
        created: set[UUID] = set()
        wanted_invoices: set[UUID] = set()
        wanted_payments: set[UUID] = set()
        for _, event in events:
            if isinstance(event, Invoice.Event):
                if isinstance(event, Invoice.Issued):
                    created.add(event.originator_id)
                wanted_invoices.add(event.originator_id)
                payment_id = getattr(event, "payment_id", None)
                if payment_id is not None:
                    wanted_payments.add(payment_id)
            elif isinstance(event, Payment.Event):
                if isinstance(event, Payment.Received):
                    created.add(event.originator_id)
                wanted_payments.add(event.originator_id)
                invoice_id = getattr(event, "invoice_id", None)
                if invoice_id is not None:
                    wanted_invoices.add(invoice_id)
        state = self.state
        back = self._bring_back(conn, state.invoices, wanted_invoices - created)
        self._bring_back(conn, state.payments, wanted_payments - created)
        self._histories(conn, back)

    def get_back(self, conn: sa.Connection, rows: Rows, key: UUID) -> dict[str, Any] | None:
        """One row an event asks for that `reload` did not foresee (none should): back from its table, or None."""
        if self.evicted and self._bring_back(conn, rows, {key}) and rows is self.state.invoices:
            self._histories(conn, [key])
        return rows.new.get(key)

    def _bring_back(self, conn: sa.Connection, rows: Rows, keys: set[UUID]) -> list[UUID]:
        missing = sorted(k for k in keys if k not in rows.new)
        back = []
        for start in range(0, len(missing), _CHUNK):
            deleted = rows.table.delete().where(rows.key.in_(missing[start:start + _CHUNK]))
            for found in conn.execute(deleted.returning(*rows.table.columns)).mappings():
                key = found[rows.key.name]
                rows.add(key, dict(found))
                back.append(key)
        self.counts[f"{rows.table.name}_brought_back"] += len(back)
        return back

    def _histories(self, conn: sa.Connection, invoice_ids: list[UUID]) -> None:
        histories, e = self.state.histories, ledger_entries.c
        for invoice_id in invoice_ids:
            histories[invoice_id] = []
        ordered = sorted(invoice_ids)
        for start in range(0, len(ordered), _CHUNK):
            found = conn.execute(sa.select(e.invoice_id, e.effective_on, e.invoice_delta_minor)
                                 .where(e.invoice_id.in_(ordered[start:start + _CHUNK]), e.invoice_delta_minor != 0)
                                 .order_by(e.position))
            for invoice_id, on, delta in found:
                histories[invoice_id].append((on, int(delta)))

    def evict(self, conn: sa.Connection) -> None:
        """After a batch: past the limits, write rows (down to three quarters of the limit) and stage the summary
        cells."""
        state = self.state
        for rows, settled in ((state.invoices, "open_minor"), (state.payments, "unapplied_minor")):
            rows.pack()
            limit = self.max_rows[rows.table.name]
            if len(rows.new) > limit:
                keys = _oldest_settled_first(rows.new, rows.names.index(settled), len(rows.new) - limit * 3 // 4)
                insert_rows(conn, rows.table, [rows.new.pop(k) for k in keys])
                self.counts[f"{rows.table.name}_written_early"] += len(keys)
                if rows is state.invoices:
                    for key in keys:
                        state.histories.pop(key, None)
                self.evicted = True
        if len(state.steps) + len(state.by_due) + len(state.months) + len(state.balances) > self.max_cells:
            self._stage(conn)

    # Summaries ------------------------------------------------------------------------------------------------
    def _stage(self, conn: sa.Connection) -> None:
        if self.staging is None:
            self.staging = _create_staging(conn)
        state, staging = self.state, self.staging
        self.counts["cells_staged"] += len(state.by_due) + len(state.balances) + len(state.steps) + len(state.months)
        insert_rows(conn, staging["by_due"], (
            {"customer_id": c, "currency": cur, "due_on": d, "open_minor": v[0], "invoices": v[1]}
            for (c, cur, d), v in state.by_due.items() if v != ZERO))
        insert_rows(conn, staging["balances"], (
            {"customer_id": c, "currency": cur, "open_minor": v[0], "account_minor": v[1]}
            for (c, cur), v in state.balances.items()))
        insert_rows(conn, staging["steps"], (
            {"customer_id": c, "currency": cur, "due_on": d, "effective_on": on, "open_minor": v[0], "invoices": v[1]}
            for (c, cur, d, on), v in state.steps.items()))
        insert_rows(conn, staging["months"], (
            {"customer_id": c, "currency": cur, "month": m, "open_minor": v}
            for (c, cur, m), v in state.months.items()))
        state.by_due.clear()
        state.balances.clear()
        state.steps.clear()
        state.months.clear()

    def finish(self, conn: sa.Connection) -> None:
        """The rebuild's end: the rows still in memory, and every summary row (from memory, or summed from the
        staging tables if the cells were spilled)."""
        state = self.state
        log.info("rebuild: %s", ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in self.counts.items()))
        insert_rows(conn, invoices, list(state.invoices.new.values()))
        insert_rows(conn, payments, list(state.payments.new.values()))
        if self.staging is None:
            insert_summaries(conn, state)
            return
        self._stage(conn)
        staged = self.staging
        by_due_keys, step_keys = ["customer_id", "currency", "due_on"], ["currency", "due_on", "effective_on"]
        _sum_into(conn, open_by_due, staged["by_due"], by_due_keys, ["open_minor", "invoices"], nonzero=True)
        _sum_into(conn, open_totals, staged["by_due"], by_due_keys[1:], ["open_minor", "invoices"], nonzero=True)
        _sum_into(conn, customer_balances, staged["balances"], by_due_keys[:2], ["open_minor", "account_minor"])
        _sum_into(conn, customer_aging_steps, staged["steps"], ["customer_id", *step_keys], ["open_minor", "invoices"])
        _sum_into(conn, aging_steps, staged["steps"], step_keys, ["open_minor", "invoices"])
        _sum_into(conn, customer_open_months, staged["months"], ["customer_id", "currency", "month"], ["open_minor"])
        for table in staged.values():
            table.drop(conn)
        self.staging = None


def _oldest_settled_first(rows: dict[UUID, tuple[Any, ...]], amount: int, count: int) -> list[UUID]:
    """The rows to write early (packed: tuples): the oldest of those with nothing left open (an invoice paid, a
    payment applied: few events touch them again), then, if that is not enough, the oldest of the others."""
    keys = list(islice((k for k, row in rows.items() if row[amount] == 0), count))
    if len(keys) < count:
        chosen = set(keys)
        keys += islice((k for k in rows if k not in chosen), count - len(keys))
    return keys


def _create_staging(conn: sa.Connection) -> dict[str, sa.Table]:
    """Temporary tables (this connection's, gone with a rollback) shaped like the summary tables, without keys."""
    metadata = sa.MetaData()
    staging = {name: sa.Table(f"rebuild_staged_{name}", metadata, *_columns(table.columns),
                              prefixes=["TEMPORARY"])
               for name, table in _STAGED.items()}
    for table in staging.values():
        table.create(conn)
    return staging


def _columns(columns: Iterable[sa.Column[Any]]) -> list[sa.Column[Any]]:
    return [sa.Column(c.name, c.type, nullable=False) for c in columns]


def _sum_into(conn: sa.Connection, target: sa.Table, staged: sa.Table, keys: list[str], sums: list[str], *,
              nonzero: bool = False) -> None:
    """INSERT INTO target SELECT keys, SUM(...) FROM staged GROUP BY keys (only the cells with something in them if
    `nonzero`, as the open amounts keep)."""
    totals = [sa.func.sum(staged.c[name]) for name in sums]
    query = sa.select(*(staged.c[k] for k in keys), *(sa.cast(t, target.c[n].type) for t, n in zip(totals, sums,
                                                                                                   strict=True)))
    query = query.group_by(*(staged.c[k] for k in keys))
    if nonzero:
        query = query.having(sa.or_(*(t != 0 for t in totals)))
    conn.execute(target.insert().from_select([*keys, *sums], query))
