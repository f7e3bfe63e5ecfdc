"""Issuer numbers in the read models: up to 40 characters, unique in their series only (migration 0011), so that
no number the domain accepts stops a projection. SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from ar.database import migrations_dir
from ar.domain.money import Money
from ar.domain.vat import VatLine
from ar.projections.tables import invoices, ledger_entries, projection_positions
from ar.runtime import Runtime

LONG = "FA/2026.07-" + "0" * 25 + "0041"  # 40 characters


def issue_numbered(runtime: Runtime, customer_id: UUID, series: str, number: str) -> None:
    total = Money(1_200, "EUR")
    runtime.app.issue_invoice(invoice_id=uuid4(), series=series, customer_id=customer_id, total=total,
                              vat=[VatLine(Decimal(0), total, Money(0, "EUR"))], number=number)


def rows(runtime: Runtime, table: sa.Table) -> list[dict[str, object]]:
    with runtime.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def test_a_40_character_number_and_the_same_number_in_two_series_are_projected(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    ours = desk.invoice(customer.id, 1_200)  # F2026-000001, numbered by ar
    issue_numbered(runtime, customer.id, "ERP", LONG)
    issue_numbered(runtime, customer.id, "ERP", ours.number)  # the issuer's series may hold ar's string
    issue_numbered(runtime, customer.id, "ERP2", ours.number)
    runtime.projections.catch_up()

    with runtime.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(projection_positions)
                            .where(projection_positions.c.failed_position.is_not(None))).scalar_one() == 0
    numbers = sorted((r["series"], r["number"]) for r in rows(runtime, invoices))
    assert numbers == [("ERP", "F2026-000001"), ("ERP", LONG), ("ERP2", "F2026-000001"), ("F2026", "F2026-000001")]
    assert LONG in {r["invoice_number"] for r in rows(runtime, ledger_entries)}


def test_migration_0011_keeps_the_rows_both_ways(runtime: Runtime, desk) -> None:
    customer = desk.customer()
    for _ in range(3):
        desk.invoice(customer.id, 1_200)
    runtime.projections.catch_up()
    before = sorted(rows(runtime, invoices), key=lambda r: str(r["number"]))
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))

    with runtime.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
        command.upgrade(config, "head")

    assert sorted(rows(runtime, invoices), key=lambda r: str(r["number"])) == before
    unique = sa.inspect(runtime.engine).get_unique_constraints("invoices")
    assert [u["column_names"] for u in unique] == [["series", "number"]]
