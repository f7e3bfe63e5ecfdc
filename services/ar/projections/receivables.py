"""The receivables read models, kept in one transaction from one position: invoices (open items), payments
(unapplied cash), ledger entries (every balance change with its business date and recording time), open amounts
by due date and customer balances. They share their inputs (an allocation needs the payment's value date and the
invoice's due date), so one projection keeps them consistent with each other by construction."""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from eventsourcing import utils

from ar.domain.clock import business_date
from ar.domain.invoice import Invoice
from ar.domain.payment import Payment
from ar.domain.status import derive_status
from ar.projections.sql import upsert
from ar.projections.tables import (
    aging_steps,
    customer_aging_steps,
    customer_balances,
    customer_open_months,
    invoices,
    ledger_entries,
    metadata,
    open_by_due,
    open_totals,
    payments,
)

I, P = Invoice, Payment  # noqa: E741  (short names keep the event tables readable)
INVOICE_AMOUNTS = ("deducted", "allocated", "credited", "written_off")
_INVOICE_MOVES: dict[type[Any], tuple[str, int]] = {
    I.PaymentAllocated: ("allocated", 1), I.AllocationReversed: ("allocated", -1),
    I.CreditNoteApplied: ("credited", 1), I.WrittenOff: ("written_off", 1),
    I.DisputeOpened: ("disputed", 1), I.DisputeResolved: ("disputed", -1),
}
_PAYMENT_MOVES: dict[type[Any], tuple[str, int]] = {
    P.Allocated: ("allocated", 1), P.AllocationReversed: ("allocated", -1), P.Refunded: ("refunded", 1),
}


_new_tuple: Any = tuple.__new__


class Cell(NamedTuple):
    """A summary cell's deltas: the open amount and the count of open invoices."""

    open_minor: int = 0
    invoices: int = 0

    def plus(self, open_minor: int, invoices: int) -> Cell:
        cell: Cell = _new_tuple(Cell, (self[0] + open_minor, self[1] + invoices))  # faster than Cell(...)
        return cell


class Balance(NamedTuple):
    """A customer balance's deltas: what its invoices leave open, and its account (open less unapplied cash)."""

    open_minor: int = 0
    account_minor: int = 0


def _derive_invoice(row: dict[str, Any]) -> None:
    row["open_minor"] = row["total_minor"] - sum(row[f"{a}_minor"] for a in INVOICE_AMOUNTS)
    row["status"] = derive_status(
        open_minor=row["open_minor"], allocated_minor=row["allocated_minor"] + row["deducted_minor"],
        credited_minor=row["credited_minor"], written_off_minor=row["written_off_minor"],
        disputed=row["disputed_minor"] > 0,
    ).value


def _derive_payment(row: dict[str, Any]) -> None:
    row["unapplied_minor"] = 0 if row["returned_on"] else (
        row["amount_minor"] - row["allocated_minor"] - row["refunded_minor"])


@dataclass
class _Rows:
    """Rows of one table touched by a batch: loaded once, changed in memory, written once."""

    table: sa.Table
    key: sa.Column[Any]
    new: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    changed: dict[UUID, dict[str, Any]] = field(default_factory=dict)

    def get(self, conn: sa.Connection, key: UUID) -> dict[str, Any] | None:
        if key in self.new:
            return self.new[key]
        if key not in self.changed:
            found = conn.execute(sa.select(self.table).where(self.key == key)).mappings().first()
            if found is None:
                return None
            self.changed[key] = dict(found)
        return self.changed[key]

    def prefetch(self, conn: sa.Connection, keys: set[UUID]) -> None:
        """Load the rows a batch will touch in a few queries instead of one per event."""
        wanted = sorted(k for k in keys if k not in self.new and k not in self.changed)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for found in conn.execute(sa.select(self.table).where(self.key.in_(chunk))).mappings():
                self.changed[found[self.key.name]] = dict(found)

    def flush(self, conn: sa.Connection) -> None:
        if self.new:
            insert_rows(conn, self.table, list(self.new.values()))
        if self.changed:
            columns = [c.name for c in self.table.columns if c is not self.key]
            update = (self.table.update().where(self.key == sa.bindparam("_key"))
                      .values({c: sa.bindparam(c) for c in columns}))
            conn.execute(update, [{"_key": key, **{c: row[c] for c in columns}} for key, row in self.changed.items()])


