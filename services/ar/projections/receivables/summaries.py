"""The summary tables: open amounts by due date and their totals, the aging steps (the change in open amount and
count of open invoices on each effective date), each customer's open amount by month, and customer balances.
Built from the deltas a batch accumulated; written as deltas by a batch, as rows by a rebuild: the same cells."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.projections.receivables.bulk import insert_rows
from ar.projections.receivables.state import ZERO, Cell, State, add
from ar.projections.sql import upsert
from ar.projections.tables import (
    aging_steps,
    customer_aging_steps,
    customer_balances,
    customer_open_months,
    ledger_entries,
    metadata,
    open_by_due,
    open_totals,
)


class OpenAmounts:
    """The part of a batch that moves the open amounts and the aging steps of the invoices its events touch."""

    conn: sa.Connection
    state: State
    by_due: dict[tuple[UUID, str, date], Cell]

    def prefetch_histories(self, invoice_ids: set[UUID]) -> None:
        """The deltas already recorded for the invoices whose open amount this batch moves (for the step counts)."""
        e = ledger_entries.c
        wanted = sorted(invoice_ids)
        for invoice_id in wanted:
            self.state.histories.setdefault(invoice_id, [])
        for start in range(0, len(wanted), 500):
            rows = self.conn.execute(sa.select(e.invoice_id, e.effective_on, e.invoice_delta_minor)
                                     .where(e.invoice_id.in_(wanted[start:start + 500]), e.invoice_delta_minor != 0)
                                     .order_by(e.position))
            for invoice_id, on, delta in rows:
                self.state.histories[invoice_id].append((on, int(delta)))

    def _step(self, invoice: dict[str, Any], on: date, delta: int) -> None:
        customer_id, currency, due_on = invoice["customer_id"], invoice["currency"], invoice["due_on"]
        history = self.state.histories.setdefault(invoice["invoice_id"], [])
        steps = self.state.steps
        if all(day <= on for day, _ in history):  # the usual case: nothing took effect later, only `on` changes
            running = sum(d for _, d in history)
            history.append((on, delta))
            add(steps, (customer_id, currency, due_on, on), delta, (running + delta != 0) - (running != 0))
        else:  # recorded late with an earlier date: the counts of the later dates may change too
            add(steps, (customer_id, currency, due_on, on), delta, 0)
            before = _steps(history)
            history.append((on, delta))
            after = _steps(history)
            for day in before.keys() | after.keys():
                change = after.get(day, 0) - before.get(day, 0)
                if change:
                    add(steps, (customer_id, currency, due_on, day), 0, change)
        self.state.months[(customer_id, currency, on.replace(day=1))] += delta

    def _open_moved(self, row: dict[str, Any], before: int) -> None:
        after = row["open_minor"]
        if after != before:
            add(self.by_due, (row["customer_id"], row["currency"], row["due_on"]), after - before,
                (after > 0) - (before > 0))


def _steps(history: list[tuple[date, int]]) -> dict[date, int]:
    """The change in the count of open invoices (0 or 1 open) on each effective date of one invoice's deltas."""
    out: dict[date, int] = {}
    running = was_open = 0
    ordered = sorted(history, key=lambda d: d[0])
    for i, (on, delta) in enumerate(ordered):
        running += delta
        if i + 1 < len(ordered) and ordered[i + 1][0] == on:
            continue  # the count is that of the end of the day
        is_open = int(running != 0)
        if is_open != was_open:
            out[on] = is_open - was_open
            was_open = is_open
    return out


def _nonzero(cells: dict[Any, Cell], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{**dict(zip(keys, key, strict=True)), "open_minor": v.open_minor, "invoices": v.invoices}
            for key, v in cells.items() if v != ZERO]


def summaries(state: State) -> dict[str, list[dict[str, Any]]]:
    """The rows (or, incrementally, the deltas) of the summary tables from what a state accumulated."""
    totals: dict[tuple[str, date], Cell] = {}
    for (_customer, currency, due_on), v in state.by_due.items():
        add(totals, (currency, due_on), *v)
    aging: dict[tuple[str, date, date], Cell] = {}
    for (_customer, currency, due_on, on), v in state.steps.items():
        add(aging, (currency, due_on, on), *v)
    return {
        "open_by_due": _nonzero(state.by_due, ("customer_id", "currency", "due_on")),
        "open_totals": _nonzero(totals, ("currency", "due_on")),
        "customer_balances": [{"customer_id": c, "currency": cur, "open_minor": v.open_minor,
                               "account_minor": v.account_minor} for (c, cur), v in state.balances.items()],
        # the step tables keep every cell ever touched, even one that nets to zero, so that a rebuild writes the
        # same rows as the batches did
        "customer_aging_steps": [{"customer_id": c, "currency": cur, "due_on": d, "effective_on": on,
                                  "open_minor": v.open_minor, "invoices": v.invoices}
                                 for (c, cur, d, on), v in state.steps.items()],
        "aging_steps": [{"currency": cur, "due_on": d, "effective_on": on, "open_minor": v.open_minor,
                         "invoices": v.invoices} for (cur, d, on), v in aging.items()],
        "customer_open_months": [{"customer_id": c, "currency": cur, "month": m, "open_minor": v}
                                 for (c, cur, m), v in state.months.items()],
    }


def insert_summaries(conn: sa.Connection, state: State) -> None:
    """A rebuild's end: every summary row, inserted once."""
    for table, rows in summaries(state).items():
        insert_rows(conn, metadata.tables[table], rows)


def add_summaries(conn: sa.Connection, state: State) -> None:
    """A batch's end: its deltas added to the summary rows (cells netting to nothing open removed)."""
    rows = summaries(state)
    cells = ["customer_id", "currency", "due_on"]
    upsert(conn, open_by_due, rows["open_by_due"], cells, add=["open_minor", "invoices"])
    conn.execute(open_by_due.delete().where(open_by_due.c.invoices == 0, open_by_due.c.open_minor == 0))
    upsert(conn, open_totals, rows["open_totals"], cells[1:], add=["open_minor", "invoices"])
    conn.execute(open_totals.delete().where(open_totals.c.invoices == 0, open_totals.c.open_minor == 0))
    upsert(conn, customer_balances, rows["customer_balances"], cells[:2], add=["open_minor", "account_minor"])
    upsert(conn, customer_aging_steps, rows["customer_aging_steps"], [*cells, "effective_on"],
           add=["open_minor", "invoices"])
    upsert(conn, aging_steps, rows["aging_steps"], [*cells[1:], "effective_on"], add=["open_minor", "invoices"])
    upsert(conn, customer_open_months, rows["customer_open_months"], [*cells[:2], "month"], add=["open_minor"])


SUMMARY_TABLES = (customer_open_months, customer_aging_steps, aging_steps, open_totals, customer_balances, open_by_due)
