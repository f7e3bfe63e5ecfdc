"""Third-party cash: a parent company pays its subsidiary's invoice. Allowed, recorded as such on both allocation
events, and shown on both customers' statements (JSON, CSV, PDF), each of which still adds up to its balance; the
read models rebuilt from event 1 equal the incrementally built ones, and migration 0007 fills what the projection
writes. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient
from tests.support.api import AUTH_HEADERS

from ar.api.app import create_app
from ar.database import migrations_dir
from ar.domain.invoice import Invoice
from ar.domain.payment import Payment, PaymentMethod
from ar.projections.tables import customer_balances, invoices, ledger_entries, open_by_due, payments
from ar.reports.render import statement_pdf
from ar.reports.statement import Statement, statement
from ar.runtime import Runtime

READ_MODELS = (invoices, payments, ledger_entries, open_by_due, customer_balances)
PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}


@dataclass
class Group:
    parent: UUID
    subsidiary: UUID
    subsidiary_invoice: Invoice
    parent_invoice: Invoice
    transfer: Payment


def parent_pays_for_subsidiary(desk: Any) -> Group:
    """The parent's transfer VIR-9000 of 800.00 pays its subsidiary's invoice (500.00) and its own (200.00); 100.00
    stays unapplied."""
    parent = desk.customer(name="Groupe Mère SA").id
    subsidiary = desk.customer(name="Filiale Nord SAS").id
    theirs, own = desk.invoice(subsidiary, 50_000), desk.invoice(parent, 20_000)
    transfer = desk.payment(parent, 80_000, external_id="VIR-9000",
                            allocations=[(theirs.id, 50_000), (own.id, 20_000)])
    return Group(parent, subsidiary, theirs, own, transfer)


def account_balance(runtime: Runtime, customer_id: UUID) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.scalar(sa.select(customer_balances.c.account_minor)
                               .where(customer_balances.c.customer_id == customer_id)) or 0)


def adds_up(st: Statement, runtime: Runtime) -> int:
    """The closing balance, checked: opening + debits - credits, equal to the customer's account balance."""
    [section] = st.sections
    debits = sum(m.debit_minor for m in section.movements)
    credits = sum(m.credit_minor for m in section.movements)
    assert section.opening_minor + debits - credits == section.closing_minor == account_balance(runtime, st.customer_id)
    return section.closing_minor


def test_an_allocation_to_another_customers_invoice_names_both_customers_on_its_events(runtime: Runtime,
                                                                                      desk: Any) -> None:
    group = parent_pays_for_subsidiary(desk)
    history = {e["type"]: e["data"] for e in runtime.app.history(group.subsidiary_invoice.id)}
    assert history["PaymentAllocated"]["payer_customer_id"] == str(group.parent)
    paid = [e["data"] for e in runtime.app.history(group.transfer.id) if e["type"] == "Allocated"]
    assert [(d["invoice_id"], d["invoice_customer_id"]) for d in paid] == [
        (str(group.subsidiary_invoice.id), str(group.subsidiary)), (str(group.parent_invoice.id), str(group.parent))]


def test_third_party_cash_shows_on_both_statements_and_each_adds_up_to_its_balance(runtime: Runtime,
                                                                                  desk: Any) -> None:
    group = parent_pays_for_subsidiary(desk)
    runtime.projections.catch_up()
    number = group.subsidiary_invoice.number

    theirs = statement(runtime.engine, group.subsidiary, from_on=runtime.clock.today(), to_on=runtime.clock.today())
    assert [(m.kind, m.reference, m.invoice_number, m.debit_minor - m.credit_minor, m.counterparty_id,
             m.counterparty_name) for m in theirs.sections[0].movements] == [
        ("invoice", number, number, 50_000, None, None),
        ("payment_allocated", "VIR-9000", number, -50_000, group.parent, "Groupe Mère SA"),
    ]
    assert adds_up(theirs, runtime) == 0

    ours = statement(runtime.engine, group.parent, from_on=runtime.clock.today(), to_on=runtime.clock.today())
    assert [(m.kind, m.reference, m.invoice_number, m.debit_minor - m.credit_minor, m.counterparty_id,
             m.counterparty_name) for m in ours.sections[0].movements] == [
        ("invoice", group.parent_invoice.number, group.parent_invoice.number, 20_000, None, None),
        ("payment", "VIR-9000", None, -80_000, None, None),
        ("paid_for_other", "VIR-9000", number, 50_000, group.subsidiary, "Filiale Nord SAS"),
    ]
    assert adds_up(ours, runtime) == -10_000  # the 100.00 not applied yet: a credit on the parent's account

    text = pdf_text(statement_pdf(theirs, compress=False)) + pdf_text(statement_pdf(ours, compress=False))
    assert "Réglé par Groupe Mère SA (VIR-9000)" in text
    assert f"Facture {number} de Filiale Nord SAS" in text


