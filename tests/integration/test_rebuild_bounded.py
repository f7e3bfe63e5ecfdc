"""A rebuild in bounded memory (receivables/spill.py): with limits far below the book, rows are written early and
brought back when a later event touches them, the summary cells are staged and summed at the end, and the tables
come out the same, row by row, as the incrementally built ones."""

from __future__ import annotations

import contextlib
import random
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from tests.integration.test_read_models import DAY, READ_MODELS, issue, mixed_history, money, pay, table_rows

from ar.adapters.clocks import SettableClock
from ar.domain.payment import PaymentMethod
from ar.projections.receivables import ReceivablesProjection
from ar.runtime import Runtime


def _receivables(runtime: Runtime) -> ReceivablesProjection:
    return next(p for p in runtime.projections.projections if isinstance(p, ReceivablesProjection))


def _rebuild_bounded(runtime: Runtime, *, max_rows: int, max_cells: int, batch: int) -> dict[str, Any]:
    """Rebuild with these limits; the spill's counts of what it did."""
    projection = _receivables(runtime)
    projection.rebuild_max_invoices = projection.rebuild_max_payments = max_rows
    projection.rebuild_max_cells = max_cells
    runtime.projections.batch_size = runtime.projections.rebuild_batch_size = batch
    seen: dict[str, Any] = {"evicted": False, "staged": False, "back": 0}
    original = projection.apply

    def watching(conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        spill = projection._rebuild
        before = len(spill.state.invoices.new) + len(spill.state.payments.new) if spill else 0
        if spill is not None:
            spill.reload(conn, events)
            seen["back"] += len(spill.state.invoices.new) + len(spill.state.payments.new) - before
        original(conn, events)
        if spill is not None:
            seen["evicted"] = seen["evicted"] or spill.evicted
            seen["staged"] = seen["staged"] or spill.staging is not None

    projection.apply = watching  # type: ignore[method-assign]
    try:
        runtime.projections.rebuild("receivables")
    finally:
        del projection.apply
    return seen


def test_a_bounded_rebuild_of_the_mixed_history_equals_the_incremental_tables(runtime: Runtime, desk,
                                                                              clock: SettableClock) -> None:
    mixed_history(runtime, desk, clock)
    incremental = {t.name: table_rows(runtime, t) for t in READ_MODELS}

    seen = _rebuild_bounded(runtime, max_rows=2, max_cells=3, batch=2)

    assert seen["evicted"] and seen["staged"] and seen["back"] > 0
    for table in READ_MODELS:
        assert table_rows(runtime, table) == incremental[table.name], table.name


def _book(runtime: Runtime, desk, clock: SettableClock) -> None:
    """60 invoices over four months, paid late, in part, by direct debits that bounce, with credit notes, write-offs
    and payments recorded with an earlier value date: invoices touched long after they were issued."""
    rng = random.Random(5)
    customers = [desk.customer(name=f"Client {n}") for n in range(6)]
    issued: list[tuple[UUID, UUID, int]] = []
    for day in range(60):
        customer = rng.choice(customers).id
        minor = rng.randrange(1_000, 50_000)
        issued.append((issue(runtime, customer, minor).id, customer, minor))
        if day % 3 == 2:  # an old invoice settled now: in full, in part, or by a debit that comes back
            invoice_id, owner, open_minor = issued[rng.randrange(len(issued))]
            amount = max(1, open_minor // rng.choice((1, 2, 3)))
            method = PaymentMethod.DIRECT_DEBIT if day % 9 == 8 else PaymentMethod.TRANSFER
            with contextlib.suppress(Exception):  # already paid: nothing to allocate
                debit = pay(runtime, owner, amount, method=method, allocations=((invoice_id, amount),),
                            value_on=clock.now().date() - rng.randrange(0, 20) * DAY)
                if method is PaymentMethod.DIRECT_DEBIT:
                    runtime.app.return_payment(debit.id, reason="AM04")
        if day % 7 == 6:
            invoice_id = issued[rng.randrange(len(issued))][0]
            with contextlib.suppress(Exception):
                runtime.app.issue_credit_note(invoice_id, amount=money(500), reason="remise", series="AV")
        if day % 13 == 12:
            with contextlib.suppress(Exception):
                runtime.app.write_off_invoice(issued[rng.randrange(len(issued) // 2)][0], reason="irrecouvrable")
        clock.advance(2 * DAY)
        if day % 10 == 9:
            runtime.projections.catch_up()
    runtime.projections.catch_up()


def test_a_bounded_rebuild_of_a_longer_book_equals_the_incremental_tables(runtime: Runtime, desk,
                                                                          clock: SettableClock) -> None:
    _book(runtime, desk, clock)
    incremental = {t.name: table_rows(runtime, t) for t in READ_MODELS}
    assert len(incremental["invoices"]) == 60 and len(incremental["payments"]) >= 10

    seen = _rebuild_bounded(runtime, max_rows=8, max_cells=40, batch=20)

    assert seen["evicted"] and seen["staged"] and seen["back"] > 0
    for table in READ_MODELS:
        assert table_rows(runtime, table) == incremental[table.name], table.name
    # and once more within the default limits: nothing spilled, the same tables
    projection = _receivables(runtime)
    projection.rebuild_max_invoices = projection.rebuild_max_payments = projection.rebuild_max_cells = 10**6
    runtime.projections.rebuild("receivables")
    for table in READ_MODELS:
        assert table_rows(runtime, table) == incremental[table.name], table.name
