"""One invoice's dunning: its timeline, its late-payment penalties, and the commands that hold or stop it.

Pause, resume, opt-out and opt-in are commands of their own (not flags on the invoice) so that other sources,
such as e-invoicing lifecycle statuses, can drive them later through the same use cases.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ar.api.deps import IdempotencyDep, IfMatchDep, ReceivablesDep
from ar.api.problems import responses
from ar.api.routes._write import tagged, written
from ar.api.schemas.common import BusinessDate
from ar.api.schemas.dunning_timeline import PenaltyOut, PromiseIn, ReasonIn, TimelineOut
from ar.application.receivables import Receivables, new_id
from ar.domain.money import Money

router = APIRouter(prefix="/v1/invoices", tags=["dunning"])

COMMAND_PROBLEMS = responses(404, 409, 412, 422)


def timeline(app: Receivables, invoice_id: UUID) -> TimelineOut:
    """The invoice's dunning outlook as `Dunning.dunning_outlook` computes it, with the reminders that carried its
    steps and the penalties it claimed."""
    invoice, policy, found, planned = app.dunning_outlook(invoice_id)
    reminders = {s.reminder_id: app.get_reminder(s.reminder_id) for s in invoice.dunning.steps if s.reminder_id}
    claims = [e["data"] for e in app.history(invoice.id) if e["type"] == "LatePenaltyClaimed"]
    return TimelineOut.of(invoice, policy, found, planned, reminders, claims)


@router.get("/{invoice_id}/dunning", response_model=TimelineOut, responses=responses(404, 422),
            summary="The invoice's dunning timeline")
def get_dunning(invoice_id: UUID, app: ReceivablesDep, response: Response) -> TimelineOut:
    """The steps taken (with the reminder that carried each and whether it was delivered), the state, the next
    action and the steps that would follow if nobody pays, the promise to pay, why it is paused or stopped, and
    the penalties claimed. Its ETag is the invoice's version."""
    found = timeline(app, invoice_id)
    tagged(response, found.version)
    return found


@router.get("/{invoice_id}/penalties", response_model=PenaltyOut, responses=responses(404, 422),
            summary="Late-payment penalties of the invoice, computed and explained")
def get_penalties(
    invoice_id: UUID, app: ReceivablesDep,
    until: Annotated[BusinessDate | None, Query(description="last day counted (included); default today")] = None,
) -> PenaltyOut:
    """Interest from the day after the due date through `until` on what was outstanding incl. VAT (payments at
    their value dates), one line per run of days with the same base and rate, plus the fixed recovery indemnity.
    The regime follows the customer: professional (ECB rate + 10 points, EUR 40), public buyer (ECB + 8), consumer
    (legal rate from the formal notice, no indemnity) or another EU country. A rate not yet recorded is never
    guessed: the answer is partial (`complete: false`), counts the interest through `known_until` and names the
    rates it waits for in `missing` (see `GET /v1/rates`)."""
    invoice, computation = app.invoice_penalties(invoice_id, until)
    return PenaltyOut.of(invoice.id, invoice.number, computation)


@router.post("/{invoice_id}/promise-to-pay", status_code=201, response_model=TimelineOut,
             responses=COMMAND_PROBLEMS, summary="Record a promise to pay")
def promise_to_pay(invoice_id: UUID, body: PromiseIn, app: ReceivablesDep, key: IdempotencyDep,
                   if_match: IfMatchDep, response: Response) -> TimelineOut:
    """Reminders wait until the promised date; paid by then, the promise is kept, otherwise it is broken and the
    next step goes out at once. A new promise replaces the current one. A retry with the same `Idempotency-Key`
    records it once."""
    amount = None
    if body.amount_minor is not None:
        amount = Money(body.amount_minor, app.get_invoice(invoice_id).currency)
    saved = app.promise_payment(invoice_id, promise_id=new_id("promise", idempotency=key),
                                promised_on=body.promised_on, amount=amount, expected_version=if_match)
    written(response, saved, created=True)
    return timeline(app, saved.aggregate.id)


@router.post("/{invoice_id}/dunning/pause", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Pause the invoice's dunning")
def pause_dunning(invoice_id: UUID, body: ReasonIn, app: ReceivablesDep, if_match: IfMatchDep,
                  response: Response) -> TimelineOut:
    """No step is taken until it is resumed; penalties keep accruing. Pausing a paused invoice changes nothing."""
    saved = app.pause_dunning(invoice_id, reason=body.reason, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate.id)


@router.post("/{invoice_id}/dunning/resume", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Resume the invoice's dunning")
def resume_dunning(invoice_id: UUID, app: ReceivablesDep, if_match: IfMatchDep, response: Response) -> TimelineOut:
    """The next step then waits its full gap from today rather than firing at once for the time paused."""
    saved = app.resume_dunning(invoice_id, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate.id)


@router.post("/{invoice_id}/dunning/opt-out", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Stop dunning the invoice")
def opt_out_of_dunning(invoice_id: UUID, body: ReasonIn, app: ReceivablesDep, if_match: IfMatchDep,
                       response: Response) -> TimelineOut:
    """For an invoice handled outside the dunning process (a settlement plan, a lawyer); the reason is required
    and kept in the history."""
    saved = app.opt_out_of_dunning(invoice_id, reason=body.reason, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate.id)


@router.post("/{invoice_id}/dunning/opt-in", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Bring the invoice back into dunning")
def opt_in_to_dunning(invoice_id: UUID, app: ReceivablesDep, if_match: IfMatchDep,
                      response: Response) -> TimelineOut:
    """The next step waits its full gap from today."""
    saved = app.opt_in_to_dunning(invoice_id, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate.id)
