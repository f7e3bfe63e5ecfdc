"""The invoices read model: equal to the aggregates, equal to its own rebuild, each event applied exactly once."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

from ar.domain.errors import DomainError
from ar.domain.invoice_kind import InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod
from ar.runtime import Runtime


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def mixed_commands(runtime: Runtime, desk, seed: int, steps: int = 60) -> list[UUID]:
    """A reproducible random walk over the use cases; refused commands are part of the mix. Returns invoice ids."""
    rng = random.Random(seed)
    app = runtime.app
    customers = [desk.customer(name=f"Client {n}").id for n in range(3)]
    invoices = [desk.invoice(rng.choice(customers), rng.randrange(1_000, 20_000)).id for _ in range(12)]
    debits: list[UUID] = []
    unapplied: list[UUID] = []
    for _ in range(steps):
        invoice = app.get_invoice(rng.choice(invoices))
        open_minor = invoice.open_amount.minor
        action = rng.choice(["pay", "pay", "debit", "auto", "credit", "write_off", "dispute", "resolve", "return",
                             "refund", "issue", "catch_up"])
        try:
            if action == "pay":
                amount = rng.randint(1, max(1, open_minor))
                desk.payment(invoice.customer_id, amount + rng.choice([0, 0, 500]),
                             allocations=[(invoice.id, amount)])
            elif action == "debit":
                debits.append(desk.payment(invoice.customer_id, max(1, open_minor), method=PaymentMethod.DIRECT_DEBIT,
                                           allocations=[(invoice.id, max(1, open_minor))]).id)
            elif action == "auto":
                unapplied.append(desk.payment(rng.choice(customers), rng.randrange(500, 15_000), auto=True).id)
            elif action == "credit":
                app.issue_credit_note(invoice.id, amount=eur(rng.randint(1, max(1, open_minor))), reason="avoir",
                                      series="AV")
            elif action == "write_off":
                app.write_off_invoice(invoice.id, reason="irrecouvrable")
            elif action == "dispute":
                app.open_dispute(invoice.id, dispute_id=uuid4(), amount=None, reason="contestation")
            elif action == "resolve" and invoice.disputes:
                app.resolve_dispute(invoice.id, dispute_id=next(iter(invoice.disputes)), outcome="accord")
            elif action == "return" and debits:
                app.return_payment(debits.pop(rng.randrange(len(debits))), reason="AM04")
            elif action == "refund" and unapplied:
                payment = app.get_payment(unapplied.pop())
                if payment.unapplied.is_positive:
                    app.refund_payment(payment.id, refund_id=uuid4(), amount=payment.unapplied)
            elif action == "issue":
                invoices.append(desk.invoice(rng.choice(customers), rng.randrange(1_000, 20_000)).id)
            elif action == "catch_up":
                runtime.projections.catch_up()
        except DomainError:
            pass  # refused: nothing was written, which the comparison below also checks
    return invoices


def expected_row(runtime: Runtime, invoice_id: UUID) -> dict[str, Any]:
    invoice = runtime.app.get_invoice(invoice_id)
    return {
        "number": invoice.number, "open_minor": invoice.open_amount.minor, "status": invoice.status.value,
        "version": invoice.version, "total_minor": invoice.total.minor, "deducted_minor": invoice.deducted.minor,
        "allocated_minor": invoice.allocated.minor, "credited_minor": invoice.credited.minor,
        "written_off_minor": invoice.written_off.minor, "disputed_minor": invoice.disputed.minor,
        "due_on": invoice.due_on, "structured_reference": invoice.structured_reference,
    }


def assert_rows_match_aggregates(runtime: Runtime, rows: dict[UUID, dict[str, Any]], invoice_ids: list[UUID]) -> None:
    assert set(rows) == set(invoice_ids)
    for invoice_id in invoice_ids:
        expected = expected_row(runtime, invoice_id)
        assert {k: rows[invoice_id][k] for k in expected} == expected


def test_read_model_equals_the_aggregates_after_mixed_commands(runtime: Runtime, desk, read_invoices) -> None:
    invoice_ids = mixed_commands(runtime, desk, seed=20260302)

    runtime.projections.catch_up()

    assert runtime.projections.position("receivables") == runtime.projections.head()
    rows = read_invoices(runtime)
    assert_rows_match_aggregates(runtime, rows, invoice_ids)
    assert len({r["status"] for r in rows.values()}) >= 4  # the walk reached several states


def test_rebuilt_read_model_equals_the_incrementally_built_one(runtime: Runtime, desk, read_invoices) -> None:
    mixed_commands(runtime, desk, seed=7)
    runtime.projections.catch_up()
    incremental = read_invoices(runtime)

    applied = runtime.projections.rebuild("receivables")

    assert applied == runtime.projections.head()
    assert read_invoices(runtime) == incremental


def test_catch_up_applies_each_event_once(runtime: Runtime, desk, read_invoices) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    desk.payment(customer.id, 400, allocations=[(invoice.id, 400)])

    assert runtime.projections.catch_up() == runtime.projections.head()
    assert runtime.projections.catch_up() == 0
    desk.payment(customer.id, 100, allocations=[(invoice.id, 100)])
    assert runtime.projections.catch_up() == 3  # Received, Allocated, PaymentAllocated
    assert runtime.projections.catch_up() == 0

    row = read_invoices(runtime)[invoice.id]
    assert (row["allocated_minor"], row["open_minor"], row["version"]) == (500, 500, 3)


@contextmanager
def positions_read_together(*runtimes: Runtime) -> Iterator[None]:
    """Each runner's first read of its position waits until every runner has read it: the runners then go for the
    same batch every time, instead of only when the scheduler happens to interleave them."""
    barrier = threading.Barrier(len(runtimes))
    for rt in runtimes:
        waited = threading.Event()

        def first_waits(name: str, read: Any = rt.projections.position, waited: threading.Event = waited) -> int:
            position = int(read(name))
            if not waited.is_set():
                waited.set()
                barrier.wait(timeout=30)
            return position

        rt.projections.position = first_waits  # type: ignore[method-assign]
    try:
        yield
    finally:
        for rt in runtimes:
            del rt.projections.position


def test_two_runners_catching_up_at_once_apply_each_event_once(runtime: Runtime, second_runtime: Runtime, desk,
                                                               read_invoices, race) -> None:
    """Regression: a runner used to apply a batch before claiming it, so the second one inserted the same rows
    again and its catch_up raised a UNIQUE violation instead of yielding to the first."""
    customer = desk.customer()
    invoice_ids: list[UUID] = []
    for _ in range(3):
        for earlier in invoice_ids[-4:]:  # updates of rows from the previous round ...
            desk.payment(customer.id, 100, allocations=[(earlier, 100)])
        invoice_ids += [desk.invoice(customer.id, 1_000 + n).id for n in range(5)]  # ... and new rows

        with positions_read_together(runtime, second_runtime):
            outcomes = race(runtime.projections.catch_up, second_runtime.projections.catch_up)

        assert outcomes == [None, None]
        assert runtime.projections.position("receivables") == runtime.projections.head()
        assert_rows_match_aggregates(runtime, read_invoices(runtime), invoice_ids)


def test_deposit_deducted_by_a_final_invoice_has_its_version_in_the_read_model(runtime: Runtime, desk,
                                                                                read_invoices) -> None:
    """Regression: DepositDeducted moves no amount, and the projection used to skip it, leaving a stale version."""
    customer = desk.customer()
    deposit = desk.invoice(customer.id, 3_000, kind=InvoiceKind.DEPOSIT)
    final = desk.invoice(customer.id, 10_000, kind=InvoiceKind.FINAL, deposits=(deposit.id,))

    runtime.projections.catch_up()

    assert_rows_match_aggregates(runtime, read_invoices(runtime), [deposit.id, final.id])
