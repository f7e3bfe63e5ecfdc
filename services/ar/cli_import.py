"""`ar import FILE`: invoices or payments from a JSON Lines file (one request body a line, as `POST /v1/invoices` or
`POST /v1/payments` takes it), on the configured database, through the same commands as the API.

Lines run together in chunks (`ar.application.bulk`), so their events share group commits. Each line is idempotent:
its id derives from its `external_id`, else from its content (and how many identical lines came before it), so a file
imported twice, or an import restarted after a crash, records each line once."""

from __future__ import annotations

import hashlib
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError

from ar.api.routes._commands import issue_invoice, record_payment
from ar.api.schemas.invoices import IssueInvoiceIn
from ar.api.schemas.payments import RecordPaymentIn
from ar.application.bulk import MAX_ITEMS, run_together
from ar.application.receivables import Receivables, Saved
from ar.config import Settings
from ar.runtime import build

SHOWN_REFUSALS = 50


class Kind(StrEnum):
    invoices = "invoices"
    payments = "payments"


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if line.strip():
                yield n, line.strip()


def _chunks(lines: Iterator[tuple[int, str]], size: int) -> Iterator[list[tuple[int, str]]]:
    chunk: list[tuple[int, str]] = []
    for item in lines:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a JSON Lines file")],
    kind: Annotated[Kind, typer.Option(help="what each line is: an invoice or a payment (the API's request body)")],
    chunk: Annotated[int, typer.Option(min=1, max=MAX_ITEMS, help="lines run together")] = MAX_ITEMS,
) -> None:
    """Import invoices or payments from a JSON Lines file; print what was recorded, found and refused."""
    model: type[BaseModel] = IssueInvoiceIn if kind is Kind.invoices else RecordPaymentIn
    command: Callable[[Receivables, Any, str | None], Saved[Any]] = (
        issue_invoice if kind is Kind.invoices else record_payment)
    runtime = build(Settings())
    seen: Counter[str] = Counter()
    tally: Counter[str] = Counter()
    refusals: list[str] = []
    started = time.monotonic()
    try:
        for lines in _chunks(_lines(file), chunk):
            runnable: list[tuple[int, Callable[[], Saved[Any]]]] = []
            for n, text in lines:
                try:
                    body = model.model_validate_json(text)
                except ValidationError as e:
                    first = e.errors()[0]
                    where = ".".join(str(p) for p in first["loc"]) or "line"
                    refusals.append(f"line {n}: 422 {where}: {first['msg']}")
                    tally["refused"] += 1
                    continue
                digest = hashlib.sha256(text.encode()).hexdigest()
                seen[digest] += 1
                runnable.append((n, partial(command, runtime.app, body, f"import:{digest}:{seen[digest]}")))
            for (n, _), outcome in zip(runnable, run_together([c for _, c in runnable]), strict=True):
                if (error := outcome.error) is not None:
                    refusals.append(f"line {n}: {error.rule}{' ' + error.field if error.field else ''}: {error.detail}")
                    tally["refused"] += 1
                elif outcome.value is not None and outcome.value.position is None:
                    tally["existing"] += 1
                else:
                    tally["recorded"] += 1
            done = sum(tally.values())
            print(f"{done} lines, {done / max(time.monotonic() - started, 1e-9):.0f} a second", file=sys.stderr)
    finally:
        runtime.close()
    for line in refusals[:SHOWN_REFUSALS]:
        typer.echo(f"refused {line}", err=True)
    if len(refusals) > SHOWN_REFUSALS:
        typer.echo(f"... and {len(refusals) - SHOWN_REFUSALS} more refused", err=True)
    typer.echo(f"{kind.value}: recorded {tally['recorded']}, found already {tally['existing']}, "
               f"refused {tally['refused']} in {time.monotonic() - started:.1f} s")
    if refusals:
        raise typer.Exit(1)
