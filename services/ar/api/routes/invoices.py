from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ar.api.deps import IdempotencyDep, IfMatchDep, ReadAfterDep, ReceivablesDep, RuntimeDep
from ar.api.problems import responses
from ar.api.routes import _commands as commands
from ar.api.routes import _segments  # noqa: F401  (the `record_id` path convertor)
from ar.api.routes._write import answered, tagged, written
from ar.api.schemas.common import PATTERN_WORDS, BusinessDate, Currency, EventOut, ExternalId, QueryBool, QueryInt, Text
from ar.api.schemas.invoices import (
    CreditNoteIn,
    DisputeOpened,
    InvoiceOut,
    InvoicePage,
    InvoiceRow,
    IssueInvoiceIn,
    OpenDisputeIn,
    ResolveDisputeIn,
    Series,
    WriteOffIn,
)
from ar.application.receivables import new_id
from ar.domain.money import Money
from ar.domain.status import InvoiceStatus, is_overdue
from ar.projections import invoice_queries

router = APIRouter(prefix="/v1/invoices", tags=["invoices"])
CURSOR_PATTERN = r"^[A-Za-z0-9_=-]{1,200}$"
PATTERN_WORDS[CURSOR_PATTERN] = "the `next_cursor` of a previous page, unaltered"


@router.post("", status_code=201, response_model=InvoiceOut, responses=responses(404, 409, 422),
             summary="Issue an invoice")
def issue_invoice(body: IssueInvoiceIn, runtime: RuntimeDep, key: IdempotencyDep) -> Response:
    """The number is the next one of the series, with no gap, even under concurrent issues, unless the invoice
    comes numbered by its invoicing system (`number`): then it keeps that number, which identifies it (the same
    invoice again answers 200, another under that number 409 `number-taken`). The due date comes from the
    customer's payment terms unless given. A final invoice deducts the deposit invoices it names."""
    saved = commands.issue_invoice(runtime.app, body, key)
    return answered(InvoiceOut.of(saved.aggregate, runtime.clock.today()), saved, created=True)


@router.get("", response_model=InvoicePage, responses=responses(422, 503), summary="List and search invoices")
def list_invoices(
    runtime: RuntimeDep,
    customer_id: UUID | None = None,
    status: Annotated[list[InvoiceStatus] | None, Query()] = None,
    currency: Currency | None = None,
    series: Series | None = None,
    due_from: BusinessDate | None = None,
    due_to: BusinessDate | None = None,
    overdue: Annotated[QueryBool | None, Query(description="open and past due as of `as_of`")] = None,
    as_of: Annotated[BusinessDate | None, Query(description="date for `overdue`; default today")] = None,
    external_id: ExternalId | None = None,
    number: Annotated[Text | None, Query(max_length=64, examples=["F2026-000001"])] = None,
    lifecycle: Annotated[list[str] | None, Query(examples=[["refused,invalid"]], description=(
            "the e-invoice platform's last status: disputed, suspended, refused, payment_sent, invalid; repeat it "
            "or separate by commas"))] = None,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN, description=(
        "the `next_cursor` of the previous page"))] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=500)] = 50,
    _: ReadAfterDep = None,
) -> InvoicePage:
    day = as_of or runtime.clock.today()
    rows, next_cursor = invoice_queries.list_invoices(runtime.engine, invoice_queries.InvoiceFilter(
        as_of=day, customer_id=customer_id, statuses=tuple(s.value for s in status or ()), currency=currency,
        series=series, due_from=due_from, due_to=due_to, overdue=overdue, external_id=external_id, number=number,
        lifecycle=invoice_queries.parse_lifecycle(lifecycle or []),
    ), cursor, limit)
    items = [InvoiceRow(id=r["invoice_id"], overdue=is_overdue(open_minor=r["open_minor"], due_on=r["due_on"],
                                                               as_of=day), **r) for r in rows]
    return InvoicePage(items=items, next_cursor=next_cursor)


