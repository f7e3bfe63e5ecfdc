"""Bodies of the dunning policies: a policy and its steps as written and as read, its assignment to a customer,
and a proposed policy replayed over real history (the simulation)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from ar.api.schemas.common import PATTERN_WORDS, BusinessDate, In, Text
from ar.delivery.renderer import TEMPLATES
from ar.domain.dunning_policy import Channel, DunningPolicy, PolicyRules, Step, StepKind
from ar.domain.terms import CustomerKind

STEP_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
PATTERN_WORDS[STEP_KEY_PATTERN] = "letters, digits, '_', '.' or '-', starting with a letter or digit (reminder-1)"
StepKey = Annotated[str, Field(min_length=1, max_length=64, pattern=STEP_KEY_PATTERN,
                               examples=["reminder-1"])]



def _known_template(name: str) -> str:
    if name not in TEMPLATES:
        raise PydanticCustomError("unknown_template", "no template is named '{name}'; known: {known}",
                                  {"name": name, "known": ", ".join(TEMPLATES)})
    return name


Template = Annotated[str, AfterValidator(_known_template),
                     Field(json_schema_extra={"enum": list(TEMPLATES)}, examples=["reminder-1"],
                           description="the message template (services/ar/templates/<language>/<template>.txt)")]


# Policies ---------------------------------------------------------------------------------------------------------
_POLICY_EXAMPLE: JsonDict = {
    "name": "Key accounts", "notice_deadline_days": 15, "steps": [
        {"key": "reminder-1", "offset_days": 10, "kind": "reminder", "channel": "email", "template": "reminder-1"},
        {"key": "call", "offset_days": 20, "kind": "reminder", "channel": "phone", "template": "call"},
        {"key": "reminder-2", "offset_days": 30, "kind": "reminder", "channel": "email",
         "template": "reminder-2", "states_penalties": True},
        {"key": "formal-notice", "offset_days": 45, "kind": "formal_notice", "channel": "letter",
         "template": "formal-notice", "states_penalties": True, "claims_penalties": True}]}


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

    model_config = ConfigDict(json_schema_extra={"examples": [_POLICY_EXAMPLE]})

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

    model_config = ConfigDict(json_schema_extra={"examples": [{"policy_id": "7c3e9a10-2b4d-4f6a-8e1c-5d7f9b0a2c4e"}]})


class AssignedPolicyOut(BaseModel):
    customer_id: UUID
    version: int = Field(description="the customer's version (its ETag)")
    policy_id: UUID | None = Field(description="the policy assigned; null: the default of its kind")
    policy: PolicyOut = Field(description="the policy in force for the customer")


# Simulation -------------------------------------------------------------------------------------------------------
class SimulateIn(In):
    """A proposed policy, replayed over real history."""

    policy: PolicyIn
    from_: Annotated[BusinessDate, Field(alias="from", description="first day replayed")]
    to: Annotated[BusinessDate, Field(description="last day replayed (at most two years after `from`)")]
    customer_ids: list[UUID] | None = Field(None, max_length=1000, description="default: every customer")

    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [{
        "policy": _POLICY_EXAMPLE, "from": "2026-01-01", "to": "2026-06-30",
        "customer_ids": ["3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c"]}]})


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
    refused: list[str] = Field(description="runs that could not be decided (e.g. a debtor's country without an EU "
                               "late-payment rule)")
