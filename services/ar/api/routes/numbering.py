"""Numbering series: who numbers each, and the gaps in the numbers an issuer gave (reported, not refused)."""

from __future__ import annotations

from fastapi import APIRouter

from ar.api.deps import ReadAfterDep, RuntimeDep
from ar.api.problems import responses
from ar.api.schemas.numbering import SeriesList, SeriesOut
from ar.projections import numbering_queries

router = APIRouter(prefix="/v1/numbering", tags=["numbering"])


@router.get("/series", response_model=SeriesList, responses=responses(422, 503),
            summary="Every numbering series, who numbers it and the gaps in an issuer's numbers")
def list_series(runtime: RuntimeDep, _: ReadAfterDep = None) -> SeriesList:
    """Each series holding invoices: numbered by `ar` (the next number, gapless) or by the `issuer` (the number
    the invoicing system gave each invoice, kept as given); how many invoices, the first and last number, and for
    an issuer's series the numbers missing between its first and last (an invoice perhaps never sent to ar: worth
    a look, never a reason to refuse the next one). Read from the invoices read model, which may lag the latest
    writes by a moment: pass a write's `AR-Position` as `min_position` to include it."""
    return SeriesList(items=[SeriesOut.of(s) for s in numbering_queries.numbering_series(runtime.engine)])
