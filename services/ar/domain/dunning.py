"""The dunning schedule of one invoice: which step comes next, and when. Pure: derived from the invoice's state
(its events) and its customer's policy, so the agenda projection, the sweeper and the simulation agree.

Rules:
- one step at a time, in the policy's order: a sweeper that was down sends the next step, not every missed one;
- a step is due `offset_days` after the due date, but never sooner after the previous step than the policy's gap
  between them (the rhythm holds when a step went out late);
- a partial settlement, a resolved dispute or a resumption re-anchors: the next step waits its full gap from then;
- a broken promise makes the next step due at once (one step firmer);
- an open dispute pauses unless the policy reminds the undisputed part; a promise snoozes until its date;
- settled, opted out or paused: nothing; dates roll forward to the next business day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ar.domain.calendar import BusinessCalendar, next_business_day
from ar.domain.dunning_policy import PolicyRules, Step, StepKind
from ar.domain.dunning_state import DunningState, TakenStep
from ar.domain.invoice import Invoice
from ar.domain.money import Money


class DunningStatus(StrEnum):
    ACTIVE = "active"
    DISPUTED = "disputed"  # paused by an open dispute
    PROMISED = "promised"  # snoozed by a promise to pay
    PAUSED = "paused"
    OPTED_OUT = "opted_out"
    SETTLED = "settled"
    COMPLETE = "complete"  # every step taken


@dataclass(frozen=True)
class NextAction:
    on: date
    step: Step | None  # None: check a promise to pay that fell due


@dataclass(frozen=True)
class Outlook:
    state: DunningStatus
    action: NextAction | None


def outlook(invoice: Invoice, rules: PolicyRules, calendar: BusinessCalendar,
            dunning: DunningState | None = None) -> Outlook:
    """`dunning`: the state to judge instead of the invoice's own (the state a decision would lead to)."""
    dunning = invoice.dunning if dunning is None else dunning
    if not invoice.open_amount.is_positive:
        return Outlook(DunningStatus.SETTLED, None)
    if dunning.opted_out is not None:
        return Outlook(DunningStatus.OPTED_OUT, None)
    if dunning.paused is not None:
        return Outlook(DunningStatus.PAUSED, None)
    if dunning.promise is not None:
        return Outlook(DunningStatus.PROMISED, NextAction(dunning.promise.promised_on + timedelta(days=1), None))
    state = DunningStatus.DISPUTED if invoice.disputes else DunningStatus.ACTIVE
    if invoice.disputes and (not rules.remind_undisputed or not invoice.remindable.is_positive):
        return Outlook(state, None)
    planned = next_step(invoice, rules, dunning)
    if planned is None:
        return Outlook(DunningStatus.COMPLETE, None)
    step, on = planned
    return Outlook(state, NextAction(next_business_day(calendar, on), step))


def next_step(invoice: Invoice, rules: PolicyRules, dunning: DunningState | None = None) -> tuple[Step, date] | None:
    """The next step not taken and the date it is due (before rolling to a business day)."""
    dunning = invoice.dunning if dunning is None else dunning
    taken = dunning.steps
    last = taken[-1] if taken else None
    last_step = rules.step(last.key) if last else None
    floor = last_step.offset_days if last_step else None
    for step in rules.steps:
        if dunning.done(step.key) or (floor is not None and step.offset_days <= floor):
            continue
        return step, _due_date(invoice, dunning, step, last, last_step)
    return None


def _due_date(invoice: Invoice, dunning: DunningState, step: Step, last: TakenStep | None,
              last_step: Step | None) -> date:
    on = invoice.due_on + timedelta(days=step.offset_days)
    if step.kind is StepKind.COURTESY:
        return max(on, invoice.issued_on)
    previous = last_step.offset_days if last_step and last_step.kind is not StepKind.COURTESY else 0
    gap = timedelta(days=step.offset_days - previous)
    if last is not None and last_step is not None and last_step.kind is not StepKind.COURTESY:
        on = max(on, last.on + gap)
    if dunning.anchor_on is not None:
        on = max(on, dunning.anchor_on + gap)
    if dunning.escalate_on is not None:
        on = dunning.escalate_on
    return on


def plan(invoice: Invoice, rules: PolicyRules, calendar: BusinessCalendar, limit: int = 20) -> list[tuple[Step, date]]:
    """The steps still to come if nothing changes (nobody pays), each on the date it would be taken."""
    future = invoice.dunning
    out: list[tuple[Step, date]] = []
    while len(out) < limit:
        found = outlook(invoice, rules, calendar, future)
        if found.action is None or found.action.step is None:
            break
        step, on = found.action.step, found.action.on
        out.append((step, on))
        future = future.with_step_taken(TakenStep(step.key, step.kind.value, step.channel.value, on, None))
    return out


def outstanding(invoice: Invoice, *, net_of_disputes: bool) -> list[tuple[date, Money]]:
    """What was owed incl. VAT from each date on: the total, less settlements at their value dates, and less the
    amounts in dispute while a dispute was open (when the policy says so)."""
    changes: dict[date, int] = defaultdict(int)
    changes[invoice.issued_on] += (invoice.total - invoice.deducted).minor
    for on, minor in invoice.settlements.values():
        changes[on] -= minor
    if net_of_disputes:
        for opened_on, resolved_on, minor in invoice.dispute_periods.values():
            changes[opened_on] -= minor
            if resolved_on is not None:
                changes[resolved_on] += minor
    running, steps = 0, []
    for on in sorted(changes):
        running += changes[on]
        steps.append((on, Money(max(0, running), invoice.currency)))
    return steps
