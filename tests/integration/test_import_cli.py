"""`ar import FILE`: invoices and payments from JSON Lines, each line once, refusals named by line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ar.cli import cli
from ar.domain.series import NumberingSeries
from ar.runtime import Runtime


def ar_import(runtime: Runtime, path: Path, kind: str, *more: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["import", str(path), "--kind", kind, *more],
                              env={"AR_DATABASE_URL": runtime.settings.database_url})
    return done.exit_code, done.output


def invoice_line(customer_id: str, total: int = 1200, **fields: object) -> str:
    return json.dumps({"customer_id": customer_id, "series": "IMP", "total_minor": total,
                       "vat": [{"rate": "20", "base_minor": total * 5 // 6, "vat_minor": total // 6}], **fields})


def test_a_file_imported_twice_records_each_line_once_and_names_the_lines_refused(runtime: Runtime, desk,
                                                                                  tmp_path: Path) -> None:
    customer = str(desk.customer().id)
    lines = [invoice_line(customer) for _ in range(250)]  # identical lines are distinct invoices
    lines[10] = invoice_line(customer, total=-5)
    lines[20] = invoice_line("00000000-0000-4000-8000-000000000000")
    lines += [invoice_line(customer, external_id="ERP-1"), invoice_line(customer, number="FA-1", series="ERP")]
    path = tmp_path / "invoices.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code, out = ar_import(runtime, path, "invoices", "--chunk", "100")

    assert code == 1, out
    assert "recorded 250, found already 0, refused 2" in out
    assert "line 11: 422 total_minor" in out and "line 21: not-found customer_id" in out
    series = runtime.app.repository.get(NumberingSeries.create_id("IMP"))
    assert series.last_sequence == 249

    code, out = ar_import(runtime, path, "invoices")
    assert "recorded 0, found already 250, refused 2" in out
    assert runtime.app.repository.get(NumberingSeries.create_id("IMP")).last_sequence == 249


def test_payments_are_imported_and_allocated(runtime: Runtime, desk, tmp_path: Path) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    path = tmp_path / "payments.jsonl"
    path.write_text(json.dumps({"customer_id": str(customer.id), "amount_minor": 1_000, "external_id": "B-1",
                                "allocations": [{"invoice_id": str(invoice.id), "amount_minor": 1_000}]}) + "\n",
                    encoding="utf-8")

    code, out = ar_import(runtime, path, "payments")

    assert code == 0 and "recorded 1" in out, out
    assert desk.open_minor(invoice.id) == 0
