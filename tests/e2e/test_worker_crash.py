"""Worker crash, end to end: real `ar worker` processes SIGKILLed mid-way through a backlog, on SQLite and PostgreSQL.

A history of several thousand events (customers, ~1500 invoices, payments allocated to many of them, credit notes,
write-offs, disputes, returned direct debits, refunds, unapplied cash) is written straight through the application,
with the projections left at 0. Then `ar worker` is started and SIGKILLed (its whole process group) while the
receivables projection is part-way through the backlog, three times; a fourth worker runs to the head and is
stopped with SIGTERM. Then:

* after each kill, the read models hold exactly the events up to the committed position, no more (the batch in
  flight at the kill left nothing behind) and no fewer;
* at the end, every read-model table equals, row by row, what a fresh rebuild in this process produces: no event
  applied twice, none skipped;
* ledger_entries holds exactly one row per balance-changing event of the event store, at that event's position;
* the invoices and payments rows equal the aggregates;
* no worker logged a failed catch-up, and the last one exited cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from tests.support.servers import ArProcess, killed_at_the_end

from ar.adapters.clocks import SettableClock
from ar.application.receivables import new_id
from ar.domain.customer import CreditLimitPolicy, Customer, Language
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.reference import creditor_reference
from ar.domain.series import NumberingSeries
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine
from ar.projections.tables import (
    customer_balances,
    customers,
    invoices,
    ledger_entries,
    open_by_due,
    payments,
    projection_positions,
)
from ar.runtime import Runtime

SEED = 20260302
CUSTOMERS = 20
INVOICES = 1_500
PAYMENTS = 180
INVOICES_PER_SAVE = 25
SERIES = "F2026"
KILLS = 3
KILL_DELAYS_S = (0.0, 0.02, 0.05)  # after seeing the position move, so the kills land at different points of a batch
MID_WAY_TIMEOUT_S = 30.0
FINISH_TIMEOUT_S = 40.0
STOP_TIMEOUT_S = 15.0
POLL_S = 0.005
CATCH_UP_FAILED = "projection catch-up failed"

READ_MODELS: dict[str, sa.Table] = {t.name: t for t in (
    invoices, payments, ledger_entries, open_by_due, customer_balances, customers)}
INVOICE_BALANCE_EVENTS = (Invoice.Issued, Invoice.PaymentAllocated, Invoice.AllocationReversed,  # type: ignore[attr-defined]
                          Invoice.CreditNoteApplied, Invoice.WrittenOff)  # type: ignore[attr-defined]
PAYMENT_BALANCE_EVENTS = (Payment.Received, Payment.Refunded, Payment.Returned)  # type: ignore[attr-defined]


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


class Worker(ArProcess):
    """One `ar worker` process in its own process group, its output in a log file."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        env = {**os.environ, "AR_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1",
               "AR_RUN_DUNNING": "false"}  # projections only: the history's invoices are all overdue today
        for name in ("AR_SIMULATED_CLOCK", "AR_PROJECTION_INTERVAL_S", "AR_POOL_SIZE"):
            env.pop(name, None)
        super().__init__(["worker"], log_path, env)

    def exited(self) -> bool:
        return not self.alive()

    def terminate(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM (a graceful stop); its exit code. SIGKILLed (and the test failed) if it does not exit in time."""
        assert self.proc is not None
        code = super().terminate(timeout_s)
        if code is None:
            pytest.fail(f"ar worker did not exit within {timeout_s} s of SIGTERM:\n{self.log_tail()}")
        return code

    def log(self) -> str:
        return self.log_text()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    """Every worker started by the test; all SIGKILLed at the end, whatever happens."""
    with killed_at_the_end() as started:
        yield started


# The history -----------------------------------------------------------------------------------------------------
@dataclass
class History:
    customers: list[UUID] = field(default_factory=list)
    invoices: list[UUID] = field(default_factory=list)
    payments: list[UUID] = field(default_factory=list)


def _write_history(runtime: Runtime, clock: SettableClock) -> History:
    """A few thousand events through the application. Invoices are issued the way `issue_invoice` does it, but
    INVOICES_PER_SAVE to a transaction (one command each costs 3-10 ms: 1500 of them would take longer than the
    rest of the test); everything else is one command per transaction. Nothing here reads the read models (no
    credit limit while invoicing, no automatic allocation), so the projections stay at 0. Open amounts are tracked
    here rather than read back from the aggregates (each `get` copies the aggregate: slow)."""
    rng = random.Random(SEED)
    app, history = runtime.app, History()
    today = clock.today()
    for n in range(CUSTOMERS):
        history.customers.append(app.register_customer(
            customer_id=new_id("customer", external_id=f"wc-{n}"), name=f"Client {n:02d} SAS",
            kind=CustomerKind.PROFESSIONAL, country="FR", language=Language.FR, emails=[f"ap{n}@client.example"],
            terms=PaymentTerms(days=rng.choice([0, 15, 30, 45, 60])), credit_limit=None, external_id=f"wc-{n}",
        ).aggregate.id)
    terms = {c: app.get_customer(c).terms for c in history.customers}
    open_minor: dict[UUID, int] = {}
    by_customer: dict[UUID, list[UUID]] = {c: [] for c in history.customers}
    numbering = NumberingSeries(name=SERIES)
    for first in range(0, INVOICES, INVOICES_PER_SAVE):
        now, batch = clock.now(), []
        for n in range(first, min(first + INVOICES_PER_SAVE, INVOICES)):
            customer_id = rng.choice(history.customers)
            total, issued_on = eur(rng.randrange(1_000, 500_000)), today - timedelta(days=rng.randrange(0, 150))
            invoice_id = new_id("invoice", external_id=f"wc-inv-{n}")
            number = numbering.next_number(invoice_id, now)
            batch.append(Invoice.issue(
                id=invoice_id, number=number, series=SERIES, customer_id=customer_id, kind=InvoiceKind.STANDARD,
                total=total, vat=[VatLine(Decimal(0), total, eur(0))], issued_on=issued_on,
                due_on=terms[customer_id].due_on(issued_on), category=Category.SERVICES, purchase_order=None,
                external_id=f"wc-inv-{n}", structured_reference=creditor_reference(number), deposits=[], at=now))
            history.invoices.append(invoice_id)
            by_customer[customer_id].append(invoice_id)
            open_minor[invoice_id] = total.minor
        app.save(numbering, *batch)
        clock.advance(timedelta(minutes=1))

    debits: dict[UUID, list[tuple[UUID, int]]] = {}
    unapplied: list[tuple[UUID, int]] = []
    for n in range(PAYMENTS):
        customer_id = rng.choice(history.customers)
        candidates = [i for i in by_customer[customer_id] if open_minor[i] > 0]
        chosen = rng.sample(candidates, min(len(candidates), rng.randint(1, 10)))
        allocations = [(i, open_minor[i] if rng.random() < 0.7 else rng.randint(1, open_minor[i])) for i in chosen]
        extra = rng.choice([0, 0, 0, rng.randrange(100, 50_000)])
        amount = sum(a for _, a in allocations) + extra
        if amount == 0:
            continue
        method = PaymentMethod.DIRECT_DEBIT if n % 7 == 0 else rng.choice([PaymentMethod.TRANSFER, PaymentMethod.CARD])
        payment_id = new_id("payment", external_id=f"wc-pay-{n}")
        app.record_payment(
            payment_id=payment_id, customer_id=customer_id, amount=eur(amount), method=method,
            value_on=today - timedelta(days=rng.randrange(0, 30)), external_id=f"wc-pay-{n}",
            allocations=[(i, eur(a)) for i, a in allocations])
        history.payments.append(payment_id)
        for i, a in allocations:
            open_minor[i] -= a
        if method is PaymentMethod.DIRECT_DEBIT:
            debits[payment_id] = allocations
        elif extra:
            unapplied.append((payment_id, extra))
        if n % 45 == 44:
            clock.advance(timedelta(hours=2))

    for n in range(15):  # unidentified cash: a payment with no customer, hence no ledger entry
        payment_id = uuid4()
        app.record_payment(payment_id=payment_id, customer_id=None, amount=eur(rng.randrange(100, 90_000)),
                           method=PaymentMethod.TRANSFER, payer_reference=f"VIR {n}", external_id=None)
        history.payments.append(payment_id)

    clock.advance(timedelta(days=1))
    for payment_id in list(debits)[::2]:  # returned direct debits: allocations reversed, the invoices reopen
        app.return_payment(payment_id, reason="AM04")
        for i, a in debits[payment_id]:
            open_minor[i] += a
    for payment_id, extra in unapplied[:12]:
        app.refund_payment(payment_id, refund_id=uuid4(), amount=eur(max(1, extra // 2)))

    still_open = [i for i in history.invoices if open_minor[i] > 0]
    rng.shuffle(still_open)
    for invoice_id in still_open[:120]:
        app.issue_credit_note(invoice_id, amount=eur(rng.randint(1, open_minor[invoice_id])), reason="avoir",
                              series="AV2026")
    for invoice_id in still_open[120:145]:
        app.write_off_invoice(invoice_id, reason="irrecouvrable")
    for n, invoice_id in enumerate(still_open[145:175]):
        dispute_id = uuid4()
        app.open_dispute(invoice_id, dispute_id=dispute_id, amount=None, reason="contestation")
        if n % 2:
            app.resolve_dispute(invoice_id, dispute_id=dispute_id, outcome="accord")
    for customer_id in history.customers[:5]:  # last: a credit limit makes the next issue read the read models
        app.change_credit_limit(customer_id, eur(1_000_000), CreditLimitPolicy.FLAG)
        app.change_customer_terms(customer_id, PaymentTerms(days=30))
    return history


# Reading the stores ----------------------------------------------------------------------------------------------
def _positions(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {r.name: int(r.position) for r in conn.execute(sa.select(projection_positions))}


def _balance_positions(runtime: Runtime) -> list[int]:
    """The notification ids of the events that change a balance, read from the event store (one ledger row each)."""
    app, out, start = runtime.app, [], 0
    payment_customers: dict[UUID, UUID | None] = {}
    while notifications := app.recorder.select_notifications(start, 1000, inclusive_of_start=False):
        for n in notifications:
            event = app.mapper.to_domain_event(n)
            if isinstance(event, Payment.Received):  # type: ignore[attr-defined]
                payment_customers[event.originator_id] = event.customer_id
            if isinstance(event, INVOICE_BALANCE_EVENTS) or (
                    isinstance(event, PAYMENT_BALANCE_EVENTS) and payment_customers[event.originator_id] is not None):
                out.append(n.id)
        start = notifications[-1].id
    return out


def _snapshot(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Every read-model table, row by row, in primary-key order."""
    with engine.connect() as conn:
        return {name: [dict(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()]
                for name, t in READ_MODELS.items()}


def _diff(table: str, got: list[dict[str, Any]], want: list[dict[str, Any]]) -> str:
    key = [c.name for c in READ_MODELS[table].primary_key.columns]
    got_by = {tuple(r[k] for k in key): r for r in got}
    want_by = {tuple(r[k] for k in key): r for r in want}
    lines = [f"{table}: {len(got)} rows built by the workers, {len(want)} by the rebuild"]
    lines += [f"  only in the workers' rows: {k}" for k in list(got_by.keys() - want_by.keys())[:5]]
    lines += [f"  only in the rebuild: {k}" for k in list(want_by.keys() - got_by.keys())[:5]]
    differ = [k for k in got_by.keys() & want_by.keys() if got_by[k] != want_by[k]][:5]
    for k in differ:
        lines.append(f"  {k}: " + ", ".join(f"{c}={got_by[k][c]!r} (rebuild {want_by[k][c]!r})"
                                           for c in got_by[k] if got_by[k][c] != want_by[k][c]))
    return "\n".join(lines)


def _invoice_from_aggregate(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.id, "number": invoice.number, "customer_id": invoice.customer_id,
        "currency": invoice.currency, "issued_on": invoice.issued_on, "due_on": invoice.due_on,
        "total_minor": invoice.total.minor, "deducted_minor": invoice.deducted.minor,
        "allocated_minor": invoice.allocated.minor, "credited_minor": invoice.credited.minor,
        "written_off_minor": invoice.written_off.minor, "disputed_minor": invoice.disputed.minor,
        "open_minor": invoice.open_amount.minor, "status": invoice.status.value,
        "structured_reference": invoice.structured_reference, "external_id": invoice.external_id,
        "version": invoice.version,
    }


def _payment_from_aggregate(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.id, "customer_id": payment.customer_id, "amount_minor": payment.amount.minor,
        "allocated_minor": payment.allocated.minor, "refunded_minor": payment.refunded.minor,
        "unapplied_minor": payment.unapplied.minor, "returned_on": payment.returned_on,
        "value_on": payment.value_on, "version": payment.version,
    }


def _batch_in_flight(runtime: Runtime) -> bool:
    """Whether a projection batch transaction is open right now: on PostgreSQL, another session holds the row-write
    lock its first statement (the no-op UPDATE of its position) takes on projection_positions; on SQLite, that
    UPDATE took the database's write lock, so a BEGIN IMMEDIATE that does not wait fails."""
    if runtime.settings.is_postgres:
        with runtime.engine.connect() as conn:
            return bool(conn.scalar(sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'projection_positions' AND l.mode = 'RowExclusiveLock' AND l.granted "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND l.pid <> pg_backend_pid()")))
    probe = sqlite3.connect(runtime.settings.sqlite_path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True  # "database is locked": a writer is in a transaction
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def _kill_mid_batch(worker: Worker, runtime: Runtime, head: int, after: int, delay_s: float) -> tuple[int, bool]:
    """Wait until the worker has committed a receivables batch beyond `after` (short of the head), wait `delay_s`
    more, then SIGKILL it as soon as a batch transaction is seen open. The position seen before the kill, and
    whether the kill interrupted an open batch."""
    deadline = time.monotonic() + MID_WAY_TIMEOUT_S
    while True:
        if time.monotonic() > deadline:
            pytest.fail(f"the receivables position did not pass {after} within {MID_WAY_TIMEOUT_S} s:\n"
                        f"{worker.log_tail()}")
        if worker.exited():
            pytest.fail(f"ar worker exited early:\n{worker.log_tail()}")
        seen = _positions(runtime.engine).get("receivables", 0)
        if seen >= head:
            pytest.fail(f"the worker reached the head ({head}) before it could be killed mid-way (last kill at "
                        f"{after}): make the history bigger")
        if seen > after:
            break
        time.sleep(POLL_S)
    time.sleep(delay_s)
    in_flight, probe_until = False, time.monotonic() + 2.0
    while not in_flight and time.monotonic() < probe_until:
        in_flight = _batch_in_flight(runtime)
    worker.kill()
    return seen, in_flight


def _wait_head(worker: Worker, runtime: Runtime, head: int) -> float:
    deadline = started = time.monotonic()
    deadline += FINISH_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker.exited():
            pytest.fail(f"ar worker exited early:\n{worker.log_tail()}")
        positions = _positions(runtime.engine)
        if positions.get("receivables", 0) >= head and positions.get("customers", 0) >= head:
            return time.monotonic() - started
        time.sleep(0.02)
    pytest.fail(f"the projections did not reach {head} within {FINISH_TIMEOUT_S} s "
                f"({_positions(runtime.engine)}):\n{worker.log_tail()}")


# The test ----------------------------------------------------------------------------------------------------------
def test_sigkilled_workers_apply_every_event_exactly_once(
        runtime: Runtime, clock: SettableClock, workers: list[Worker], tmp_path: Path) -> None:
    started = time.monotonic()
    database_url = runtime.settings.database_url
    history = _write_history(runtime, clock)
    written_s = time.monotonic() - started
    head = runtime.projections.head()
    assert _positions(runtime.engine) == {}, "writing the history ran the projections"
    balance_positions = _balance_positions(runtime)
    issued_positions = [n.id for n in runtime.app.recorder.select_notifications(0, head)
                        if n.topic.endswith("Invoice.Issued")]
    assert len(issued_positions) == INVOICES

    # Start a worker, SIGKILL it during a receivables batch part-way through the backlog; again; and again.
    kills: list[tuple[int, int, bool]] = []  # (position seen before the kill, committed after it, batch in flight)
    last = 0
    for k in range(KILLS):
        worker = Worker(database_url, tmp_path / f"worker-{k + 1}.log")
        workers.append(worker)
        worker.start()
        seen, in_flight = _kill_mid_batch(worker, runtime, head, last, KILL_DELAYS_S[k])
        committed = _positions(runtime.engine)["receivables"]
        kills.append((seen, committed, in_flight))
        assert in_flight, f"kill {k + 1} did not land during a batch: {kills}"
        assert seen <= committed < head, kills

        # The batch in flight at the kill left nothing: the read models hold the events up to `committed`, all.
        with runtime.engine.connect() as conn:
            ledger = list(conn.scalars(sa.select(ledger_entries.c.position).order_by(ledger_entries.c.position)))
            invoice_rows = conn.scalar(sa.select(sa.func.count()).select_from(invoices))
        assert ledger == [p for p in balance_positions if p <= committed], f"kill {k + 1}: {kills}"
        assert invoice_rows == sum(p <= committed for p in issued_positions), f"kill {k + 1}: {kills}"
        last = committed

    # A last worker runs to the head, then stops on SIGTERM.
    final = Worker(database_url, tmp_path / "worker-final.log")
    workers.append(final)
    final.start()
    finish_s = _wait_head(final, runtime, head)
    assert final.terminate() == 0, final.log_tail()
    for worker in workers:
        assert CATCH_UP_FAILED not in worker.log(), worker.log_tail()
    assert _positions(runtime.engine) == {p.name: head for p in runtime.projections.projections}

    # What the workers built, then a rebuild from event 1 in this process: equal, row by row.
    built = _snapshot(runtime.engine)
    rebuild_started = time.monotonic()
    runtime.projections.rebuild("receivables")
    runtime.projections.rebuild("customers")
    rebuild_s = time.monotonic() - rebuild_started
    rebuilt = _snapshot(runtime.engine)
    for table in READ_MODELS:
        assert built[table] == rebuilt[table], _diff(table, built[table], rebuilt[table])
    assert _positions(runtime.engine) == {p.name: head for p in runtime.projections.projections}

    # One ledger row per balance-changing event of the event store, at its position.
    assert len(built["ledger_entries"]) == len(balance_positions)
    assert [r["position"] for r in built["ledger_entries"]] == balance_positions

    # The rows equal the aggregates, each replayed from its stored events (read in bulk: a `get` each, from the
    # application's cache, took seconds).
    assert len(built["invoices"]) == len(history.invoices)
    invoice_rows_by_id = {r["invoice_id"]: r for r in built["invoices"]}
    stored_invoices = runtime.app.load_many(Invoice, history.invoices)
    assert set(stored_invoices) == set(history.invoices)
    for invoice_id in history.invoices:
        want = _invoice_from_aggregate(stored_invoices[invoice_id])
        assert {c: invoice_rows_by_id[invoice_id][c] for c in want} == want, invoice_id
    payment_rows_by_id = {r["payment_id"]: r for r in built["payments"]}
    assert set(payment_rows_by_id) == set(history.payments)
    stored_payments = runtime.app.load_many(Payment, history.payments)
    assert set(stored_payments) == set(history.payments)
    for payment_id in history.payments:
        want = _payment_from_aggregate(stored_payments[payment_id])
        assert {c: payment_rows_by_id[payment_id][c] for c in want} == want, payment_id
    customer_rows = {r["customer_id"]: r for r in built["customers"]}
    assert set(customer_rows) == set(history.customers)
    for customer_id in history.customers:
        customer: Customer = runtime.app.get_customer(customer_id)
        limit = customer.credit_limit
        assert (customer_rows[customer_id]["version"], customer_rows[customer_id]["credit_limit_minor"]) == (
            customer.version, limit.minor if limit else None), customer_id

    # The summaries add up to the invoices and the ledger.
    open_by_customer: dict[UUID, int] = {}
    for row in built["invoices"]:
        open_by_customer[row["customer_id"]] = open_by_customer.get(row["customer_id"], 0) + row["open_minor"]
    balances = {r["customer_id"]: r for r in built["customer_balances"]}
    assert {c: balances[c]["open_minor"] for c in open_by_customer} == open_by_customer
    assert sum(r["open_minor"] for r in built["open_by_due"]) == sum(open_by_customer.values())
    account: dict[UUID, int] = {}
    for row in built["ledger_entries"]:
        account[row["customer_id"]] = account.get(row["customer_id"], 0) + row["account_delta_minor"]
    assert {c: r["account_minor"] for c, r in balances.items()} == account

    print(f"\nworker crash ({'postgresql' if runtime.settings.is_postgres else 'sqlite'}): {head} events "
          f"({len(balance_positions)} balance changes) written in {written_s:.1f} s; SIGKILLs at receivables "
          + ", ".join(f"{committed}/{head}{' (batch in flight)' if in_flight else ''}"
                      for _, committed, in_flight in kills)
          + f"; the last worker reached the head in {finish_s:.1f} s; rebuild {rebuild_s:.1f} s; "
          f"{time.monotonic() - started:.1f} s in all")
