"""What-if: replay a period of real history under a proposed dunning policy, writing nothing.

Each invoice is rebuilt from its recorded events, without the dunning decisions actually taken (steps, skips,
claims, broken promises); then, day by day, the facts of that day (issues, payments, disputes, promises, pauses)
are applied and the dunning run decides under the proposed rules, exactly as `run_dunning` would (same decision
code, same consolidation per customer and channel, same penalties). The reminders it would have sent are returned.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from ar.domain.clock import business_date
from ar.domain.customer import Customer
from ar.domain.dunning_policy import DunningPolicy, PolicyRules
from ar.domain.errors import DomainRuleViolation
from ar.domain.invoice import Invoice

if TYPE_CHECKING:
    from ar.application.dunning import Dunning

DECISIONS = ("DunningStepTaken", "DunningStepSkipped", "LatePenaltyClaimed", "PromiseBroken")
MAX_DAYS = 731
MAX_INVOICES = 20_000


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


def simulate(app: Dunning, *, rules: PolicyRules, from_on: date, to_on: date,
             invoice_ids: list[UUID]) -> Simulation:
    rules.check()
    if to_on < from_on or (to_on - from_on).days > MAX_DAYS:
        raise DomainRuleViolation(f"simulate 1 to {MAX_DAYS} days", field="to")
    if len(invoice_ids) > MAX_INVOICES:
        raise DomainRuleViolation(f"at most {MAX_INVOICES} invoices a simulation; narrow it by customer",
                                  field="customer_ids")
    policy = DunningPolicy.create(id=uuid4(), name="simulation", rules=rules, default_for=None,
                                  at=app.clock.now())
    pending = {i: [e for e in app.events.get(i) if type(e).__name__ not in DECISIONS] for i in invoice_ids}
    pending = {i: events for i, events in pending.items() if events and isinstance(events[0], Invoice.Issued)}
    customers: dict[UUID, Customer] = {}
    live: dict[UUID, Invoice] = {}
    result = Simulation(invoices=len(pending))
    day = from_on
    while day <= to_on:
        _apply_until(day, pending, live)
        if app.calendar.is_business_day(day):
            by_customer: dict[UUID, list[Invoice]] = defaultdict(list)
            for invoice in live.values():
                by_customer[invoice.customer_id].append(invoice)
            for customer_id, invoices in sorted(by_customer.items()):
                if customer_id not in customers:
                    customers[customer_id] = app.get_customer_for_simulation(customer_id)
                _run_day(app, customers[customer_id], policy, invoices, day, result)
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


def _run_day(app: Dunning, customer: Customer, policy: DunningPolicy, invoices: list[Invoice], day: date,
             result: Simulation) -> None:
    try:
        due, _touched, _broken, _skipped = app.decide_dunning(invoices, policy, day)
        reminders = [app.remind(customer, policy, channel, items, day) for channel, items in sorted(due.items())]
    except DomainRuleViolation as e:  # e.g. a missing rate: say so, go on with the others
        result.refused.append(f"{day.isoformat()} {customer.name}: {e.detail}")
        return
    for reminder in reminders:
        result.reminders.append({
            "run_on": day, "customer_id": customer.id, "customer_name": customer.name, "channel": reminder.channel,
            "step_kind": reminder.step_kind, "template": reminder.template, "lines": reminder.lines,
            "totals": reminder.content["totals"], "notice_deadline_on": reminder.content["notice_deadline_on"]})
        for line in reminder.lines:
            result.steps_by_kind[line["step_kind"]] += 1
    for invoice in invoices:
        for event in invoice.collect_events():  # the simulated decisions: kept on the copy, never saved
            if type(event).__name__ == "LatePenaltyClaimed":
                # a claim restates the interest accrued so far; the indemnity is claimed once
                claimed = result.claims.get(invoice.id, (invoice.currency, 0, 0))
                result.claims[invoice.id] = (invoice.currency, event.interest.minor,  # type: ignore[attr-defined]
                                             claimed[2] + event.indemnity.minor)  # type: ignore[attr-defined]
