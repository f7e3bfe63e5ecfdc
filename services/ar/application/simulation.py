"""What-if: replay a period of real history under a proposed dunning policy, writing nothing.

Each invoice is rebuilt from its recorded events, without the dunning decisions actually taken (steps, skips,
claims, broken promises); then, day by day, the facts of that day (issues, payments, disputes, promises, pauses)
are applied and the domain decides under the proposed rules, exactly as `run_dunning` does (the same `decide`,
the same consolidation per customer and channel, the same penalties), and its decisions are carried out on the
copies, never saved. The reminders it would have sent are returned. It is given its inputs (the histories, the
customers, the calendar and the rates): it does not call back into the application.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from ar.domain.calendar import BusinessCalendar
from ar.domain.clock import business_date
from ar.domain.customer import Customer
from ar.domain.dunning_decision import carry_out, decide
from ar.domain.dunning_policy import PolicyRules
from ar.domain.errors import DomainRuleViolation
from ar.domain.invoice import Invoice
from ar.domain.rate_tables import RateTables
from ar.domain.reminder_content import totals

DECISIONS = (Invoice.DunningStepTaken, Invoice.DunningStepSkipped, Invoice.LatePenaltyClaimed, Invoice.PromiseBroken)
MAX_DAYS = 731
MAX_INVOICES = 20_000
SIMULATED_POLICY = UUID(int=0)  # recorded on the copies' simulated steps only, never saved


@dataclass
class Simulation:
    reminders: list[dict[str, Any]] = field(default_factory=list)
    steps_by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    claims: dict[UUID, tuple[str, int, int]] = field(default_factory=dict)  # invoice -> currency, interest, indemnity
    invoices: int = 0
    refused: list[str] = field(default_factory=list)

    @property
    def penalties_claimed(self) -> dict[str, int]:
        """Per currency: the last interest claimed on each invoice, plus its indemnity."""
        totals: dict[str, int] = defaultdict(int)
        for currency, interest, indemnity in self.claims.values():
            totals[currency] += interest + indemnity
        return totals


def check_period(rules: PolicyRules, from_on: date, to_on: date, invoices: int) -> None:
    """Refuse a simulation too long or too wide before any history is read."""
    rules.check()
    if to_on < from_on or (to_on - from_on).days > MAX_DAYS:
        raise DomainRuleViolation(f"simulate 1 to {MAX_DAYS} days", field="to")
    if invoices > MAX_INVOICES:
        raise DomainRuleViolation(f"at most {MAX_INVOICES} invoices a simulation; narrow it by customer",
                                  field="customer_ids")


def simulate(*, rules: PolicyRules, from_on: date, to_on: date,
             histories: Mapping[UUID, Sequence[DomainEventProtocol[UUID]]], customer_of: Callable[[UUID], Customer],
             calendar: BusinessCalendar, rates: RateTables, split_by_half_year: bool, at: datetime) -> Simulation:
    """`histories`: each invoice's recorded events; `customer_of` gives a customer (read once each)."""
    check_period(rules, from_on, to_on, len(histories))
    pending = {i: [e for e in events if not isinstance(e, DECISIONS)] for i, events in histories.items()}
    pending = {i: events for i, events in pending.items() if events and isinstance(events[0], Invoice.Issued)}
    customers: dict[UUID, Customer] = {}
    live: dict[UUID, Invoice] = {}
    result = Simulation(invoices=len(pending))
    day = from_on
    while day <= to_on:
        _apply_until(day, pending, live)
        if calendar.is_business_day(day):
            by_customer: dict[UUID, list[Invoice]] = defaultdict(list)
            for invoice in live.values():
                by_customer[invoice.customer_id].append(invoice)
            for customer_id, invoices in sorted(by_customer.items()):
                if customer_id not in customers:
                    customers[customer_id] = customer_of(customer_id)
                _run_day(customers[customer_id], rules, invoices, day, calendar, rates, split_by_half_year, at,
                         result)
        day += timedelta(days=1)
    return result


def _apply_until(day: date, pending: dict[UUID, list[Any]], live: dict[UUID, Invoice]) -> None:
    """Apply each invoice's recorded facts whose recording day is `day` or earlier."""
    for invoice_id, events in pending.items():
        while events and business_date(events[0].at) <= day:
            event = events.pop(0)
            if invoice_id not in live:
                live[invoice_id] = event.mutate(None)
            else:
                event.apply(live[invoice_id])  # no version check: simulated decisions are interleaved


def _run_day(customer: Customer, rules: PolicyRules, invoices: list[Invoice], day: date,
             calendar: BusinessCalendar, rates: RateTables, split_by_half_year: bool, at: datetime,
             result: Simulation) -> None:
    try:
        decision = decide(customer=customer, rules=rules, invoices=invoices, today=day, calendar=calendar,
                          rates=rates, split_by_half_year=split_by_half_year)
    except DomainRuleViolation as e:  # e.g. a missing rate: say so, go on with the others
        result.refused.append(f"{day.isoformat()} {customer.name}: {e.detail}")
        return
    for reminder in decision.reminders:
        result.reminders.append({
            "run_on": day, "customer_id": customer.id, "customer_name": customer.name, "channel": reminder.channel,
            "step_kind": reminder.step_kind, "template": reminder.template,
            "lines": [line.to_dict() for line in reminder.lines],
            "totals": totals(reminder.lines), "notice_deadline_on": reminder.notice_deadline_on})
        for line in reminder.lines:
            result.steps_by_kind[line.step_kind] += 1
    changed = carry_out(decision, {i.id: i for i in invoices}, policy_id=SIMULATED_POLICY, policy_version=0, at=at)
    for invoice in changed:
        for event in invoice.collect_events():  # the simulated decisions: kept on the copy, never saved
            if isinstance(event, Invoice.LatePenaltyClaimed):
                # a claim restates the interest accrued so far; the indemnity is claimed once
                claimed = result.claims.get(invoice.id, (invoice.currency, 0, 0))
                result.claims[invoice.id] = (invoice.currency, event.interest.minor,
                                             claimed[2] + event.indemnity.minor)
