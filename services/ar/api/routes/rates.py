"""The rate book: the ECB and legal rates the penalties use, recorded at run time with their source and author."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response

from ar.api.deps import IdempotencyDep, ReceivablesDep
from ar.api.problems import responses
from ar.api.routes._write import tagged, written
from ar.api.schemas.rates import RateBookOut, RateIn, RateNeedOut, RateOut
from ar.application.receivables import Receivables
from ar.domain.rate_book import RateTable

router = APIRouter(prefix="/v1/rates", tags=["rates"])


@router.get("", response_model=RateBookOut, responses=responses(422),
            summary="Every rate table, half-year by half-year")
def list_rates(app: ReceivablesDep, response: Response) -> RateBookOut:
    """Each table with the value of each half-year, its source, who recorded it and when, how many times it was
    corrected, and its *to confirm* mark; then every *to confirm* label (EU country rules included) and the
    half-years the penalties will need that have no rate yet (from 30 days before they start)."""
    book = app.rate_book()
    tagged(response, book.version)
    return RateBookOut.of(book, app.rates_to_confirm(), app.rate_needs())


@router.get("/history", response_model=list[RateOut], responses=responses(422),
            summary="Every rate entry ever made, in order")
def rate_history(app: ReceivablesDep, table: RateTable | None = None) -> list[RateOut]:
    """The audit trail: a correction is a new entry, so the earlier value, its source and its author stay here."""
    return [RateOut.of(e) for e in app.rate_book().entries if table is None or e.fact.table is table]


@router.post("", status_code=201, response_model=RateOut, responses=responses(409, 422),
             summary="Record a rate, or correct one")
def record_rate(body: RateIn, app: ReceivablesDep, key: IdempotencyDep, response: Response) -> RateOut:
    """Records the rate of a table for a half-year (`2027-H1`: from 1 January; `2027-H2`: from 1 July), with the
    source it was read from and who read it. A half-year already recorded is corrected by a new entry: the latest
    wins, the history keeps the others. Every process uses it within seconds, without a restart; penalties that
    were waiting for it are complete from the next computation. The same statement again records nothing (200)."""
    saved = app.record_rate(body.to_fact(), recorded_by=body.recorded_by)
    written(response, saved, created=True)
    book = saved.aggregate
    fact = body.to_fact()
    return RateOut.of(book.current[(fact.table, fact.half_year_start)],
                      book.corrections(fact.table, fact.half_year_start))


def rates_readiness(app: Receivables, today: date) -> dict[str, Any]:
    """The `rates` block of /readyz: never degraded (a missing rate stops no reminder), but it names the
    half-years without a rate from 30 days before they start, and the values still *to confirm*."""
    missing = [RateNeedOut.of(need).model_dump(mode="json") for need in app.rate_needs(today)]
    return {"degraded": False, "attention": bool(missing), "missing": missing, "to_confirm": app.rates_to_confirm()}