def insert_rows(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one statement: COPY on PostgreSQL (executemany would send one INSERT per row), an
    executemany on SQLite (in-process, no round trips)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":  # the column types' own conversions, without a statement per row
        names = [c.name for c in table.columns]
        convert = [c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in table.columns]
        marks = ", ".join("?" * len(names))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",
                             [tuple(f(row[n]) if f else row[n] for n, f in zip(names, convert, strict=True))
                              for row in rows])
        return
    columns = [c.name for c in table.columns]
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([_pg_type(c.type) for c in table.columns])  # binary: no text to format here and parse there
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _pg_type(kind: sa.types.TypeEngine[Any]) -> str:
    if isinstance(kind, sa.Uuid):
        return "uuid"
    if isinstance(kind, sa.BigInteger):
        return "int8"
    if isinstance(kind, sa.Integer):
        return "int4"
    if isinstance(kind, sa.DateTime):
        return "timestamptz" if kind.timezone else "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.String):
        return "text"
    raise TypeError(f"no binary COPY type for {kind!r}")


def event_topics(*bases: type[Any]) -> tuple[str, ...]:
    """The stored topics of every event class of these aggregates (and any older name registered for one), so the
    runner reads only what the projection uses."""
    classes: set[type[Any]] = set()
    todo = list(bases)
    while todo:
        cls = todo.pop()
        if cls not in classes:
            classes.add(cls)
            todo += cls.__subclasses__()
    # the topic as `get_topic` writes it, without caching: an event class declared explicitly (for its
    # class_version and upcasters) is redefined by the library, and the copies share one topic
    topics = {f"{c.__module__}:{c.__qualname__}" for c in classes}
    topics |= {t for t, obj in getattr(utils, "_topic_cache", {}).items() if obj in classes}
    return tuple(sorted(topics))


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


class _State:
    """What a batch (or, during a rebuild, the whole rebuild) accumulates before writing: rows of invoices and
    payments, each invoice's deltas by effective date, and the deltas of the summary tables."""

    def __init__(self) -> None:
        self.invoices = _Rows(invoices, invoices.c.invoice_id)
        self.payments = _Rows(payments, payments.c.payment_id)
        self.histories: dict[UUID, list[tuple[date, int]]] = {}
        self.by_due: dict[tuple[UUID, str, date], Cell] = {}
        self.balances: dict[tuple[UUID, str], Balance] = {}
        self.steps: dict[tuple[UUID, str, date, date], Cell] = {}
        self.months: defaultdict[tuple[UUID, str, date], int] = defaultdict(int)


class ReceivablesProjection:
    name = "receivables"

    def __init__(self) -> None:
        self._rebuild: _State | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        return event_topics(Invoice.Event, Payment.Event)

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        if self._rebuild is not None:  # rows stay in memory until the rebuild ends; only the ledger is written now
            batch = _Batch(conn, self._rebuild)
            for position, event in events:
                batch.event(position, event)
            insert_rows(conn, ledger_entries, batch.entries)
            gc.freeze()  # the rows kept in memory are long-lived: spare them the collector's full passes
            return
        batch = _Batch(conn, _State())
        invoice_ids = {e.originator_id for _, e in events if isinstance(e, Invoice.Event)}
        payment_ids = {e.originator_id for _, e in events if isinstance(e, Payment.Event)}
        payment_ids |= {e.payment_id for _, e in events if hasattr(e, "payment_id")}
        batch.invoices.prefetch(conn, invoice_ids)
        batch.payments.prefetch(conn, payment_ids)
        batch.prefetch_histories({e.originator_id for _, e in events if type(e) in _INVOICE_DELTAS})
        for position, event in events:
            batch.event(position, event)
        batch.flush()

    @contextlib.contextmanager
    def rebuilding(self, conn: sa.Connection) -> Iterator[None]:
        """During a rebuild (one transaction, after `reset`), keep every row in memory and write each table once
        at the end, in one COPY, instead of inserting and then updating rows batch after batch."""
        self._rebuild = _State()
        try:
            yield
            _write_rebuilt(conn, self._rebuild)
        finally:
            self._rebuild = None
            gc.unfreeze()

    def reset(self, conn: sa.Connection) -> None:
        for table in (customer_open_months, customer_aging_steps, aging_steps, open_totals, customer_balances,
                      open_by_due, ledger_entries, payments, invoices):
            conn.execute(table.delete())


_INVOICE_DELTAS = {I.PaymentAllocated, I.AllocationReversed, I.CreditNoteApplied, I.WrittenOff}
_ZERO, _NO_BALANCE = Cell(), Balance()


def _nonzero(cells: dict[Any, Cell], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{**dict(zip(keys, key, strict=True)), "open_minor": v.open_minor, "invoices": v.invoices}
            for key, v in cells.items() if v != _ZERO]


