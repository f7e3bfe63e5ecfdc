"""The story told day by day over HTTP: registering the debtors, issuing the invoices, the payments, dispute and
promise of chosen days, and each morning's dunning sweep with the reminders and tasks it decided."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from functools import partial

from ar.demo.session import Json, Session, Tracked, money
from ar.demo.story import CUSTOMERS, INVOICES, SERIES, START, InvoiceSpec

DELIVERY_TIMEOUT_S = 15.0


class Scenario(Session):
    """What the demo's client does, as any client would, over HTTP only."""

    # -- set-up ---------------------------------------------------------------------------------------------------
    def register(self) -> None:
        for spec in CUSTOMERS:
            self.customers[spec.key] = self.call("POST", "/v1/customers", json={
                "name": spec.name, "kind": spec.kind, "emails": [spec.email], "language": "fr",
                "terms": {"kind": "net", "days": spec.terms_days}}, headers={"Idempotency-Key": f"demo-{spec.key}"})
        for policy in self.call("GET", "/v1/dunning/policies"):
            for step in policy["steps"]:
                self.policies[(policy["id"], step["key"])] = step
        self.out("Customers (default dunning policy of their kind):")
        for spec in CUSTOMERS:
            self.out(f"  {spec.name:<24} {spec.kind:<13} net {spec.terms_days} days  {spec.email}")
        self.out("")

    def issue(self, spec: InvoiceSpec) -> None:
        customer = self.customers[spec.customer]
        body = self.call("POST", "/v1/invoices", headers={"Idempotency-Key": f"demo-invoice-{spec.key}"}, json={
            "customer_id": customer["id"], "series": SERIES, "total_minor": spec.total_minor,
            "vat": [{"rate": "20", "base_minor": spec.net_minor, "vat_minor": spec.vat_minor}],
            "issued_on": spec.issued_on.isoformat(), "purchase_order": f"{spec.label}"})
        tracked = Tracked(spec, id=body["id"], number=body["number"], due_on=date.fromisoformat(body["due_on"]))
        self.invoices[spec.key] = tracked
        self.line("invoice", customer["name"], f"{tracked.number} {money(spec.total_minor)} incl. VAT, issued "
                  f"{spec.issued_on.isoformat()}, due {tracked.due_on.isoformat()} ({spec.label})")

    # -- what happens on chosen days ------------------------------------------------------------------------------
    def pay(self, key: str, amount_minor: int | None = None) -> None:
        """A transfer quoting the invoice number: allocated automatically from the remittance text."""
        tracked = self.invoices[key]
        invoice = self.call("GET", f"/v1/invoices/{tracked.id}")
        amount = amount_minor or invoice["open_amount"]["minor"]
        payment = self.call("POST", "/v1/payments", json={
            "customer_id": invoice["customer_id"], "amount_minor": amount, "method": "transfer",
            "remittance": f"Virement facture {tracked.number}"})
        after = self.call("GET", f"/v1/invoices/{tracked.id}")
        left = after["open_amount"]["minor"]
        outcome = "paid in full" if left == 0 else f"{money(left)} still open"
        self.line("payment", self.name(invoice["customer_id"]),
                  f"{money(payment['amount']['minor'])} received by transfer for {tracked.number}: {outcome}")

    def open_dispute(self, key: str, reason: str) -> None:
        tracked = self.invoices[key]
        body = self.call("POST", f"/v1/invoices/{tracked.id}/disputes", json={"reason": reason})
        self.disputes[key] = body["dispute_id"]
        invoice = body["invoice"]
        self.line("dispute", self.name(invoice["customer_id"]),
                  f"{tracked.number}: {money(invoice['disputed']['minor'])} disputed ({reason}); dunning paused")

    def resolve_dispute(self, key: str, outcome: str) -> None:
        tracked = self.invoices[key]
        invoice = self.call("POST", f"/v1/invoices/{tracked.id}/disputes/{self.disputes[key]}/resolve",
                            json={"outcome": outcome})
        self.line("dispute", self.name(invoice["customer_id"]),
                  f"{tracked.number}: resolved ({outcome}); {money(invoice['open_amount']['minor'])} due again")

    def promise(self, key: str, promised_on: date) -> None:
        tracked = self.invoices[key]
        timeline = self.call("POST", f"/v1/invoices/{tracked.id}/promise-to-pay",
                             json={"promised_on": promised_on.isoformat()})
        self.promises[key] = promised_on
        self.line("promise", self.name(timeline["customer_id"]),
                  f"{tracked.number}: promises to pay {money(timeline['open_minor'])} by {promised_on.isoformat()}; "
                  f"reminders wait until then")

    def close_task(self, customer: str, outcome: str) -> None:
        """Someone in ops makes the call the dunning run asked for, and closes the task with what came of it."""
        customer_id = self.customers[customer]["id"]
        for task in self.read("/v1/tasks", state="open", customer_id=customer_id)[:1]:
            done = self.call("POST", f"/v1/tasks/{task['id']}/done", json={"outcome": outcome, "by": "claire@ops"})
            self.line("task done", self.name(customer_id), f"{done['kind']} {done['summary'].split(': ', 1)[-1]} "
                      f"closed by {done['done_by']}: {outcome}")

    def script(self) -> dict[date, list[Callable[[], None]]]:
        """The story, day by day (the sweep runs after these, at 09:00)."""
        days: dict[date, list[Callable[[], None]]] = {}

        def on(day: date, action: Callable[[], None]) -> None:
            days.setdefault(day, []).append(action)

        for spec in INVOICES:
            on(max(spec.issued_on, START.date()), partial(self.issue, spec))
        on(date(2026, 3, 10), lambda: self.pay("B"))
        on(date(2026, 4, 8), lambda: self.open_dispute("A", "works not finished"))
        on(date(2026, 4, 9), lambda: self.pay("D"))
        on(date(2026, 4, 10), lambda: self.promise("F", date(2026, 4, 24)))
        on(date(2026, 4, 14), lambda: self.pay("G"))
        on(date(2026, 4, 15), lambda: self.close_task("martin", "called: 2,000.00 EUR sent today, the rest by May"))
        on(date(2026, 4, 15), lambda: self.pay("C", 200_000))
        on(date(2026, 4, 22), lambda: self.resolve_dispute("A", "rejected: works accepted on 31 March"))
        on(date(2026, 5, 20), lambda: self.pay("H"))
        return days

    # -- the daily sweep ------------------------------------------------------------------------------------------
    def sweep(self) -> None:
        """Run today's dunning, wait until its messages are delivered, and print one line per reminder or task."""
        report = self.call("POST", "/v1/dunning/sweep")
        for customer_id, why in report["failures"].items():
            self.line("FAILED", self.name(customer_id), why)
        if not report["reminders"]:
            return
        involved = [t for t in self.invoices.values()
                    if len(self.call("GET", f"/v1/invoices/{t.id}/dunning")["steps"]) > t.steps_seen]
        timelines = self.delivered(involved)
        decided: dict[str, list[tuple[Tracked, Json, Json]]] = {}
        for tracked in involved:
            timeline = timelines[tracked.id]
            for step in timeline["steps"][tracked.steps_seen:]:
                if step["reminder_id"] is None:
                    self.line("skipped", self.name(timeline["customer_id"]),
                              f"{tracked.number}: {step['key']} not sent, its moment had passed")
                else:
                    decided.setdefault(step["reminder_id"], []).append((tracked, step, timeline))
            tracked.steps_seen = len(timeline["steps"])
        for steps in decided.values():
            self.print_reminder(steps)

    def delivered(self, involved: list[Tracked]) -> dict[str, Json]:
        """The timelines of `involved` once the delivery worker has sent what the sweep decided (so that messages
        carry today's date); after DELIVERY_TIMEOUT_S, as they stand."""
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while True:
            timelines = {t.id: self.call("GET", f"/v1/invoices/{t.id}/dunning") for t in involved}
            pending = [s for t in timelines.values() for s in t["steps"] if s["delivery"] == "pending"]
            if not pending or time.monotonic() > deadline:
                return timelines
            time.sleep(0.05)

    def print_reminder(self, steps: list[tuple[Tracked, Json, Json]]) -> None:
        """One reminder (or ops task): the invoices it covers, what it asks for, the penalties it states."""
        first, timeline = steps[0][1], steps[0][2]
        currency = timeline["currency"]
        customer = self.name(timeline["customer_id"])
        amount = sum(t["remindable_minor"] for _, _, t in steps)
        invoices = ", ".join(f"{tracked.number} ({step['key']})" for tracked, step, _ in steps)
        detail = f"{invoices}: {money(amount, currency)}"
        rules = [self.policies.get((t["policy_id"], step["key"]), {}) for _, step, t in steps]
        counted = [tracked for (tracked, _, _), rule in zip(steps, rules, strict=True)
                   if rule.get("states_penalties") or rule.get("claims_penalties")]
        if counted:
            found = [self.call("GET", f"/v1/invoices/{tracked.id}/penalties") for tracked in counted]
            interest = sum(p["interest_minor"] for p in found)
            indemnity = sum(p["indemnity_minor"] for p in found)
            claims = any(rule.get("claims_penalties") for rule in rules)
            if interest + indemnity:
                detail += (f" + penalties {'claimed' if claims else 'to date'} {money(interest + indemnity, currency)}"
                           f" (interest {money(interest, currency)}, indemnity {money(indemnity, currency)})")
            elif first["kind"] == "formal_notice":
                detail += "; legal interest runs from this notice"
        for tracked, _, _ in steps:
            promised = self.promises.pop(tracked.spec.key, None)
            if promised is not None and promised < self.today:
                detail += f"; promise to pay by {promised.isoformat()} not kept"
        if first["channel"] == "phone":
            self.tasks += 1
            self.line("TASK", customer, f"{first['template']} (phone, ops queue): {detail}")
            return
        self.reminders += 1
        delivery = "" if first["delivery"] == "delivered" else f" [{first['delivery']}]"
        self.line("reminder", customer, f"{first['template']} ({first['channel']}): {detail}{delivery}")
