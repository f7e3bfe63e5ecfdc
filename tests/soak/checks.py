"""What must hold after the soak, read from the event store, the read models and the SMTP sink.

Each check returns its findings (empty when it holds) rather than asserting, so that the test prints every figure
before it fails, and a failure names every broken command, not only the first one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from tests.e2e.test_worker_crash import READ_MODELS, _diff
from tests.soak.clients import CREDIT_SERIES, SERIES, Command
from tests.soak.harness import Mail

from ar.projections.dunning_tables import dunning_agenda, dunning_tasks
from ar.runtime import Runtime

REBUILT: dict[str, sa.Table] = {**READ_MODELS, "dunning_agenda": dunning_agenda, "dunning_tasks": dunning_tasks}


@dataclass
class Store:
    """The facts of the event store that the checks need, in one pass over the notification log."""

    head: int = 0
    customers: Counter[str] = field(default_factory=Counter)
    payments: Counter[str] = field(default_factory=Counter)
    issued: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # invoice id -> numbers
    numbers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # series -> numbers
    allocations: Counter[tuple[str, str]] = field(default_factory=Counter)  # (payment, invoice)
    disputes: Counter[str] = field(default_factory=Counter)  # dispute id
    credits: Counter[str] = field(default_factory=Counter)  # reason (which names the command's key)
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)  # ReminderSent, by id
    delivered: Counter[str] = field(default_factory=Counter)
    failed_final: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)


def read_store(runtime: Runtime) -> Store:
    app, store, start = runtime.app, Store(), 0
    while notifications := app.recorder.select_notifications(start, 2000, inclusive_of_start=False):
        for n in notifications:
            event: Any = app.mapper.to_domain_event(n)
            kind, oid = type(event).__qualname__, str(event.originator_id)
            if kind == "Customer.Registered":
                store.customers[oid] += 1
            elif kind == "Payment.Received":
                store.payments[oid] += 1
            elif kind == "Invoice.Issued":
                store.issued[oid].append(event.number)
                store.numbers[event.series].append(event.number)
            elif kind == "Invoice.PaymentAllocated":
                store.allocations[(str(event.payment_id), oid)] += 1
            elif kind == "Invoice.DisputeOpened":
                store.disputes[str(event.dispute_id)] += 1
            elif kind == "Invoice.CreditNoteApplied":
                store.credits[event.reason] += 1
                store.numbers[event.number.rsplit("-", 1)[0]].append(event.number)
            elif kind == "Reminder.ReminderSent":
                store.reminders[oid] = {"channel": event.channel, "lines": event.content["lines"]}
            elif kind == "Reminder.ReminderDelivered":
                store.delivered[oid] += 1
            elif kind == "Reminder.ReminderDeliveryFailed":
                store.failures[oid] += 1
                store.failed_final[oid] += bool(event.final)
        start = notifications[-1].id
    store.head = start
    return store


def effects(command: Command, store: Store) -> int:
    """How many times the command's effect is in the event store (1 when it took effect once)."""
    answer, context = command.answer or {}, command.context
    if command.kind == "register":
        return store.customers[answer["id"]] if answer.get("id") else 0
    if command.kind == "issue":
        return len(store.issued.get(answer["id"], [])) if answer.get("id") else 0
    if command.kind == "pay":
        received = store.payments[answer["id"]] if answer.get("id") else 0
        if received != 1 or not context["allocations"]:
            return received
        return min(store.allocations[(answer["id"], i)] for i in context["allocations"])
    if command.kind == "allocate":
        return store.allocations[(context["payment_id"], context["invoice_id"])]
    if command.kind == "dispute":
        return store.disputes[answer["dispute_id"]] if answer.get("dispute_id") else 0
    if command.kind == "credit":
        return store.credits[command.body["reason"]]
    raise AssertionError(command.kind)


