"""The dunning decision: what one customer's run does on one day, decided without touching anything.

`decide` reads the customer, its open invoices (their dunning state), the policy's rules, the business calendar
and the rate tables, and returns the decisions: the promises broken, the steps skipped and why, and one
consolidated reminder per channel with its lines and the penalties it claims. It reads no clock, does no I/O and
makes no id but the reminder's, derived from the decision itself (`reminder_id`), so two sweepers deciding the
same run collide instead of doubling it. `carry_out` then records the decisions on the invoices through their
commands, which still guard (a step already taken is a no-op). The sweeper and the simulation both use them.

Rules (the schedule itself is `ar.domain.dunning.outlook`):
- nothing on a day that is not a business day;
- a promise whose date passed without the money is broken, and the next step is due at once;
- one step at a time per invoice and run: a sweeper that was down sends the next step, not every missed one;
- a courtesy note whose moment passed (the due date is here) is skipped, recorded, and the next step may be due;
- the steps due are gathered in one reminder per channel, its kind and template those of its firmest step;
- the penalties are computed where a step states or claims them; a missing rate gives a partial computation
  (covering the days before it), never a reminder withheld.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from ar.domain.calendar import BusinessCalendar
from ar.domain.customer import Customer
from ar.domain.dunning import outlook, outstanding
from ar.domain.dunning_policy import PolicyRules, Step, StepKind
from ar.domain.dunning_state import DunningState
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.penalties import compute_penalty
from ar.domain.penalty_regime import regime_for
from ar.domain.penalty_result import PenaltyComputation
from ar.domain.rate_tables import RateTables
from ar.domain.reminder import reminder_id
from ar.domain.reminder_content import ReminderLine, totals

FIRMNESS = (StepKind.COURTESY, StepKind.REMINDER, StepKind.FORMAL_NOTICE, StepKind.HANDOFF)
COURTESY_TOO_LATE = "the due date has passed"


@dataclass(frozen=True)
class PromiseBroken:
    invoice_id: UUID
    broken_on: date


@dataclass(frozen=True)
class StepSkipped:
    invoice_id: UUID
    step_key: str
    reason: str
    on: date


@dataclass(frozen=True)
class PenaltyClaim:
    """Claimed as of the last day the computation covers (a partial one claims what is known)."""

    interest: Money
    indemnity: Money  # zero once the invoice's indemnity was claimed
    as_of: date
    computation: dict[str, Any]


@dataclass(frozen=True)
class StepTaken:
    invoice_id: UUID
    step: Step
    claim: PenaltyClaim | None


@dataclass(frozen=True)
class ReminderDecision:
    """One consolidated reminder: every step due today on one channel for one customer."""

    id: UUID
    customer_id: UUID
    run_on: date
    channel: str
    step_kind: str  # of the firmest step
    template: str
    steps: tuple[StepTaken, ...]  # in the order the invoices were given
    lines: tuple[ReminderLine, ...]  # by due date, then number
    notice_deadline_on: date | None  # a formal notice's deadline
    states_penalties: bool

    def content(self, customer: Customer, creditor: Mapping[str, str]) -> dict[str, Any]:
        """The evidence recorded in `ReminderSent` and rendered into the message."""
        return {
            "reminder_id": str(self.id), "run_on": self.run_on.isoformat(), "channel": self.channel,
            "step_kind": self.step_kind, "template": self.template, "language": customer.language.value,
            "customer": {"id": str(customer.id), "name": customer.name, "kind": customer.kind.value,
                         "country": customer.country, "emails": list(customer.emails),
                         "billing_address": customer.billing_address.block() if customer.billing_address else []},
            "creditor": dict(creditor), "lines": [line.to_dict() for line in self.lines],
            "totals": totals(self.lines),
            "notice_deadline_on": None if self.notice_deadline_on is None else self.notice_deadline_on.isoformat(),
            "states_penalties": self.states_penalties,
        }


@dataclass(frozen=True)
class DunningDecision:
    customer_id: UUID
    run_on: date
    promises_broken: tuple[PromiseBroken, ...] = ()
    skipped: tuple[StepSkipped, ...] = ()
    reminders: tuple[ReminderDecision, ...] = ()
    changed: tuple[UUID, ...] = ()  # the invoices the decisions change, in the order they are recorded


def penalty_of(invoice: Invoice, customer: Customer, rules: PolicyRules, rates: RateTables, until: date, *,
               split_by_half_year: bool, notice_on: date | None = None) -> PenaltyComputation:
    """Late-payment penalties of one invoice up to `until`, from its settlements (value dates); a consumer's
    interest runs from the formal notice (`notice_on`, by default the one the invoice received)."""
    return compute_penalty(
        regime=regime_for(customer.kind, customer.country), due_on=invoice.due_on, until=until,
        balance=outstanding(invoice, net_of_disputes=rules.penalties_net_of_disputes), rates=rates,
        notice_on=notice_on if notice_on is not None else invoice.dunning.formal_notice_on,
        split_by_half_year=split_by_half_year, country=customer.country)


@dataclass(frozen=True)
class _Due:
    invoice: Invoice
    dunning: DunningState  # after today's broken promise and skips
    step: Step


def decide(*, customer: Customer, rules: PolicyRules, invoices: Sequence[Invoice], today: date,
           calendar: BusinessCalendar, rates: RateTables, split_by_half_year: bool = True) -> DunningDecision:
    """The run of `today` for `customer`; invoices of other customers are ignored."""
    if not calendar.is_business_day(today):
        return DunningDecision(customer.id, today)
    broken: list[PromiseBroken] = []
    skipped: list[StepSkipped] = []
    changed: dict[UUID, None] = {}
    due: dict[str, list[_Due]] = defaultdict(list)
    for invoice in invoices:
        if invoice.customer_id != customer.id:
            continue
        dunning = invoice.dunning
        found = outlook(invoice, rules, calendar, dunning)
        if found.action is not None and found.action.step is None and found.action.on <= today:
            broken.append(PromiseBroken(invoice.id, today))  # the promised date passed without the money
            changed[invoice.id] = None
            dunning = dunning.with_promise_broken(today)
            found = outlook(invoice, rules, calendar, dunning)
        while found.action is not None and found.action.step is not None and found.action.on <= today:
            step = found.action.step
            if step.kind is not StepKind.COURTESY or today < invoice.due_on:
                due[step.channel.value].append(_Due(invoice, dunning, step))
                break
            skipped.append(StepSkipped(invoice.id, step.key, COURTESY_TOO_LATE, today))
            changed[invoice.id] = None
            dunning = dunning.with_step_skipped(step.key, today)
            found = outlook(invoice, rules, calendar, dunning)
    reminders = tuple(_reminder(customer, rules, channel, items, today, rates, split_by_half_year)
                      for channel, items in sorted(due.items()))
    for reminder in reminders:
        changed.update((taken.invoice_id, None) for taken in reminder.steps)
    return DunningDecision(customer.id, today, tuple(broken), tuple(skipped), reminders, tuple(changed))


def _reminder(customer: Customer, rules: PolicyRules, channel: str, items: list[_Due], today: date,
              rates: RateTables, split_by_half_year: bool) -> ReminderDecision:
    firmest = max((d.step for d in items), key=lambda s: (FIRMNESS.index(s.kind), s.offset_days))
    penalties: dict[UUID, PenaltyComputation] = {}
    for d in items:
        if d.step.states_penalties or d.step.claims_penalties:
            notice_on = today if d.step.kind is StepKind.FORMAL_NOTICE else d.dunning.formal_notice_on
            penalties[d.invoice.id] = penalty_of(d.invoice, customer, rules, rates, today,
                                                 split_by_half_year=split_by_half_year, notice_on=notice_on)
    lines = tuple(ReminderLine.of(d.invoice, d.step, rules, today, penalties.get(d.invoice.id))
                  for d in sorted(items, key=lambda d: (d.invoice.due_on, d.invoice.number)))
    return ReminderDecision(
        id=reminder_id(customer.id, today, channel, [(d.invoice.id, d.step.key) for d in items]),
        customer_id=customer.id, run_on=today, channel=channel, step_kind=firmest.kind.value,
        template=firmest.template, steps=tuple(StepTaken(d.invoice.id, d.step, _claim(d, penalties.get(d.invoice.id)))
                                               for d in items),
        lines=lines, states_penalties=any(d.step.states_penalties or d.step.claims_penalties for d in items),
        notice_deadline_on=today + timedelta(days=rules.notice_deadline_days)
        if firmest.kind is StepKind.FORMAL_NOTICE else None)


def _claim(due: _Due, penalty: PenaltyComputation | None) -> PenaltyClaim | None:
    if not due.step.claims_penalties or penalty is None or not penalty.total.is_positive:
        return None
    indemnity = Money.zero(penalty.indemnity.currency) if due.dunning.indemnity_claimed else penalty.indemnity
    return PenaltyClaim(penalty.interest, indemnity, penalty.covered_until, penalty.to_dict())


def carry_out(decision: DunningDecision, invoices: Mapping[UUID, Invoice], *, policy_id: UUID, policy_version: int,
              at: datetime) -> list[Invoice]:
    """Record the decisions on the invoices (their commands guard against a repeat); the invoices changed."""
    for promise in decision.promises_broken:
        invoices[promise.invoice_id].break_promise(promise.broken_on, at)
    for skip in decision.skipped:
        invoices[skip.invoice_id].skip_dunning_step(step_key=skip.step_key, reason=skip.reason, on=skip.on, at=at)
    for reminder in decision.reminders:
        for taken in reminder.steps:
            invoice, claim = invoices[taken.invoice_id], taken.claim
            taken_now = invoice.take_dunning_step(
                reminder_id=reminder.id, step_key=taken.step.key, step_kind=taken.step.kind.value,
                channel=reminder.channel, on=decision.run_on, policy_id=policy_id, policy_version=policy_version,
                at=at)
            if taken_now and claim is not None:
                invoice.claim_penalty(reminder_id=reminder.id, interest=claim.interest, indemnity=claim.indemnity,
                                      as_of=claim.as_of, computation=claim.computation, at=at)
    return [invoices[i] for i in decision.changed]
