"""A long numbering series loads from its snapshot, in a process that never saw it grow."""

from __future__ import annotations

from ar.domain.series import NumberingSeries
from ar.runtime import Runtime

INVOICES = 250


def test_series_of_250_invoices_loads_from_its_snapshot(runtime: Runtime, desk, second_runtime: Runtime,
                                                        desk_for) -> None:
    customer = desk.customer()
    for n in range(INVOICES):
        desk.invoice(customer.id, 100 + n)
    series_id = NumberingSeries.create_id("F2026")

    loaded = second_runtime.app.repository.get(series_id)  # a cold cache: snapshot at 200, then 51 events

    assert (loaded.last_sequence, loaded.version) == (INVOICES, INVOICES + 1)
    snapshots = second_runtime.app.snapshots
    assert snapshots is not None
    assert [s.originator_version for s in snapshots.get(series_id)] == [100, 200]  # Opened is version 1
    assert second_runtime.app.repository.get(series_id, version=150).last_sequence == 149
    assert desk_for(second_runtime.app).invoice(customer.id, 1).number == "F2026-000251"
    assert desk.invoice(customer.id, 1).number == "F2026-000252"
