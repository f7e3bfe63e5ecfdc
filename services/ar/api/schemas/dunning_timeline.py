"""Bodies of what dunning will do: the agenda of every invoice, one invoice's dunning timeline and penalties, and
the commands that hold it (promise to pay, pause, opt-out)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ar.api.schemas.common import BusinessDate, In, PositiveMinor, Text
from ar.domain.dunning import DunningStatus, Outlook
from ar.domain.dunning_policy import Channel, DunningPolicy, Step, StepKind
from ar.domain.dunning_state import TakenStep
from ar.domain.invoice import Invoice
from ar.domain.penalty_regime import SOURCES, PenaltyRegime
from ar.domain.penalty_result import PenaltyComputation
from ar.domain.reminder import Reminder

Reason = Annotated[Text, Field(examples=["customer called: invoice under review"])]


# Agenda -----------------------------------------------------------------------------------------------------------
class AgendaRow(BaseModel):
    """The next dunning action of one invoice (from the dunning agenda read model)."""

    invoice_id: UUID
    number: str
    customer_id: UUID
    customer_name: str | None = Field(description="null while the customers read model catches up")
    currency: str
    due_on: date
    open_minor: int
    remindable_minor: int = Field(description="what a reminder may ask for: open amount net of disputes")
    state: DunningStatus
    next_on: date
    next_step: str = Field(description="the step key, or `promise` (check a promise to pay that fell due)")
    next_kind: StepKind | None
    next_channel: Channel | None
    steps_taken: int
    policy_id: UUID
    policy_version: int


class AgendaOut(BaseModel):
    until: date
    items: list[AgendaRow] = Field(description="ordered by date, then customer and invoice number")


# An invoice's dunning ---------------------------------------------------------------------------------------------
class StepTakenOut(BaseModel):
    key: str
    kind: str = Field(description="the step kind, or `skipped` (a courtesy note whose moment had passed)")
    channel: Channel | None
    on: date
    reminder_id: UUID | None = Field(description="the consolidated reminder that carried the step")
    template: str | None = Field(description="the template of that reminder (its firmest step)")
    delivery: str | None = Field(description="pending, delivered or failed; null for a phone task or a skipped step")
    task: str | None = Field(description="open or done, for a phone call or a hand-off")

    @classmethod
    def of(cls, taken: TakenStep, reminders: Mapping[UUID, Reminder]) -> StepTakenOut:
        """`reminders`: the reminders that carried the invoice's steps, by id."""
        rid, channel = taken.reminder_id, taken.channel
        reminder = reminders.get(rid) if rid is not None else None
        task = delivery = None
        if reminder is not None and reminder.channel == Channel.PHONE.value:
            task = "done" if reminder.task_done else "open"
        elif reminder is not None:
            delivery = reminder.state
        return cls(key=taken.key, kind=taken.kind, channel=Channel(channel) if channel else None, on=taken.on,
                   reminder_id=rid, template=reminder.template if reminder else None, delivery=delivery, task=task)


class PlannedStepOut(BaseModel):
    key: str
    kind: StepKind
    channel: Channel
    template: str
    on: date = Field(description="the business day it would be taken if nothing changes")

    @classmethod
    def of(cls, step: Step, on: date) -> PlannedStepOut:
        return cls(key=step.key, kind=step.kind, channel=step.channel, template=step.template, on=on)


class NextActionOut(BaseModel):
    on: date
    step: PlannedStepOut | None = Field(description="null: check the promise to pay that fell due")


class PromiseOut(BaseModel):
    promise_id: UUID
    promised_on: date
    amount_minor: int
    currency: str


class PenaltyClaimOut(BaseModel):
    reminder_id: UUID
    as_of: date
    interest_minor: int = Field(description="interest accrued up to `as_of` (each claim restates the total)")
    indemnity_minor: int = Field(description="the fixed recovery indemnity; claimed once")
    currency: str

    @classmethod
    def of_event(cls, data: dict[str, Any]) -> PenaltyClaimOut:
        return cls(reminder_id=data["reminder_id"], as_of=data["as_of"], interest_minor=data["interest"]["minor"],
                   indemnity_minor=data["indemnity"]["minor"], currency=data["interest"]["currency"])