@router.get("/{invoice_id:record_id}", response_model=InvoiceOut, responses=responses(404, 422),
            summary="Read an invoice: status, open amount, dates, and its version as ETag")
def get_invoice(invoice_id: UUID, runtime: RuntimeDep, response: Response) -> InvoiceOut:
    invoice = runtime.app.get_invoice(invoice_id)
    tagged(response, invoice.version)
    return InvoiceOut.of(invoice, runtime.clock.today())


@router.get("/{invoice_id}/events", response_model=list[EventOut], responses=responses(404, 422),
            summary="The invoice's full history, for audit")
def invoice_history(invoice_id: UUID, app: ReceivablesDep) -> list[EventOut]:
    app.get_invoice(invoice_id)
    return [EventOut(**e) for e in app.history(invoice_id)]


@router.post("/{invoice_id}/credit-notes", response_model=InvoiceOut, responses=responses(404, 409, 412, 422),
             summary="Reduce the invoice by a credit note (avoir), numbered in its own series")
def credit_note(invoice_id: UUID, body: CreditNoteIn, runtime: RuntimeDep, if_match: IfMatchDep,
                key: IdempotencyDep, response: Response) -> InvoiceOut:
    currency = runtime.app.get_invoice(invoice_id).currency
    saved = runtime.app.issue_credit_note(invoice_id, amount=Money(body.amount_minor, currency), reason=body.reason,
                                          series=body.series, credited_on=body.credited_on, expected_version=if_match,
                                          credit_note_id=new_id("credit-note", idempotency=key) if key else None)
    written(response, saved)
    return InvoiceOut.of(saved.aggregate, runtime.clock.today())


@router.post("/{invoice_id}/write-off", response_model=InvoiceOut, responses=responses(404, 409, 412, 422),
             summary="Write off what remains open")
def write_off(invoice_id: UUID, body: WriteOffIn, runtime: RuntimeDep, if_match: IfMatchDep,
              response: Response) -> InvoiceOut:
    saved = runtime.app.write_off_invoice(invoice_id, reason=body.reason, written_off_on=body.written_off_on,
                                          expected_version=if_match)
    written(response, saved)
    return InvoiceOut.of(saved.aggregate, runtime.clock.today())


@router.post("/{invoice_id}/disputes", response_model=DisputeOpened, status_code=201,
             responses=responses(404, 409, 412, 422), summary="Open a dispute (litige) on the invoice")
def open_dispute(invoice_id: UUID, body: OpenDisputeIn, runtime: RuntimeDep, key: IdempotencyDep,
                 if_match: IfMatchDep, response: Response) -> DisputeOpened:
    currency = runtime.app.get_invoice(invoice_id).currency
    dispute_id = new_id("dispute", idempotency=key)
    saved = runtime.app.open_dispute(
        invoice_id, dispute_id=dispute_id, amount=Money(body.amount_minor, currency) if body.amount_minor else None,
        reason=body.reason, opened_on=body.opened_on, expected_version=if_match)
    written(response, saved)
    return DisputeOpened(dispute_id=dispute_id, invoice=InvoiceOut.of(saved.aggregate, runtime.clock.today()))


@router.post("/{invoice_id}/disputes/{dispute_id}/resolve", response_model=InvoiceOut,
             responses=responses(404, 409, 412, 422), summary="Resolve an open dispute")
def resolve_dispute(invoice_id: UUID, dispute_id: UUID, body: ResolveDisputeIn, runtime: RuntimeDep,
                    if_match: IfMatchDep, response: Response) -> InvoiceOut:
    saved = runtime.app.resolve_dispute(invoice_id, dispute_id=dispute_id, outcome=body.outcome,
                                        resolved_on=body.resolved_on, expected_version=if_match)
    written(response, saved)
    return InvoiceOut.of(saved.aggregate, runtime.clock.today())
