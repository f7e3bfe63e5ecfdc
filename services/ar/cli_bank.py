"""`ar import-statement FILE`: import a bank statement file on the configured database (AR_DATABASE_URL), as
`POST /v1/bank-statements` does, and print the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ar.adapters.bank_files import FORMATS, CsvMapping, read_statement
from ar.application.bank_import import DUPLICATE, LISTED, MATCHED, RETURNED, WAITING, ImportReport
from ar.config import Settings
from ar.domain.errors import DomainError
from ar.runtime import build


def _mapping(path: Path | None) -> CsvMapping | None:
    if path is None:
        return None
    try:
        return CsvMapping(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as e:
        typer.echo(f"refused: the CSV mapping {path} is not usable: {e}", err=True)
        raise typer.Exit(2) from None


def report_lines(report: ImportReport) -> list[str]:
    lines = [f"import {report.import_id}: {report.format} statement {report.statement_id or '-'} of {report.account}",
             f"  credits {report.credits}, matched {report.count(MATCHED)}, waiting {report.count(WAITING)}, "
             f"duplicates {report.count(DUPLICATE)}, returns {report.count(RETURNED)}, listed "
             f"{report.count(LISTED)}"]
    for o in report.entries:
        if o.state == DUPLICATE:
            continue
        e = o.entry
        paid = ", ".join(f"{i} {m}" for i, m in o.invoices)
        family = e.family.value if e.family is not None else "-"
        code = f" ({e.bank_code})" if e.bank_code else ""
        lines.append(f"  {e.value_on} {e.direction.value:6} {e.amount!s:>14} {family}{code} {o.state:8} "
                     f"{o.rule or ''} {paid} {o.note or ''}".rstrip())
        lines += [f"      suggestion {s.number} ({s.score}): {s.why}" for s in o.suggestions[:3]]
    return lines


def import_statement(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the statement file")],
    format: Annotated[str | None, typer.Option(help=f"one of {', '.join(FORMATS)}; detected when absent")] = None,
    mapping: Annotated[Path | None, typer.Option(help="CSV only: a JSON file with the column mapping")] = None,
) -> None:
    """Import a bank statement file: credits become payments, matched or waiting; returns applied."""
    try:
        statements = read_statement(file.read_bytes(), format=format, csv_mapping=_mapping(mapping))
    except DomainError as e:
        typer.echo(f"refused: {e.detail}", err=True)
        raise typer.Exit(1) from None
    runtime = build(Settings())
    try:
        for report in runtime.bank.import_statements(statements, format=format or ""):
            typer.echo("\n".join(report_lines(report)))
    except DomainError as e:
        typer.echo(f"refused: {e.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        runtime.close()
