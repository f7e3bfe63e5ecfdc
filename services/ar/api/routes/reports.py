from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ar.api.deps import ReadAfterDep, RuntimeDep
from ar.api.problems import responses
from ar.api.schemas.common import PATTERN_WORDS, BusinessDate, Currency, Instant, QueryBool, QueryInt
from ar.api.schemas.reports import AgingOut, KpiReportOut, ProjectionOut, ProjectionsOut, StatementOut, StuckOut
from ar.reports import kpis as kpi_report
from ar.reports.aging import aging
from ar.reports.bands import BANDS_PATTERN, DEFAULT_EDGES, Bands
from ar.reports.penalties import PenaltyRow
from ar.reports.render import aging_csv, statement_csv, statement_pdf
from ar.reports.statement import default_period, statement

router = APIRouter(tags=["reports"])

AsOf = Annotated[BusinessDate | None, Query(description="business date of the report; default today")]
KnownAt = Annotated[Instant | None, Query(description="leave out what was recorded after this instant (e.g. a "
                                                       "payment entered later with an earlier value date)")]
BandsQuery = Annotated[str, Query(
    pattern=BANDS_PATTERN, examples=["30,60,90"],
    description="upper edges of the bands in days past due: 1 to 12 increasing whole numbers from 1 to 9999")]
CSV: dict[str, dict[str, object]] = {"text/csv": {}}
PATTERN_WORDS[BANDS_PATTERN] = "1 to 12 numbers of days from 1 to 9999, separated by commas, such as 30,60,90"


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    PDF = "pdf"


def parse_bands(text: str) -> Bands:
    """The pattern has let through only digits and commas; `Bands` checks that they increase."""
    return Bands(tuple(int(part) for part in text.split(",")))


@router.get("/v1/aging", response_model=AgingOut, responses={**responses(422, 503), 200: {"content": CSV}},
            summary="Aging of open invoices by days past due")
def get_aging(runtime: RuntimeDep, _: ReadAfterDep, as_of: AsOf = None, known_at: KnownAt = None,
              bands: BandsQuery = ",".join(map(str, DEFAULT_EDGES)),
              currency: Currency | None = None,
              customer_id: UUID | None = None, top: Annotated[QueryInt, Query(ge=0, le=1000)] = 100,
              format: Format = Format.JSON) -> AgingOut | Response:
    """Per currency in total, and for the `top` largest debtors. The buckets of a line always add up to its open
    amount. `as_of` in the past shows invoices paid later as still open then; `known_at` shows the aging as the
    service knew it at that instant."""
    report = aging(runtime.engine, as_of=as_of or runtime.clock.today(), known_at=known_at,
                   bands=parse_bands(bands), currency=currency, customer_id=customer_id, top=top)
    if format is Format.CSV:
        return Response(aging_csv(report), media_type="text/csv")
    return AgingOut.of(report)


@router.get("/v1/customers/{customer_id}/statement", response_model=StatementOut, tags=["customers"],
            responses={**responses(404, 422, 503), 200: {"content": {**CSV, "application/pdf": {}}}},
            summary="Statement of account (JSON, CSV or a printable PDF in the customer's language)")
def get_statement(customer_id: UUID, runtime: RuntimeDep, _: ReadAfterDep,
                  from_: Annotated[BusinessDate | None, Query(alias="from", description=(
                      "default: first of the month"))] = None,
                  to: Annotated[BusinessDate | None, Query(description="default: today")] = None,
                  known_at: KnownAt = None, bands: BandsQuery = ",".join(map(str, DEFAULT_EDGES)),
                  format: Format = Format.JSON,
                  penalties: Annotated[QueryBool, Query(description=(
                      "add the late-payment penalties accrued up to `to` (JSON and PDF; computed from the "
                      "invoices' histories, so slower for customers with many invoices)"))] = True,
                  ) -> StatementOut | Response:
    start, end = default_period(runtime.clock.today())
    st = statement(runtime.engine, customer_id, from_on=from_ or start, to_on=to or end, known_at=known_at,
                   bands=parse_bands(bands), creditor=runtime.settings.creditor(),
                   terms=runtime.app.get_customer(customer_id).terms)
    if format is Format.CSV:
        return Response(statement_csv(st), media_type="text/csv")
    rows = [PenaltyRow.of(i, c) for i, c in runtime.app.customer_penalties(customer_id, st.to_on)] if (
        penalties) else []
    if format is Format.PDF:
        return Response(statement_pdf(st, rows), media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="statement-{customer_id}-{st.to_on}.pdf"'})
    return StatementOut.of(st, rows)


@router.get("/v1/kpis", response_model=KpiReportOut, responses=responses(422, 503), summary="Receivables KPIs",
            description=(kpi_report.__doc__ or "").split("\n\n", 1)[-1])
def get_kpis(runtime: RuntimeDep, _: ReadAfterDep,
             from_: Annotated[BusinessDate | None, Query(alias="from", description=(
                 "default: 90 days before `to`"))] = None,
             to: Annotated[BusinessDate | None, Query(description="default: today")] = None,
             currency: Currency | None = None, customer_id: UUID | None = None,
             per_customer: QueryBool = False) -> KpiReportOut:
    end = to or runtime.clock.today()  # definitions: see the module docstring of ar.reports.kpis
    start = from_ or date.fromordinal(end.toordinal() - 89)
    return KpiReportOut.of(kpi_report.kpis(runtime.engine, from_on=start, to_on=end, currency=currency,
                                           customer_id=customer_id, per_customer=per_customer))


@router.get("/v1/projections", response_model=ProjectionsOut,
            summary="Read-model positions, lag, and any projection stopped at an event it cannot apply")
def get_projections(runtime: RuntimeDep) -> ProjectionsOut:
    """Shows what every process sharing the database sees: a projection stuck in a worker shows here too."""
    rows = runtime.projections.status()
    return ProjectionsOut(head=runtime.projections.head(), projections=[
        ProjectionOut(name=r.name, position=r.position, lag_events=r.lag_events, lag_seconds=round(r.lag_seconds, 3),
                      stuck=StuckOut.of(r.stall) if r.stall else None)
        for r in rows])