def test_both_statements_say_it_over_http_in_json_and_csv(runtime: Runtime, desk: Any) -> None:
    group = parent_pays_for_subsidiary(desk)
    runtime.projections.catch_up()
    with TestClient(create_app(runtime=runtime), headers=AUTH_HEADERS) as client:
        for customer, other, kind, closing in ((group.subsidiary, group.parent, "payment_allocated", 0),
                                               (group.parent, group.subsidiary, "paid_for_other", -10_000)):
            url = f"/v1/customers/{customer}/statement"
            r = client.get(url, params={**PERIOD, "penalties": "false"})
            assert r.status_code == 200, r.text
            [section] = r.json()["sections"]
            [third] = [m for m in section["movements"] if m["counterparty_id"]]
            assert (third["kind"], third["counterparty_id"], third["reference"], third["invoice_number"]) == (
                kind, str(other), "VIR-9000", group.subsidiary_invoice.number)
            assert third["counterparty_name"] in ("Groupe Mère SA", "Filiale Nord SAS")
            assert section["closing_minor"] == closing == section["opening_minor"] + sum(
                m["debit_minor"] - m["credit_minor"] for m in section["movements"])

            r = client.get(url, params={**PERIOD, "format": "csv"})
            assert r.status_code == 200, r.text
            rows = list(csv.DictReader(io.StringIO(r.text)))
            [third_row] = [row for row in rows if row["counterparty_id"]]
            assert (third_row["kind"], third_row["counterparty_id"], third_row["invoice_number"]) == (
                kind, str(other), group.subsidiary_invoice.number)
            body = rows[1:-1]
            assert Decimal(rows[0]["balance"]) + sum(Decimal(row["debit"]) - Decimal(row["credit"]) for row in body) \
                == Decimal(rows[-1]["balance"]) == Decimal(closing).scaleb(-2)


def test_a_returned_cheque_of_the_parent_reopens_the_subsidiarys_invoice_on_both_statements(runtime: Runtime,
                                                                                           desk: Any) -> None:
    parent, subsidiary = desk.customer(name="Groupe Mère SA").id, desk.customer(name="Filiale Nord SAS").id
    invoice = desk.invoice(subsidiary, 30_000)
    cheque = desk.payment(parent, 30_000, method=PaymentMethod.CHEQUE, external_id="CHQ-118",
                          allocations=[(invoice.id, 30_000)])
    runtime.app.return_payment(cheque.id, reason="sans provision")
    runtime.projections.catch_up()
    today = runtime.clock.today()

    theirs = statement(runtime.engine, subsidiary, from_on=today, to_on=today)
    assert [(m.kind, m.debit_minor - m.credit_minor, m.counterparty_id) for m in theirs.sections[0].movements] == [
        ("invoice", 30_000, None), ("payment_allocated", -30_000, parent), ("allocation_reversed", 30_000, parent)]
    assert adds_up(theirs, runtime) == 30_000

    ours = statement(runtime.engine, parent, from_on=today, to_on=today)
    assert [(m.kind, m.debit_minor - m.credit_minor, m.counterparty_id, m.invoice_number)
            for m in ours.sections[0].movements] == [
        ("payment", -30_000, None, None), ("paid_for_other", 30_000, subsidiary, invoice.number),
        ("paid_for_other_reversed", -30_000, subsidiary, invoice.number), ("payment_returned", 30_000, None, None)]
    assert adds_up(ours, runtime) == 0


def mixed_third_party_history(runtime: Runtime, desk: Any) -> None:
    group = parent_pays_for_subsidiary(desk)
    runtime.projections.catch_up()
    cheque = desk.payment(group.parent, 9_000, method=PaymentMethod.CHEQUE,
                          allocations=[(desk.invoice(group.subsidiary, 4_000).id, 4_000),
                                       (desk.invoice(group.subsidiary, 5_000).id, 5_000)])
    runtime.projections.catch_up()
    runtime.app.return_payment(cheque.id, reason="sans provision")
    desk.payment(None, 1_000, allocations=[(desk.invoice(group.subsidiary, 1_000).id, 1_000)])  # unknown payer
    desk.payment(group.parent, 2_000, allocations=[(desk.invoice(group.subsidiary, 3_000).id, 2_000)])
    runtime.projections.catch_up()


def rows_of(runtime: Runtime, table: sa.Table) -> list[dict[str, Any]]:
    with runtime.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()]


def test_rebuilt_read_models_equal_the_incremental_ones_with_third_party_cash(runtime: Runtime, desk: Any) -> None:
    mixed_third_party_history(runtime, desk)
    incremental = {t.name: rows_of(runtime, t) for t in READ_MODELS}
    assert sum(1 for r in incremental["ledger_entries"] if r["counterparty_id"] is not None) == 12

    runtime.projections.rebuild("receivables")

    for table in READ_MODELS:
        assert rows_of(runtime, table) == incremental[table.name], table.name


def test_migration_0007_fills_the_counterparties_as_the_projection_does(runtime: Runtime, desk: Any) -> None:
    """A database migrated with its ledger already built gets the same counterparties (and, on a payer's entries,
    the number of the invoice paid) as one rebuilt from event 1."""
    mixed_third_party_history(runtime, desk)
    projected = rows_of(runtime, ledger_entries)
    spec = importlib.util.spec_from_file_location("migration_0007",
                                                  migrations_dir() / "versions" / "0007_third_party_cash.py")
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    e = ledger_entries.c
    with runtime.engine.begin() as conn:
        conn.execute(ledger_entries.update().values(counterparty_id=None))
        conn.execute(ledger_entries.update().where(e.kind.in_(["paid_for_other", "paid_for_other_reversed"]))
                     .values(invoice_number=None))
        with Operations.context(MigrationContext.configure(conn)):
            migration._fill()

    assert rows_of(runtime, ledger_entries) == projected


def pdf_text(pdf: bytes) -> str:
    """The strings drawn by the uncompressed content streams, decoded as the core fonts' WinAnsi encoding."""
    drawn = re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", pdf)
    return " ".join(re.sub(rb"\\(.)", rb"\1", s).decode("cp1252") for s in drawn)