def _add(cells: dict[Any, Cell], key: Any, open_minor: int, invoices: int) -> None:
    cells[key] = cells.get(key, _ZERO).plus(open_minor, invoices)


def _summaries(state: _State) -> dict[str, list[dict[str, Any]]]:
    """The rows (or, incrementally, the deltas) of the summary tables from what a state accumulated."""
    totals: dict[tuple[str, date], Cell] = {}
    for (_customer, currency, due_on), v in state.by_due.items():
        _add(totals, (currency, due_on), *v)
    aging: dict[tuple[str, date, date], Cell] = {}
    for (_customer, currency, due_on, on), v in state.steps.items():
        _add(aging, (currency, due_on, on), *v)
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


def _write_rebuilt(conn: sa.Connection, state: _State) -> None:
    insert_rows(conn, invoices, list(state.invoices.new.values()))
    insert_rows(conn, payments, list(state.payments.new.values()))
    for table, rows in _summaries(state).items():
        insert_rows(conn, metadata.tables[table], rows)


class _Batch:
    def __init__(self, conn: sa.Connection, state: _State) -> None:
        self.conn, self.state = conn, state
        self.invoices, self.payments = state.invoices, state.payments
        self.entries: list[dict[str, Any]] = []
        self.by_due, self.balances = state.by_due, state.balances

    def event(self, position: int, event: Any) -> None:
        if isinstance(event, Invoice.Event):
            self.invoice_event(position, event)
        elif isinstance(event, Payment.Event):
            self.payment_event(position, event)

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
            _add(steps, (customer_id, currency, due_on, on), delta, (running + delta != 0) - (running != 0))
        else:  # recorded late with an earlier date: the counts of the later dates may change too
            _add(steps, (customer_id, currency, due_on, on), delta, 0)
            before = _steps(history)
            history.append((on, delta))
            after = _steps(history)
            for day in before.keys() | after.keys():
                change = after.get(day, 0) - before.get(day, 0)
                if change:
                    _add(steps, (customer_id, currency, due_on, day), 0, change)
        self.state.months[(customer_id, currency, on.replace(day=1))] += delta

    def _entry(self, position: int, event: Any, *, kind: str, customer_id: UUID, currency: str, effective_on: date,
               invoice: dict[str, Any] | None = None, payment_id: UUID | None = None, reference: str | None = None,
               payment_external_id: str | None = None, invoice_delta: int = 0, account_delta: int = 0,
               counterparty_id: UUID | None = None, invoice_number: str | None = None) -> None:
        self.entries.append({
            "position": position, "customer_id": customer_id, "currency": currency, "kind": kind,
            "invoice_id": invoice["invoice_id"] if invoice else None, "payment_id": payment_id,
            "reference": reference, "due_on": invoice["due_on"] if invoice else None, "effective_on": effective_on,
            "recorded_at": event.at, "invoice_delta_minor": invoice_delta, "account_delta_minor": account_delta,
            # for statements, without joins: both never change once set
            "invoice_number": invoice["number"] if invoice else invoice_number,
            "payment_external_id": payment_external_id, "counterparty_id": counterparty_id,
        })
        key = (customer_id, currency)
        balance = self.balances.get(key, _NO_BALANCE)
        self.balances[key] = _new_tuple(Balance, (balance[0] + invoice_delta, balance[1] + account_delta))
        if invoice is not None and invoice_delta:
            self._step(invoice, effective_on, invoice_delta)

    def _open_moved(self, row: dict[str, Any], before: int) -> None:
        after = row["open_minor"]
        if after != before:
            _add(self.by_due, (row["customer_id"], row["currency"], row["due_on"]), after - before,
                 (after > 0) - (before > 0))

    def invoice_event(self, position: int, event: Any) -> None:
        if isinstance(event, I.Issued):
            deducted = sum(m.minor for m in event.deductions.values())
            row = self.invoices.new[event.originator_id] = {
                "invoice_id": event.originator_id, "number": event.number, "series": event.series,
                "customer_id": event.customer_id, "kind": event.kind, "category": event.category,
                "currency": event.total.currency, "issued_on": event.issued_on, "due_on": event.due_on,
                "total_minor": event.total.minor, "deducted_minor": deducted, "allocated_minor": 0,
                "credited_minor": 0, "written_off_minor": 0, "disputed_minor": 0,
                "structured_reference": event.structured_reference, "purchase_order": event.purchase_order,
                "external_id": event.external_id, "open_minor": 0,
            }
            before = 0
        else:
            found = self.invoices.get(self.conn, event.originator_id)
            if found is None:
                raise LookupError(f"event for unknown invoice {event.originator_id} at position {position}")
            row, before = found, found["open_minor"]
            if type(event) in _INVOICE_MOVES:
                column, sign = _INVOICE_MOVES[type(event)]
                row[f"{column}_minor"] += sign * event.amount.minor
        row["version"] = event.originator_version
        _derive_invoice(row)
        self._open_moved(row, before)
        self._invoice_ledger(position, event, row, delta=row["open_minor"] - before)

    def _invoice_ledger(self, position: int, event: Any, row: dict[str, Any], delta: int) -> None:
        common = {"customer_id": row["customer_id"], "currency": row["currency"], "invoice": row}
        if isinstance(event, I.Issued):
            self._entry(position, event, kind="invoice", effective_on=row["issued_on"], reference=row["number"],
                        invoice_delta=delta, account_delta=delta, **common)
        elif isinstance(event, I.PaymentAllocated | I.AllocationReversed):
            payment = self.payments.get(self.conn, event.payment_id)
            allocated = isinstance(event, I.PaymentAllocated)
            if allocated:  # a payment counts from its value date
                on = payment["value_on"] if payment else business_date(event.at)
            else:
                on = (payment or {}).get("returned_on") or business_date(event.at)
            # cash from another account (unknown payer, parent company) settles this customer's account too
            payer = (payment or {}).get("customer_id")
            foreign = payment is None or payer != row["customer_id"]
            self._entry(position, event, kind="payment_allocated" if allocated else "allocation_reversed",
                        effective_on=max(on, row["issued_on"]),  # never before the invoice existed
                        payment_id=event.payment_id, payment_external_id=(payment or {}).get("external_id"),
                        invoice_delta=delta, account_delta=delta if foreign else 0,
                        counterparty_id=payer if foreign else None, **common)
        elif isinstance(event, I.CreditNoteApplied):
            self._entry(position, event, kind="credit_note", effective_on=event.credited_on, reference=event.number,
                        invoice_delta=delta, account_delta=delta, **common)
        elif isinstance(event, I.WrittenOff):
            self._entry(position, event, kind="write_off", effective_on=event.written_off_on,
                        invoice_delta=delta, account_delta=delta, **common)

    def payment_event(self, position: int, event: Any) -> None:
        if isinstance(event, P.Received):
            row = self.payments.new[event.originator_id] = {
                "payment_id": event.originator_id, "customer_id": event.customer_id,
                "currency": event.amount.currency, "method": event.method, "value_on": event.value_on,
                "amount_minor": event.amount.minor, "allocated_minor": 0, "refunded_minor": 0,
                "returned_on": None, "external_id": event.external_id,
            }
        else:
            found = self.payments.get(self.conn, event.originator_id)
            if found is None:
                raise LookupError(f"event for unknown payment {event.originator_id} at position {position}")
            row = found
            if type(event) in _PAYMENT_MOVES:
                column, sign = _PAYMENT_MOVES[type(event)]
                row[f"{column}_minor"] += sign * event.amount.minor
            elif isinstance(event, P.Returned):
                row["returned_on"] = event.returned_on
        row["version"] = event.originator_version
        _derive_payment(row)
        if row["customer_id"] is None:
            return
        common = {"customer_id": row["customer_id"], "currency": row["currency"], "payment_id": row["payment_id"],
                  "payment_external_id": row["external_id"]}
        if isinstance(event, P.Received):
            self._entry(position, event, kind="payment", effective_on=row["value_on"],
                        account_delta=-row["amount_minor"], **common)
        elif isinstance(event, P.Refunded):
            self._entry(position, event, kind="refund", effective_on=event.refunded_on,
                        account_delta=event.amount.minor, **common)
        elif isinstance(event, P.Returned):
            self._entry(position, event, kind="payment_returned", effective_on=event.returned_on,
                        account_delta=row["amount_minor"], **common)
        elif isinstance(event, P.Allocated | P.AllocationReversed):
            invoice = self.invoices.get(self.conn, event.invoice_id)
            if invoice is not None and invoice["customer_id"] != row["customer_id"]:  # paid for another account
                allocated = isinstance(event, P.Allocated)
                self._entry(position, event, kind="paid_for_other" if allocated else "paid_for_other_reversed",
                            effective_on=max(row["value_on"], invoice["issued_on"]),
                            account_delta=(1 if allocated else -1) * event.amount.minor,
                            counterparty_id=invoice["customer_id"], invoice_number=invoice["number"], **common)

    def flush(self) -> None:
        conn = self.conn
        self.invoices.flush(conn)
        self.payments.flush(conn)
        insert_rows(conn, ledger_entries, self.entries)
        rows = _summaries(self.state)
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
