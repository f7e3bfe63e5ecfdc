"""A rebuild runs in one transaction: readers keep the old rows until it commits, and nothing is lost after."""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from ar.projections.receivables import ReceivablesProjection
from ar.projections.tables import invoices, ledger_entries
from ar.runtime import Runtime


def _count(runtime: Runtime, table: sa.Table) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def test_readers_see_the_old_rows_while_a_rebuild_runs(runtime: Runtime, desk: Any) -> None:
    customer = desk.customer()
    for n in range(30):
        invoice = desk.invoice(customer.id, 1_000 + n)
        if n % 3 == 0:
            desk.payment(customer.id, 500, allocations=[(invoice.id, 500)])
    runtime.projections.catch_up()
    rows, entries = _count(runtime, invoices), _count(runtime, ledger_entries)
    assert (rows, entries) == (30, 50)

    runtime.projections.batch_size = 10  # several batches, so the pause falls mid-rebuild
    halfway, resume = threading.Event(), threading.Event()
    projection = next(p for p in runtime.projections.projections if isinstance(p, ReceivablesProjection))
    original = projection.apply

    def pausing_apply(conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        original(conn, events)
        if not halfway.is_set():
            halfway.set()
            assert resume.wait(timeout=30)

    projection.apply = pausing_apply  # type: ignore[method-assign]
    rebuild = threading.Thread(target=runtime.projections.rebuild, args=("receivables",))
    rebuild.start()
    try:
        assert halfway.wait(timeout=30)
        assert (_count(runtime, invoices), _count(runtime, ledger_entries)) == (rows, entries)
    finally:
        resume.set()
        rebuild.join(timeout=60)
    assert not rebuild.is_alive()
    assert (_count(runtime, invoices), _count(runtime, ledger_entries)) == (rows, entries)
    assert runtime.projections.position("receivables") == runtime.projections.head()
