"""A remittance's invoice numbers are found whatever their case, in one query served by the index on
`upper(number)` (migration 0017), on SQLite and PostgreSQL; where two numbers differ only by case, the one written
exactly as quoted is taken."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa

from ar.domain.allocation import numbers_in
from ar.domain.money import Money
from ar.domain.vat import VatLine
from ar.runtime import Runtime


def issue_numbered(runtime: Runtime, customer_id: UUID, series: str, number: str) -> UUID:
    total = Money(1_200, "EUR")
    saved = runtime.app.issue_invoice(invoice_id=uuid4(), series=series, customer_id=customer_id, total=total,
                                      vat=[VatLine(Decimal(0), total, Money(0, "EUR"))], number=number)
    return saved.aggregate.id


@contextmanager
def statements_on_invoices(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "FROM invoices" in statement:
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_numbers_in_another_case_are_found_in_one_query(runtime: Runtime, desk: Any) -> None:
    customer = desk.customer()
    upper = issue_numbered(runtime, customer.id, "ERP", "FA-2026-0042")
    lower = issue_numbered(runtime, customer.id, "ERP", "fa-2026-0043")
    finder = runtime.app.ports.finder
    runtime.projections.catch_up()

    with statements_on_invoices(runtime.engine) as seen:
        found = finder.by_numbers(numbers_in("Factures fa-2026-0042, FA-2026-0043 et FA-2026-9999"))
    assert found == [upper, lower]
    assert len(seen) == 1


def test_a_number_written_exactly_as_quoted_wins_over_one_differing_only_by_case(runtime: Runtime, desk: Any) -> None:
    customer = desk.customer()
    capitals = issue_numbered(runtime, customer.id, "ERP", "AB-1001")
    small = issue_numbered(runtime, customer.id, "ERP2", "ab-1001")
    finder = runtime.app.ports.finder
    runtime.projections.catch_up()
    assert finder.by_numbers(["ab-1001"]) == [small]
    assert finder.by_numbers(["AB-1001"]) == [capitals]
    assert finder.by_numbers(["Ab-1001"]) in ([capitals], [small])


def test_the_lookup_by_number_in_any_case_uses_the_upper_number_index(runtime: Runtime, desk: Any) -> None:
    customer = desk.customer()
    for n in range(30):
        issue_numbered(runtime, customer.id, "ERP", f"FA-2026-{n:04d}")
    runtime.projections.catch_up()
    with statements_on_invoices(runtime.engine) as seen:
        runtime.app.ports.finder.by_numbers(["fa-2026-0007"])
    [(statement, parameters)] = seen
    with runtime.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        if runtime.engine.dialect.name == "postgresql":
            cursor.execute("SET enable_seqscan = off")  # a few rows: the planner would read the table anyway
            cursor.execute("EXPLAIN " + statement, parameters)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = " ".join(str(row) for row in cursor.fetchall())
        cursor.close()
        conn.rollback()
    assert "ix_invoices_number_upper" in plan, plan