class TimelineOut(BaseModel):
    """Where an invoice stands in its collection: what was done, what comes next, and what would follow."""

    invoice_id: UUID
    number: str
    version: int = Field(description="the invoice's version (its ETag)")
    customer_id: UUID
    currency: str
    due_on: date
    open_minor: int
    remindable_minor: int
    policy_id: UUID
    policy_name: str
    policy_version: int
    state: DunningStatus
    paused_reason: str | None
    opted_out_reason: str | None
    promise: PromiseOut | None
    next: NextActionOut | None = Field(description="null: nothing planned (see `state`)")
    steps: list[StepTakenOut] = Field(description="taken so far, in order")
    planned: list[PlannedStepOut] = Field(description="the steps still to come if nobody pays")
    penalties_claimed: list[PenaltyClaimOut]

    @classmethod
    def of(cls, invoice: Invoice, policy: DunningPolicy, found: Outlook, planned: list[tuple[Step, date]],
           reminders: Mapping[UUID, Reminder], claims: list[dict[str, Any]]) -> TimelineOut:
        """From `Dunning.dunning_outlook` (the same pure functions as the sweeper and the agenda, so it never
        promises what a run would not do), the reminders that carried the steps, and the `LatePenaltyClaimed`
        events' data."""
        dunning = invoice.dunning
        promise = dunning.promise
        action = found.action
        return cls(
            invoice_id=invoice.id, number=invoice.number, version=invoice.version, customer_id=invoice.customer_id,
            currency=invoice.currency, due_on=invoice.due_on, open_minor=invoice.open_amount.minor,
            remindable_minor=invoice.remindable.minor, policy_id=policy.id, policy_name=policy.name,
            policy_version=policy.version, state=found.state, paused_reason=dunning.paused,
            opted_out_reason=dunning.opted_out,
            promise=None if promise is None else PromiseOut(
                promise_id=promise.promise_id, promised_on=promise.promised_on,
                amount_minor=promise.amount.minor, currency=promise.amount.currency),
            next=None if action is None else NextActionOut(
                on=action.on, step=PlannedStepOut.of(action.step, action.on) if action.step else None),
            steps=[StepTakenOut.of(s, reminders) for s in dunning.steps],
            planned=[PlannedStepOut.of(step, on) for step, on in planned],
            penalties_claimed=[PenaltyClaimOut.of_event(data) for data in claims])


class PenaltyLineOut(BaseModel):
    start: date
    end: date = Field(description="both days included")
    days: int
    base_minor: int = Field(description="the amount outstanding incl. VAT over those days")
    rate: str = Field(examples=["12.15"], description="annual rate in percent, as a decimal string")
    amount_minor: int


class PenaltyOut(BaseModel):
    invoice_id: UUID
    number: str
    as_of: date
    regime: PenaltyRegime
    source: str = Field(examples=["Code de commerce L441-10, D441-5"])
    currency: str
    lines: list[PenaltyLineOut]
    interest_minor: int = Field(description="the sum of the lines")
    indemnity_minor: int = Field(description="the fixed recovery indemnity (EUR 40 between professionals)")
    total_minor: int
    explain: str = Field(description="the computation spelled out, line by line")
    notes: list[str]
    complete: bool = Field(description="false while a rate the computation needs is not yet recorded")
    known_until: date = Field(description="the last day the interest covers (`as_of` when complete)")
    missing: list[str] = Field(examples=[["ecb:2027-01-01"]],
                               description="the rates waited for (table:half-year start); the rest follows")

    @classmethod
    def of(cls, invoice_id: UUID, number: str, c: PenaltyComputation) -> PenaltyOut:
        return cls(invoice_id=invoice_id, number=number, as_of=c.as_of, regime=c.regime, source=SOURCES[c.regime],
                   currency=c.total.currency,
                   lines=[PenaltyLineOut(start=line.start, end=line.end, days=line.days, base_minor=line.base.minor,
                                         rate=str(line.rate), amount_minor=line.amount.minor) for line in c.lines],
                   interest_minor=c.interest.minor, indemnity_minor=c.indemnity.minor, total_minor=c.total.minor,
                   explain=c.explain(), notes=list(c.notes), complete=c.complete, known_until=c.covered_until,
                   missing=list(c.missing))


class PromiseIn(In):
    promised_on: BusinessDate = Field(
        description="reminders wait until the day after; unpaid then, the next step goes out")
    amount_minor: PositiveMinor | None = Field(None, description="default: the whole open amount")

    model_config = ConfigDict(json_schema_extra={"examples": [{"promised_on": "2026-04-15", "amount_minor": 60000}]})


class ReasonIn(In):
    reason: Reason

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "customer called: invoice under review"}]})
