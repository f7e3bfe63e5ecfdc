"""Dunning use cases: policies, the per-invoice controls (pause, opt-out, promise to pay), the dunning run that
decides reminders, penalties, and the outcome of deliveries and ops tasks.

`run_dunning` decides for one customer: every invoice whose next step is due today goes into ONE reminder per
channel, and the reminder and the invoices are saved in one transaction. A step already taken is a no-op, and two
sweepers deciding at once collide on the invoices' versions (and on the reminder's derived id): the loser retries
and finds nothing left to do, so no reminder is decided twice. A payment committed during the run makes the run
retry too, and the retry sees the payment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from importlib import resources
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ar.application.commands import Saved
from ar.application.ports import Ports
from ar.application.rates import Rates, RateSeed
from ar.application.simulation import MAX_INVOICES, Simulation, check_period, simulate
from ar.domain.clock import Clock
from ar.domain.customer import Customer
from ar.domain.dunning import Outlook, outlook, plan
from ar.domain.dunning_decision import ReminderDecision, carry_out, decide, penalty_of
from ar.domain.dunning_policy import DunningPolicy, PolicyRules, Step
from ar.domain.errors import DomainError, DomainRuleViolation
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.penalty_result import PenaltyComputation
from ar.domain.reminder import Reminder
from ar.domain.terms import CustomerKind


def default_rules() -> dict[CustomerKind, tuple[str, PolicyRules]]:
    data = json.loads(resources.files("ar").joinpath("data/default_policies.json").read_text())
    return {kind: (data[kind.value]["name"], PolicyRules.from_dict(data[kind.value])) for kind in CustomerKind}


@dataclass(frozen=True)
class DunningRun:
    customer_id: UUID
    reminders: list[Reminder]
    position: int | None
    promises_broken: int = 0
    skipped: int = 0


class Dunning(Rates):
    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock, ports: Ports, rate_seed: RateSeed,
                 creditor: Mapping[str, str], split_by_half_year: bool):
        """`creditor` (name, email) is who the reminders come from; `split_by_half_year`: whether a B2B delay across
        1 January or 1 July accrues at each half-year's rate. Both come from the settings, which document their
        defaults; the application has none of its own."""
        super().__init__(env, clock=clock, ports=ports, rate_seed=rate_seed)
        self.creditor = dict(creditor)
        self.split_by_half_year = split_by_half_year

    # Policies ---------------------------------------------------------------------------------------------------
    def ensure_default_policies(self) -> None:
        """Seed the default policy of each debtor kind once; later they are edited (revised) like any other."""
        for kind, (name, rules) in default_rules().items():
            policy_id = DunningPolicy.default_id(kind)
            self._create(DunningPolicy, policy_id, partial(self._new_policy, policy_id, name, rules, kind))

    def _check_templates(self, rules: PolicyRules) -> None:
        for i, step in enumerate(rules.steps):
            if not self.ports.renderer.knows(step.template):
                raise DomainRuleViolation(f"there is no template {step.template!r}", field=f"steps[{i}].template")

    def _new_policy(self, policy_id: UUID, name: str, rules: PolicyRules,
                    default_for: CustomerKind | None) -> Saved[DunningPolicy]:
        self._check_templates(rules)
        policy = DunningPolicy.create(id=policy_id, name=name, rules=rules, default_for=default_for,
                                      at=self.clock.now())
        return Saved(policy, self._save(policy))

    def create_policy(self, *, policy_id: UUID, name: str, rules: PolicyRules) -> Saved[DunningPolicy]:
        return self._create(DunningPolicy, policy_id, lambda: self._new_policy(policy_id, name, rules, None))

    def revise_policy(self, policy_id: UUID, *, name: str, rules: PolicyRules,
                      expected_version: int | None = None) -> Saved[DunningPolicy]:
        self._check_templates(rules)
        return self._update(DunningPolicy, policy_id, expected_version,
                            lambda p: p.revise(name, rules, self.clock.now()), "policy_id")

    def archive_policy(self, policy_id: UUID, expected_version: int | None = None) -> Saved[DunningPolicy]:
        return self._update(DunningPolicy, policy_id, expected_version, lambda p: p.archive(self.clock.now()),
                            "policy_id")

    def get_policy(self, policy_id: UUID) -> DunningPolicy:
        return self._get(DunningPolicy, policy_id, "policy_id")

    def policy_for(self, customer: Customer) -> DunningPolicy:
        return self.get_policy(customer.dunning_policy_id or DunningPolicy.default_id(customer.kind))

    def assign_dunning_policy(self, customer_id: UUID, policy_id: UUID | None,
                              expected_version: int | None = None) -> Saved[Customer]:
        if policy_id is not None:
            policy = self._get(DunningPolicy, policy_id, "policy_id")
            if policy.archived:
                raise DomainRuleViolation(f"policy {policy.name} is archived", field="policy_id")
        return self._update(Customer, customer_id, expected_version,
                            lambda c: c.assign_dunning_policy(policy_id, self.clock.now()), "customer_id")

    # Per-invoice controls -------------------------------------------------------------------------------------
    def pause_dunning(self, invoice_id: UUID, *, reason: str,
                      expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version,
                            lambda i: i.pause_dunning(reason, self.clock.now()), "invoice_id")

    def resume_dunning(self, invoice_id: UUID, expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version,
                            lambda i: i.resume_dunning(self.clock.today(), self.clock.now()), "invoice_id")

    def opt_out_of_dunning(self, invoice_id: UUID, *, reason: str,
                           expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version,
                            lambda i: i.opt_out_of_dunning(reason, self.clock.now()), "invoice_id")

    def opt_in_to_dunning(self, invoice_id: UUID, expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version,
                            lambda i: i.opt_in_to_dunning(self.clock.today(), self.clock.now()), "invoice_id")

    def promise_payment(self, invoice_id: UUID, *, promise_id: UUID, promised_on: date, amount: Money | None,
                        expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version, lambda i: i.promise_payment(
            promise_id=promise_id, promised_on=promised_on, amount=amount or i.open_amount,
            made_on=self.clock.today(), at=self.clock.now()), "invoice_id")

    # The dunning run ------------------------------------------------------------------------------------------
    def run_dunning(self, customer_id: UUID, invoice_ids: Sequence[UUID] | None = None) -> DunningRun:
        """Take every step due today for this customer's invoices (all its open ones if none are given)."""
        today = self.clock.today()
        if not self.ports.calendar.is_business_day(today):
            return DunningRun(customer_id, [], None)

        def attempt() -> DunningRun:
            customer = self._get(Customer, customer_id, "customer_id")
            ids = list(invoice_ids) if invoice_ids is not None else self.ports.candidates.open_invoices(customer_id)
            invoices = list(self.load_many(Invoice, ids).values())
            run, changed = self._run_for(customer, self.policy_for(customer), invoices, today)
            position = self._save(*changed) if changed else None
            return DunningRun(customer_id, run.reminders, position, run.promises_broken, run.skipped)

        return self._retrying(attempt)

    def run_dunning_many(self, due: dict[UUID, list[UUID]]) -> tuple[list[DunningRun], dict[UUID, str]]:
        """Group commit of many customers' runs: decided together, saved in one transaction. If any of them lost
        a race, each customer is run again on its own. Returns the runs and the customers whose run was refused
        (e.g. a debtor's country without an EU late-payment rule; a missing half-year rate only makes the penalty
        partial), with why."""
        today = self.clock.today()
        if not self.ports.calendar.is_business_day(today):
            return [], {}
        customers = self.load_many(Customer, list(due))
        invoices = self.load_many(Invoice, [i for ids in due.values() for i in ids])
        policies: dict[UUID, DunningPolicy] = {}
        runs, refused, changed = [], {}, []
        for customer_id, ids in due.items():
            customer = customers.get(customer_id)
            if customer is None:
                continue
            policy_id = customer.dunning_policy_id or DunningPolicy.default_id(customer.kind)
            if policy_id not in policies:
                policies[policy_id] = self.get_policy(policy_id)
            mine = [invoices[i] for i in ids if i in invoices]
            try:
                run, touched = self._run_for(customer, policies[policy_id], mine, today)
            except DomainError as e:
                refused[customer_id] = e.detail
                continue
            runs.append(run)
            changed += touched
        try:
            position = self._save(*changed) if changed else None
        except IntegrityError:
            return self._run_one_by_one([r.customer_id for r in runs], due, refused)
        return [DunningRun(r.customer_id, r.reminders, position, r.promises_broken, r.skipped) for r in runs], refused

    def _run_one_by_one(self, customer_ids: list[UUID], due: dict[UUID, list[UUID]],
                        refused: dict[UUID, str]) -> tuple[list[DunningRun], dict[UUID, str]]:
        runs = []
        for customer_id in customer_ids:
            try:
                runs.append(self.run_dunning(customer_id, due[customer_id]))
            except DomainError as e:
                refused[customer_id] = e.detail
        return runs, refused

    def _run_for(self, customer: Customer, policy: DunningPolicy, invoices: list[Invoice],
                 today: date) -> tuple[DunningRun, list[Any]]:
        """Decide one customer's run (the domain decides), then record it: the aggregates to save, reminders
        first, then the invoices."""
        decision = decide(customer=customer, rules=policy.rules, invoices=invoices, today=today,
                          calendar=self.ports.calendar, rates=self.rates, split_by_half_year=self.split_by_half_year)
        now = self.clock.now()
        reminders = [self._reminder(customer, policy, r, now) for r in decision.reminders]
        changed = carry_out(decision, {i.id: i for i in invoices}, policy_id=policy.id,
                            policy_version=policy.version, at=now)
        run = DunningRun(customer.id, reminders, None, len(decision.promises_broken), len(decision.skipped))
        return run, [*reminders, *changed] if changed else []

    def _reminder(self, customer: Customer, policy: DunningPolicy, decided: ReminderDecision,
                  now: datetime) -> Reminder:
        """The decided reminder: its content and the hash of the message it renders to are its evidence."""
        content = decided.content(customer, self.creditor)
        evidence = self.ports.renderer.evidence(decided.template, customer.language.value, content)
        return Reminder(id=decided.id, customer_id=customer.id, run_on=decided.run_on, channel=decided.channel,
                        step_kind=decided.step_kind, template=decided.template,
                        template_version=evidence.template_version, language=customer.language.value,
                        recipients=list(customer.emails), content=content, policy_id=policy.id,
                        policy_version=policy.version, content_hash=evidence.content_hash, at=now)

    def simulate_dunning(self, *, rules: PolicyRules, from_on: date, to_on: date,
                         customer_ids: list[UUID] | None = None) -> Simulation:
        """Replay real history under proposed rules; nothing is written (see `ar.application.simulation`)."""
        self._check_templates(rules)
        ids = self.ports.candidates.invoices_of(customer_ids, limit=MAX_INVOICES + 1)
        check_period(rules, from_on, to_on, len(ids))
        return simulate(rules=rules, from_on=from_on, to_on=to_on,
                        histories={i: list(self.events.get(i)) for i in ids},
                        customer_of=lambda customer_id: self._get(Customer, customer_id, "customer_ids"),
                        calendar=self.ports.calendar, rates=self.rates, split_by_half_year=self.split_by_half_year,
                        at=self.clock.now())

    # Penalties ------------------------------------------------------------------------------------------------
    def penalty(self, invoice: Invoice, customer: Customer, policy: DunningPolicy, until: date,
                notice_on: date | None = None) -> PenaltyComputation:
        """Late-payment penalties of one invoice up to `until`, from its settlements (value dates)."""
        return penalty_of(invoice, customer, policy.rules, self.rates, until,
                          split_by_half_year=self.split_by_half_year, notice_on=notice_on)

    def invoice_penalties(self, invoice_id: UUID, until: date | None = None) -> tuple[Invoice, PenaltyComputation]:
        invoice = self._get(Invoice, invoice_id, "invoice_id")
        customer = self._get(Customer, invoice.customer_id, "customer_id")
        return invoice, self.penalty(invoice, customer, self.policy_for(customer), until or self.clock.today())

    def customer_penalties(self, customer_id: UUID, until: date) -> list[tuple[Invoice, PenaltyComputation]]:
        """Late-payment penalties accrued up to `until` on each invoice of the customer that was late, paid since
        or not: interest is owed for the days late even once the principal is paid. For statements."""
        customer = self._get(Customer, customer_id, "customer_id")
        policy = self.policy_for(customer)
        ids = self.ports.candidates.invoices_of([customer_id], limit=MAX_INVOICES)
        found = []
        for invoice in sorted(self.load_many(Invoice, ids).values(), key=lambda i: (i.due_on, i.number)):
            if invoice.due_on >= until or invoice.issued_on > until:
                continue
            computed = self.penalty(invoice, customer, policy, until)
            if computed.total.is_positive:
                found.append((invoice, computed))
        return found

    def dunning_outlook(self, invoice_id: UUID) -> tuple[Invoice, DunningPolicy, Outlook, list[tuple[Step, date]]]:
        invoice = self._get(Invoice, invoice_id, "invoice_id")
        policy = self.policy_for(self._get(Customer, invoice.customer_id, "customer_id"))
        calendar = self.ports.calendar
        return invoice, policy, outlook(invoice, policy.rules, calendar), plan(invoice, policy.rules, calendar)

    # Delivery and tasks ---------------------------------------------------------------------------------------
    def get_reminder(self, reminder_id: UUID) -> Reminder:
        return self._get(Reminder, reminder_id, "reminder_id")

    def record_delivery(self, reminder_id: UUID, *, attempt: int, delivered: bool, detail: str,
                        final: bool = False, retry_at: datetime | None = None) -> Saved[Reminder]:
        def change(r: Reminder) -> None:
            if delivered:
                r.mark_delivered(attempt=attempt, detail=detail, at=self.clock.now())
            else:
                r.mark_delivery_failed(attempt=attempt, error=detail, final=final, retry_at=retry_at,
                                       at=self.clock.now())

        return self._update(Reminder, reminder_id, None, change, "reminder_id")

    def complete_task(self, task_id: UUID, *, outcome: str, by: str) -> Saved[Reminder]:
        return self._update(Reminder, task_id, None,
                            lambda r: r.complete_task(outcome=outcome, by=by, at=self.clock.now()), "task_id")

