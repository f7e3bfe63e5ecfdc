"""One invoice's dunning: its timeline, its late-payment penalties, and the commands that hold or stop it.

Pause, resume, opt-out and opt-in are commands of their own (not flags on the invoice) so that other sources,
such as e-invoicing lifecycle statuses, can drive them later through the same use cases.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ar.api.deps import IdempotencyDep, IfMatchDep, ReceivablesDep
from ar.api.problems import responses
from ar.api.routes._write import tagged, written
from ar.api.schemas.common import BusinessDate
from ar.api.schemas.dunning import (
    NextActionOut,
    PenaltyClaimOut,
    PenaltyOut,
    PlannedStepOut,
    PromiseIn,
    PromiseOut,
    ReasonIn,
    StepTakenOut,
    TimelineOut,
)
from ar.application.receivables import Receivables, new_id
from ar.domain.dunning import outlook, plan
from ar.domain.dunning_policy import Channel, Step
from ar.domain.invoice import Invoice, TakenStep
from ar.domain.money import Money

router = APIRouter(prefix="/v1/invoices", tags=["dunning"])

COMMAND_PROBLEMS = responses(404, 409, 412, 422)


def _planned(step: Step, on: date) -> PlannedStepOut:
    return PlannedStepOut(key=step.key, kind=step.kind, channel=step.channel, template=step.template, on=on)


def _taken(app: Receivables, taken: TakenStep) -> StepTakenOut:
    rid, channel = taken.reminder_id, taken.channel
    reminder = app.get_reminder(rid) if rid is not None else None
    task = delivery = None
    if reminder is not None and reminder.channel == Channel.PHONE.value:
        task = "done" if reminder.task_done else "open"
    elif reminder is not None:
        delivery = reminder.state
    return StepTakenOut(key=taken.key, kind=taken.kind, channel=Channel(channel) if channel else None,
                        on=taken.on, reminder_id=rid,
                        template=reminder.template if reminder else None, delivery=delivery, task=task)


def timeline(app: Receivables, invoice: Invoice) -> TimelineOut:
    """Derived by the same pure functions as the sweeper and the agenda, so it never promises what a run would
    not do."""
    policy = app.policy_for(app.get_customer(invoice.customer_id))
    found = outlook(invoice, policy.rules, app.calendar)
    dunning = invoice.dunning
    promise = dunning.promise
    action = found.action
    claims = [PenaltyClaimOut.of_event(e["data"]) for e in app.history(invoice.id) if e["type"] == "LatePenaltyClaimed"]
    return TimelineOut(
        invoice_id=invoice.id, number=invoice.number, version=invoice.version, customer_id=invoice.customer_id,
        currency=invoice.currency, due_on=invoice.due_on, open_minor=invoice.open_amount.minor,
        remindable_minor=invoice.remindable.minor, policy_id=policy.id, policy_name=policy.name,
        policy_version=policy.version, state=found.state, paused_reason=dunning.paused,
        opted_out_reason=dunning.opted_out,
        promise=None if promise is None else PromiseOut(
            promise_id=promise.promise_id, promised_on=promise.promised_on,
            amount_minor=promise.amount.minor, currency=promise.amount.currency),
        next=None if action is None else NextActionOut(
            on=action.on, step=_planned(action.step, action.on) if action.step else None),
        steps=[_taken(app, s) for s in dunning.steps],
        planned=[_planned(step, on) for step, on in plan(invoice, policy.rules, app.calendar)],
        penalties_claimed=claims)


@router.get("/{invoice_id}/dunning", response_model=TimelineOut, responses=responses(404, 422),
            summary="The invoice's dunning timeline")
def get_dunning(invoice_id: UUID, app: ReceivablesDep, response: Response) -> TimelineOut:
    """The steps taken (with the reminder that carried each and whether it was delivered), the state, the next
    action and the steps that would follow if nobody pays, the promise to pay, why it is paused or stopped, and
    the penalties claimed. Its ETag is the invoice's version."""
    invoice = app.get_invoice(invoice_id)
    tagged(response, invoice.version)
    return timeline(app, invoice)


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
    return timeline(app, saved.aggregate)


@router.post("/{invoice_id}/dunning/pause", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Pause the invoice's dunning")
def pause_dunning(invoice_id: UUID, body: ReasonIn, app: ReceivablesDep, if_match: IfMatchDep,
                  response: Response) -> TimelineOut:
    """No step is taken until it is resumed; penalties keep accruing. Pausing a paused invoice changes nothing."""
    saved = app.pause_dunning(invoice_id, reason=body.reason, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate)


@router.post("/{invoice_id}/dunning/resume", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Resume the invoice's dunning")
def resume_dunning(invoice_id: UUID, app: ReceivablesDep, if_match: IfMatchDep, response: Response) -> TimelineOut:
    """The next step then waits its full gap from today rather than firing at once for the time paused."""
    saved = app.resume_dunning(invoice_id, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate)


@router.post("/{invoice_id}/dunning/opt-out", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Stop dunning the invoice")
def opt_out_of_dunning(invoice_id: UUID, body: ReasonIn, app: ReceivablesDep, if_match: IfMatchDep,
                       response: Response) -> TimelineOut:
    """For an invoice handled outside the dunning process (a settlement plan, a lawyer); the reason is required
    and kept in the history."""
    saved = app.opt_out_of_dunning(invoice_id, reason=body.reason, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate)


@router.post("/{invoice_id}/dunning/opt-in", response_model=TimelineOut, responses=COMMAND_PROBLEMS,
             summary="Bring the invoice back into dunning")
def opt_in_to_dunning(invoice_id: UUID, app: ReceivablesDep, if_match: IfMatchDep,
                      response: Response) -> TimelineOut:
    """The next step waits its full gap from today."""
    saved = app.opt_in_to_dunning(invoice_id, expected_version=if_match)
    written(response, saved)
    return timeline(app, saved.aggregate)