def check_commands(commands: list[Command], store: Store) -> dict[str, list[str]]:
    """Every acknowledged command took effect exactly once, with the number it was acknowledged with; no command
    took effect twice; none was refused (final 4xx) after it had taken effect."""
    found: dict[str, list[str]] = {"lost": [], "duplicated": [], "renumbered": [], "refused_after_commit": []}
    for c in commands:
        n, answer = effects(c, store), c.answer or {}
        if c.acknowledged and n == 0:
            found["lost"].append(f"{c.key} {c.status} {answer}")
        if n > 1:
            found["duplicated"].append(f"{c.key}: {n} times ({c.status}, attempts {c.attempts}, {dict(c.errors)})")
        if c.status is not None and not c.acknowledged and n > 0:
            found["refused_after_commit"].append(f"{c.key}: {c.status} {answer} ({dict(c.errors)})")
        if c.acknowledged and c.kind == "issue" and store.issued.get(answer["id"]) != [answer["number"]]:
            found["renumbered"].append(f"{c.key}: acknowledged {answer['number']}, "
                                       f"stored {store.issued.get(answer['id'])}")
    return found


def numbering_gaps(store: Store) -> dict[str, str]:
    """Each series is numbered 1..N: no gap, no number twice."""
    out = {}
    for series in (SERIES, CREDIT_SERIES):
        numbers = sorted(int(n.rsplit("-", 1)[1]) for n in store.numbers.get(series, []))
        if numbers != list(range(1, len(numbers) + 1)):
            missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
            twice = [n for n, k in Counter(numbers).items() if k > 1]
            out[series] = f"{len(numbers)} numbers; missing {missing[:10]}, twice {twice[:10]}"
    return out


def snapshot(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {name: [dict(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns)).mappings()]
                for name, t in REBUILT.items()}


def rebuild_differences(runtime: Runtime) -> list[str]:
    """What the workers built, then a rebuild from event 1 in this process: equal, row by row."""
    built = snapshot(runtime.engine)
    for name in ("receivables", "customers", "dunning"):
        runtime.projections.rebuild(name)
    rebuilt = snapshot(runtime.engine)
    out = []
    for table in REBUILT:
        if built[table] != rebuilt[table]:
            out.append(_diff(table, built[table], rebuilt[table]) if table in READ_MODELS
                       else f"{table}: {len(built[table])} rows built, {len(rebuilt[table])} rebuilt, "
                            f"{sum(r not in rebuilt[table] for r in built[table])} differ")
    return out


def check_mail(mails: list[Mail], store: Store) -> dict[str, list[str]]:
    """At most one email per reminder and per (invoice, step); every email comes from a recorded reminder; every
    reminder to deliver has an outcome (delivered, or a final failure for a person to review)."""
    found: dict[str, list[str]] = {"unknown": [], "twice_per_reminder": [], "twice_per_step": [], "no_outcome": [],
                                   "delivered_without_mail": []}
    per_reminder = Counter(m.reminder_id for m in mails)
    found["twice_per_reminder"] = [f"{r}: {n} emails" for r, n in per_reminder.items() if n > 1]
    per_step: Counter[tuple[str, str]] = Counter()
    for m in mails:
        reminder = store.reminders.get(m.reminder_id)
        if reminder is None:
            found["unknown"].append(f"{m.message_id} to {m.to}")
            continue
        for line in reminder["lines"]:
            per_step[(line["invoice_id"], line["step_key"])] += 1
    found["twice_per_step"] = [f"invoice {i} step {s}: {n} emails" for (i, s), n in per_step.items() if n > 1]
    for rid, reminder in store.reminders.items():
        if reminder["channel"] == "phone":
            continue  # a task in the ops queue, not a delivery
        if not store.delivered[rid] and not store.failed_final[rid]:
            found["no_outcome"].append(f"{rid} ({store.failures[rid]} failed attempts)")
        if store.delivered[rid] and not per_reminder[rid] and reminder["channel"] in ("email", "letter"):
            found["delivered_without_mail"].append(rid)
    return found
