"""Bodies of the dunning API: policies, the agenda, an invoice's dunning timeline and penalties, the ops tasks,
the sweep report and the simulated clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from pydantic_core import PydanticCustomError

from ar.api.schemas.common import PATTERN_WORDS, BusinessDate, In, Instant, MultilineText, PositiveMinor, Text
from ar.delivery.renderer import TEMPLATES
from ar.domain.dunning import DunningStatus
from ar.domain.dunning_policy import Channel, DunningPolicy, PolicyRules, Step, StepKind
from ar.domain.penalties import SOURCES, PenaltyComputation, PenaltyRegime
from ar.domain.reminder import Reminder
from ar.domain.terms import CustomerKind

STEP_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
PATTERN_WORDS[STEP_KEY_PATTERN] = "letters, digits, '_', '.' or '-', starting with a letter or digit (reminder-1)"
StepKey = Annotated[str, Field(min_length=1, max_length=64, pattern=STEP_KEY_PATTERN,
                               examples=["reminder-1"])]
Reason = Annotated[Text, Field(examples=["customer called: invoice under review"])]


def _known_template(name: str) -> str:
    if name not in TEMPLATES:
        raise PydanticCustomError("unknown_template", "no template is named '{name}'; known: {known}",
                                  {"name": name, "known": ", ".join(TEMPLATES)})
    return name


Template = Annotated[str, AfterValidator(_known_template),
                     Field(json_schema_extra={"enum": list(TEMPLATES)}, examples=["reminder-1"],
                           description="the message template (services/ar/templates/<language>/<template>.txt)")]


# Policies ---------------------------------------------------------------------------------------------------------
class StepIn(In):
    key: StepKey
    offset_days: Annotated[StrictInt, Field(ge=-365, le=3650, examples=[7], description=(
        "days after the due date; negative for a courtesy note before it"))]
    kind: StepKind
    channel: Channel = Field(description="phone: a task in the ops queue instead of a message")
    template: Template
    states_penalties: StrictBool = Field(False, description="the message shows the penalties accrued so far")
    claims_penalties: StrictBool = Field(False, description="taking the step claims the penalties (LatePenaltyClaimed)")

    def to_domain(self) -> Step:
        return Step(key=self.key, offset_days=self.offset_days, kind=self.kind, channel=self.channel,
                    template=self.template, states_penalties=self.states_penalties,
                    claims_penalties=self.claims_penalties)


class StepOut(BaseModel):
    key: str
    offset_days: int
    kind: StepKind
    channel: Channel
    template: str
    states_penalties: bool
    claims_penalties: bool

    @classmethod
    def of(cls, s: Step) -> StepOut:
        return cls(key=s.key, offset_days=s.offset_days, kind=s.kind, channel=s.channel, template=s.template,
                   states_penalties=s.states_penalties, claims_penalties=s.claims_penalties)


class PolicyIn(In):
    """A whole policy: creating one, or revising one (a revision replaces the name and every rule)."""

    name: Annotated[Text, Field(max_length=100, examples=["Key accounts"])]
    steps: list[StepIn] = Field(min_length=1, max_length=30, description=(
        "in order of strictly rising offsets; a formal notice needs at least 3 reminders before it, a hand-off "
        "comes last and after the formal notice"))
    remind_undisputed: StrictBool = Field(True, description="during a dispute, keep reminding the undisputed part")
    penalties_net_of_disputes: StrictBool = Field(True, description="no interest on an amount while it is disputed")
    notice_deadline_days: Annotated[StrictInt, Field(ge=8, le=30, description="the deadline a formal notice gives")] = 8

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Key accounts", "notice_deadline_days": 15, "steps": [
            {"key": "reminder-1", "offset_days": 10, "kind": "reminder", "channel": "email",
             "template": "reminder-1"},
            {"key": "call", "offset_days": 20, "kind": "reminder", "channel": "phone", "template": "call"},
            {"key": "reminder-2", "offset_days": 30, "kind": "reminder", "channel": "email",
             "template": "reminder-2", "states_penalties": True},
            {"key": "formal-notice", "offset_days": 45, "kind": "formal_notice", "channel": "letter",
             "template": "formal-notice", "states_penalties": True, "claims_penalties": True}]}]})

    def to_rules(self) -> PolicyRules:
        return PolicyRules(steps=tuple(s.to_domain() for s in self.steps), remind_undisputed=self.remind_undisputed,
                           penalties_net_of_disputes=self.penalties_net_of_disputes,
                           notice_deadline_days=self.notice_deadline_days)


class PolicyOut(BaseModel):
    id: UUID
    version: int = Field(description="each revision raises it; a reminder records the version it followed")
    name: str
    default_for: CustomerKind | None = Field(description="the debtor kind this is the default policy of")
    archived: bool
    steps: list[StepOut]
    remind_undisputed: bool
    penalties_net_of_disputes: bool
    notice_deadline_days: int

    @classmethod
    def of(cls, p: DunningPolicy) -> PolicyOut:
        rules = p.rules
        return cls(id=p.id, version=p.version, name=p.name, default_for=p.default_for, archived=p.archived,
                   steps=[StepOut.of(s) for s in rules.steps], remind_undisputed=rules.remind_undisputed,
                   penalties_net_of_disputes=rules.penalties_net_of_disputes,
                   notice_deadline_days=rules.notice_deadline_days)


class AssignPolicyIn(In):
    policy_id: UUID | None = Field(description="null: back to the default policy of the customer's kind")


class AssignedPolicyOut(BaseModel):
    customer_id: UUID
    version: int = Field(description="the customer's version (its ETag)")
    policy_id: UUID | None = Field(description="the policy assigned; null: the default of its kind")
    policy: PolicyOut = Field(description="the policy in force for the customer")


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


class PlannedStepOut(BaseModel):
    key: str
    kind: StepKind
    channel: Channel
    template: str
    on: date = Field(description="the business day it would be taken if nothing changes")


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


class ReasonIn(In):
    reason: Reason


# Tasks ------------------------------------------------------------------------------------------------------------
class TaskOut(BaseModel):
    """A phone call or a hand-off to collections, decided by a dunning run, waiting for someone in ops."""

    id: UUID = Field(description="the reminder that decided it (a rate task: derived from its table and half-year)")
    customer_id: UUID | None = Field(description="none for a rate task")
    kind: str = Field(examples=["call"], description="call, handoff, or rate (record a rate the penalties need; "
                                                     "done when the rate is recorded)")
    step_key: str
    due_on: date
    state: str = Field(description="open or done")
    summary: str
    outcome: str | None
    done_by: str | None
    created_at: datetime
    done_at: datetime | None

    @classmethod
    def of_reminder(cls, r: Reminder) -> TaskOut:
        """The same figures as the ops task queue (the read model), from the reminder itself."""
        done = r.task_done or {}
        summary = ", ".join(f"{line['number']} ({line['step_key']})" for line in r.lines)
        return cls(id=r.id, customer_id=r.customer_id, kind="handoff" if r.step_kind == "handoff" else "call",
                   step_key=r.lines[0]["step_key"], due_on=r.run_on, state="done" if r.task_done else "open",
                   summary=f"{r.content['customer']['name']}: {summary}", outcome=done.get("outcome"),
                   done_by=done.get("by"), created_at=r.sent_at, done_at=done.get("at"))


class TaskDoneIn(In):
    outcome: Annotated[MultilineText, Field(examples=["promised to pay on Friday"])]
    by: Annotated[Text, Field(max_length=128, examples=["marie@ops"])]


# Operations -------------------------------------------------------------------------------------------------------
class SweepOut(BaseModel):
    today: date
    customers: int = Field(description="customers whose dunning run was decided")
    reminders: int = Field(description="reminders (and ops tasks) decided")
    invoices: int = Field(description="invoice lines on those reminders")
    skipped_locked: int = Field(description="customers another sweeper was deciding at the same time")
    failures: dict[str, str] = Field(description="customer id -> why its run was refused (retried next sweep)")


class ClockIn(In):
    now: Instant | None = Field(None, description="the new instant (with its offset); never earlier")
    advance_days: Annotated[StrictInt, Field(ge=0, le=3650)] | None = Field(
        None, description="move forward by this many days")

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.now is None) == (self.advance_days is None):
            raise ValueError("give either `now` or `advance_days`")
        return self


class ClockOut(BaseModel):
    now: datetime
    today: date = Field(description="the business date (Europe/Paris)")


# Simulation -------------------------------------------------------------------------------------------------------
class SimulateIn(In):
    """A proposed policy, replayed over real history."""

    policy: PolicyIn
    from_: Annotated[BusinessDate, Field(alias="from", description="first day replayed")]
    to: Annotated[BusinessDate, Field(description="last day replayed (at most two years after `from`)")]
    customer_ids: list[UUID] | None = Field(None, max_length=1000, description="default: every customer")

    model_config = ConfigDict(populate_by_name=True)


class SimulatedReminderOut(BaseModel):
    run_on: date
    customer_id: UUID
    customer_name: str
    channel: Channel
    step_kind: StepKind
    template: str
    notice_deadline_on: date | None
    lines: list[dict[str, Any]] = Field(description="as in a real reminder: each invoice, its stage, amounts, "
                                        "penalties")
    totals: list[dict[str, Any]]


class CurrencyAmount(BaseModel):
    currency: str
    amount_minor: int


class SimulationOut(BaseModel):
    invoices: int = Field(description="invoices replayed")
    reminders: list[SimulatedReminderOut]
    steps_by_kind: dict[str, int] = Field(description="invoice lines per step kind (courtesy, reminder, ...)")
    formal_notices: int
    penalties_claimed: list[CurrencyAmount]
    refused: list[str] = Field(description="runs that could not be decided (e.g. a penalty rate missing)")
