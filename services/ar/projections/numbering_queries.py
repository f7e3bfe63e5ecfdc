"""The numbering series as the invoices read model shows them: who numbers each, how many invoices, first and last
number, and the gaps in an issuer's numbers (`ar.domain.number_gaps`).

Who numbers a series is read from the rows themselves: an invoice numbered by its issuer has the id derived from
(series, number) (`ar.application.issuer_numbers`), never the id of an invoice ar numbered, and a series holds one
kind or the other. Credit notes are not invoices here: numbers a credit note took in a series are not listed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import sqlalchemy as sa

from ar.application.issuer_numbers import numbered_invoice_id
from ar.domain.number_gaps import CAP, Gaps, find_gaps
from ar.domain.series import BY_AR, BY_ISSUER
from ar.projections.tables import invoices as t

NO_GAP = Gaps(missing=(), count=0)


@dataclass(frozen=True)
class SeriesNumbers:
    series: str
    numbered_by: str
    invoices: int
    first_number: str
    last_number: str
    gaps: Gaps


@dataclass
class _Scan:
    series: str
    numbered_by: str
    first_number: str
    last_number: str
    numbers: list[str]

    def done(self, cap: int) -> SeriesNumbers:
        gaps = find_gaps(self.numbers, cap) if self.numbered_by == BY_ISSUER else NO_GAP
        return SeriesNumbers(series=self.series, numbered_by=self.numbered_by, invoices=len(self.numbers),
                             first_number=self.first_number, last_number=self.last_number, gaps=gaps)


def _rows(engine: sa.Engine) -> Iterator[tuple[str, str, UUID, date]]:
    query = sa.select(t.c.series, t.c.number, t.c.invoice_id, t.c.issued_on).order_by(
        t.c.series, t.c.issued_on, t.c.number)
    with engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query):
            yield row.series, row.number, row.invoice_id, row.issued_on


def numbering_series(engine: sa.Engine, cap: int = CAP) -> list[SeriesNumbers]:
    """Every series holding an invoice, by name; first and last in issue order (issue date, then number). ar's
    own series are gapless by construction (a number is taken in the transaction that records its document): no
    gap is computed for them. One pass over the invoices, one series' numbers in memory at a time."""
    out: list[SeriesNumbers] = []
    scan: _Scan | None = None
    for series, number, invoice_id, _issued_on in _rows(engine):
        if scan is None or scan.series != series:
            if scan is not None:
                out.append(scan.done(cap))
            by = BY_ISSUER if invoice_id == numbered_invoice_id(series, number) else BY_AR
            scan = _Scan(series=series, numbered_by=by, first_number=number, last_number=number, numbers=[])
        scan.last_number = number
        scan.numbers.append(number)
    if scan is not None:
        out.append(scan.done(cap))
    return out
