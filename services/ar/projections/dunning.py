"""The `dunning` projection: the agenda (every invoice's next dunning action and its date), the ops task queue
and the delivery queue of reminders.

An agenda row is derived from the invoice's events and its customer's policy through the same pure function the
dunning run uses (`ar.domain.dunning.outlook`), so the agenda never promises what the run would not do. Any event of
an invoice recomputes its row; a policy revision or a customer's policy change recomputes its customer's rows.
The delivery queue keeps its rows across a rebuild (its claim columns belong to the delivery worker): a rebuild
only re-inserts the missing ones and re-applies the outcomes recorded as events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.customer import Customer
from ar.domain.dunning import outlook
from ar.domain.dunning_policy import DunningPolicy
from ar.domain.invoice import Invoice
from ar.domain.reminder import Reminder
from ar.projections.dunning_tables import dunning_agenda, dunning_tasks, reminder_deliveries
from ar.projections.sql import insert_missing, upsert

if TYPE_CHECKING:
    from ar.application.receivables import Receivables


class DunningProjection:
    name = "dunning"

    def __init__(self, app: Receivables) -> None:
        self.app = app

    def reset(self, conn: sa.Connection) -> None:
        conn.execute(dunning_agenda.delete())
        conn.execute(dunning_tasks.delete())

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        invoices: set[UUID] = set()
        customers: set[UUID] = set()
        policies: set[UUID] = set()
        for _position, event in events:
            if isinstance(event, Invoice.Event):
                invoices.add(event.originator_id)
            elif isinstance(event, Customer.DunningPolicyAssigned):
                customers.add(event.originator_id)
            elif isinstance(event, DunningPolicy.Event) and not isinstance(event, DunningPolicy.Created):
                policies.add(event.originator_id)
            elif isinstance(event, Reminder.Event):
                self._reminder(conn, event)
        if customers or policies:
            query = sa.select(dunning_agenda.c.invoice_id).where(sa.or_(
                dunning_agenda.c.customer_id.in_(customers), dunning_agenda.c.policy_id.in_(policies)))
            invoices.update(conn.scalars(query))
        self._refresh(conn, invoices)

    # Agenda ---------------------------------------------------------------------------------------------------
    def _refresh(self, conn: sa.Connection, invoice_ids: set[UUID]) -> None:
        if not invoice_ids:
            return
        invoices = self.app.load_many(Invoice, sorted(invoice_ids))
        customers = self.app.load_many(Customer, list({i.customer_id for i in invoices.values()}))
        policies: dict[UUID, DunningPolicy] = {}
        rows = []
        for invoice in invoices.values():
            customer = customers[invoice.customer_id]
            policy_id = customer.dunning_policy_id or DunningPolicy.default_id(customer.kind)
            if policy_id not in policies:
                policies[policy_id] = self.app.get_policy(policy_id)
            rows.append(_agenda_row(invoice, policies[policy_id], self.app))
        upsert(conn, dunning_agenda, rows, ["invoice_id"])

    # Tasks and deliveries -------------------------------------------------------------------------------------
    def _reminder(self, conn: sa.Connection, event: Reminder.Event) -> None:
        rid = event.originator_id
        if isinstance(event, Reminder.ReminderSent):
            if event.channel == "phone":
                lines = event.content["lines"]
                summary = ", ".join(f"{line['number']} ({line['step_key']})" for line in lines)
                kind = "handoff" if event.step_kind == "handoff" else "call"
                insert_missing(conn, dunning_tasks, [{
                    "task_id": rid, "customer_id": event.customer_id, "kind": kind,
                    "step_key": lines[0]["step_key"], "due_on": event.run_on, "state": "open",
                    "summary": f"{event.content['customer']['name']}: {summary}", "created_at": event.at}],
                    ["task_id"])
            else:
                insert_missing(conn, reminder_deliveries, [{
                    "reminder_id": rid, "customer_id": event.customer_id, "channel": event.channel,
                    "state": "pending", "attempts": 0, "next_attempt_at": event.at, "decided_at": event.at}],
                    ["reminder_id"])
        elif isinstance(event, Reminder.ReminderDelivered):
            conn.execute(reminder_deliveries.update().where(reminder_deliveries.c.reminder_id == rid)
                         .values(state="delivered", claimed_until=None, last_error=None))
        elif isinstance(event, Reminder.ReminderDeliveryFailed) and event.final:
            conn.execute(reminder_deliveries.update().where(reminder_deliveries.c.reminder_id == rid)
                         .values(state="failed", claimed_until=None, last_error=event.error))
        elif isinstance(event, Reminder.TaskCompleted):
            conn.execute(dunning_tasks.update().where(dunning_tasks.c.task_id == rid).values(
                state="done", outcome=event.outcome, done_by=event.by, done_at=event.at))


def _agenda_row(invoice: Invoice, policy: DunningPolicy, app: Receivables) -> dict[str, Any]:
    found = outlook(invoice, policy.rules, app.ports.calendar)
    action = found.action
    step = action.step if action else None
    return {
        "invoice_id": invoice.id, "customer_id": invoice.customer_id, "number": invoice.number,
        "currency": invoice.currency, "due_on": invoice.due_on, "open_minor": invoice.open_amount.minor,
        "remindable_minor": invoice.remindable.minor, "state": found.state.value,
        "next_on": action.on if action else None,
        "next_step": (step.key if step else "promise") if action else None,
        "next_kind": step.kind.value if step else None, "next_channel": step.channel.value if step else None,
        "steps_taken": len(invoice.dunning.steps), "policy_id": policy.id, "policy_version": policy.version,
    }
