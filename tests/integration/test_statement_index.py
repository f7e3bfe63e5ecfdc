"""One customer's statement is one range of ix_ledger_customer_effective: on PostgreSQL an index-only scan (the index
INCLUDEs every column the statement's movements and opening balance read), on SQLite a search of that index.

The plans are those of the statement's own query (`ar.reports.statement._movements_query`), so a column the statement
starts to read and the index does not carry fails here, not at 1 M invoices in the benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ar.domain.customer import Customer
from ar.projections.tables import ledger_entries
from ar.reports.statement import _movements_query, statement
from ar.runtime import Runtime

INDEX = "ix_ledger_customer_effective"
FIRST_ISSUE = date(2025, 11, 1)


def _one_customer_with_hundreds_of_entries(runtime: Runtime, desk: Any) -> Customer:
    """160 invoices issued over 160 days and 40 payments: 200 entries of one customer, among 240 invoices of twelve
    other customers over the same days (so that the customer, not the dates, singles out the entries)."""
    customer, others = desk.customer(), [desk.customer(name=f"Client {n}") for n in range(12)]
    for n in range(160):
        issued_on = FIRST_ISSUE + timedelta(days=n)
        invoice = desk.invoice(customer.id, 10_000 + n, issued_on=issued_on, due_on=issued_on + timedelta(days=30))
        if n % 4 == 0:
            desk.payment(customer.id, 10_000 + n, allocations=[(invoice.id, 10_000 + n)])
    for n in range(240):
        desk.invoice(others[n % 12].id, 5_000 + n, issued_on=FIRST_ISSUE + timedelta(days=n * 2 // 3))
    runtime.projections.catch_up()
    with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # what autovacuum does to a settled table: statistics, and the visibility map an index-only scan needs
        conn.exec_driver_sql("VACUUM ANALYZE" if runtime.engine.dialect.name == "postgresql" else "ANALYZE")
    return customer


def _params(customer: Customer, *, known: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"customer_id": customer.id, "from_on": date(2026, 1, 1), "to_on": date(2026, 3, 2)}
    if known:
        params["known_at"] = customer.created_on + timedelta(days=3650)
    return params


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _postgres_plan(runtime: Runtime, query: sa.Select[Any], params: dict[str, Any]) -> dict[str, Any]:
    compiled = query.compile(dialect=runtime.engine.dialect)
    with runtime.engine.begin() as conn:
        # A few hundred entries fill a handful of pages, which the planner would rather read whole; at a million
        # entries it takes the index range. Forbidding the sequential and bitmap scans leaves the choice the test
        # is about: an index-only scan if the index carries every column read, else an index scan + heap fetches.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
        explained = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}",
                                         compiled.construct_params(params)).scalar_one()
    plans = explained if isinstance(explained, list) else json.loads(explained)
    top: dict[str, Any] = plans[0]["Plan"]
    return top


def test_a_statement_reads_the_ledger_by_an_index_only_scan_of_its_covering_index(runtime: Runtime, desk) -> None:
    customer = _one_customer_with_hundreds_of_entries(runtime, desk)
    for known in (False, True):  # today's statement, and the statement as known at an instant
        params = _params(customer, known=known)
        if runtime.engine.dialect.name != "postgresql":
            sql = str(_movements_query(known).compile(dialect=runtime.engine.dialect))
            with runtime.engine.connect() as conn:
                plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}",
                                                                tuple(None for _ in range(sql.count("?"))))]
            ledger = [line for line in plan if "ledger_entries" in line]
            assert ledger and all(f"USING INDEX {INDEX} (customer_id=?" in line for line in ledger), plan
            continue
        nodes = [n for n in _nodes(_postgres_plan(runtime, _movements_query(known), params))
                 if n.get("Relation Name") == "ledger_entries"]
        assert nodes, "the plan reads no ledger entries"
        shown = json.dumps(nodes, indent=1, default=str)
        for node in nodes:
            assert (node["Node Type"], node["Index Name"]) == ("Index Only Scan", INDEX), (known, shown)
            assert node["Heap Fetches"] == 0, (known, shown)
        movements = max(nodes, key=lambda n: n["Actual Rows"])
        assert movements["Actual Rows"] >= 60, movements  # the period's movements, read from the index alone
    lines = statement(runtime.engine, customer.id, from_on=date(2026, 1, 1), to_on=date(2026, 3, 2)).sections[0]
    assert len(lines.movements) >= 60 and all(m.due_on is not None for m in lines.movements if m.kind == "invoice")


def test_the_migrated_index_includes_the_columns_the_table_definition_declares(runtime: Runtime) -> None:
    """A database migrated from 0001 carries the index tables.py declares, INCLUDE columns in order (alembic's
    comparison of the two does not look at INCLUDE)."""
    declared = next(i for i in ledger_entries.indexes if i.name == INDEX)
    keys = [c.name for c in declared.columns]
    include = list(declared.dialect_options["postgresql"]["include"])
    assert {"due_on", "invoice_id"} <= set(include)
    if runtime.engine.dialect.name != "postgresql":
        with runtime.engine.connect() as conn:
            columns = [row[2] for row in conn.exec_driver_sql(f"PRAGMA index_info({INDEX})")]
        assert columns == keys
        return
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT a.attname, k.n <= i.indnkeyatts AS key FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE c.relname = :name ORDER BY k.n"), {"name": INDEX}).all()
    assert [name for name, key in rows if key] == keys
    assert [name for name, key in rows if not key] == include
