"""`ar demo`: four months of receivables in a minute, through the HTTP API.

It starts the real server in this process (uvicorn in a background thread) on a fresh SQLite database with a
simulated clock standing at Monday 2 March 2026, 09:00 Paris time, and reminders written to an outbox folder
instead of being emailed. Then, as any client would, it talks to it over HTTP only: it registers three debtors
(a public buyer, a professional, a private individual), issues eight invoices falling due in March and April, and
moves the clock one day at a time. On chosen days money comes in (in part, in full), a dispute is opened and
rejected, a promise to pay is made and broken. Every morning it runs the dunning sweep (`POST /v1/dunning/sweep`)
and prints the reminders and ops tasks decided. At the end it prints the penalties of the most overdue invoice with
their computation, the dunning timeline of one invoice, the aging, the open tasks and where the messages went.

The sweep is driven by the demo rather than by the background sweeper, and each day's reminders are delivered
before the clock moves on, so two runs print the same story.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from ar.api.app import create_app
from ar.clock import BUSINESS_TZ, SharedFileClock
from ar.config import Settings
from ar.domain.money import MINOR_UNITS
from ar.runtime import build

Json = dict[str, Any]

START = datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ)
FIRST_DAY = START.date()
SERIES = "F2026"
DELIVERY_TIMEOUT_S = 15.0
READY_TIMEOUT_S = 30.0
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def money(minor: int, currency: str = "EUR") -> str:
    """`12,000.00 EUR`: the currency's minor digits and thousands separators, from integer minor units."""
    digits = MINOR_UNITS.get(currency, 2)  # a bare figure (no currency) keeps two decimals
    return f"{Decimal(minor).scaleb(-digits):,.{digits}f} {currency}"


# The story -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerSpec:
    key: str
    name: str
    kind: str
    email: str
    terms_days: int


@dataclass(frozen=True)
class InvoiceSpec:
    """An invoice incl. 20% VAT, issued on `issued_on` (before the start: issued on the first day, back-dated);
    its due date follows from the customer's terms."""

    key: str
    customer: str
    net_minor: int
    issued_on: date
    label: str

    @property
    def vat_minor(self) -> int:
        return self.net_minor // 5

    @property
    def total_minor(self) -> int:
        return self.net_minor + self.vat_minor


CUSTOMERS = (
    CustomerSpec("mairie", "Mairie de Lyon", "public", "factures@mairie-lyon.example", 30),
    CustomerSpec("martin", "Boulangerie Martin SARL", "professional", "compta@boulangerie-martin.example", 45),
    CustomerSpec("dupont", "Jean Dupont", "individual", "jean.dupont@example.org", 30),
)

INVOICES = (
    InvoiceSpec("A", "mairie", 1_000_000, date(2026, 3, 2), "road works, phase 1"),
    InvoiceSpec("B", "mairie", 150_000, date(2026, 2, 9), "signage"),
    InvoiceSpec("C", "martin", 450_000, date(2026, 1, 30), "oven maintenance contract"),
    InvoiceSpec("D", "martin", 180_000, date(2026, 2, 13), "spare parts"),
    InvoiceSpec("E", "martin", 80_000, date(2026, 3, 16), "emergency call-out"),
    InvoiceSpec("F", "dupont", 70_000, date(2026, 2, 18), "kitchen repair"),
    InvoiceSpec("G", "dupont", 15_000, date(2026, 3, 16), "annual boiler check"),
    InvoiceSpec("H", "mairie", 350_000, date(2026, 3, 30), "road works, phase 2"),
)


@dataclass
class Tracked:
    """What the demo knows of an invoice it issued: its id and number, and how many dunning steps it has seen."""

    spec: InvoiceSpec
    id: str = ""
    number: str = ""
    due_on: date = date.min
    steps_seen: int = 0


@dataclass
class Demo:
    client: httpx.Client
    out: Callable[[str], None]
    customers: dict[str, Json] = field(default_factory=dict)
    invoices: dict[str, Tracked] = field(default_factory=dict)
    policies: dict[tuple[str, str], Json] = field(default_factory=dict)
    promises: dict[str, date] = field(default_factory=dict)
    disputes: dict[str, str] = field(default_factory=dict)
    position: str = "0"
    today: date = FIRST_DAY
    reminders: int = 0
    tasks: int = 0

    # -- HTTP -----------------------------------------------------------------------------------------------------
    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; anything but a 2xx stops the demo with the problem+json the server gave."""
        r = self.client.request(method, path, **kwargs)
        if r.status_code >= 300:
            raise DemoError(f"{method} {path} -> {r.status_code}: {r.text}")
        if position := r.headers.get("ar-position"):
            self.position = max(self.position, position, key=int)
        return r.json() if r.headers.get("content-type", "").startswith(("application/json",
                                                                          "application/problem+json")) else r.text

    def read(self, path: str, **params: Any) -> Any:
        """A read of the read models that includes every write made so far (`min_position`)."""
        return self.call("GET", path, params={**params, "min_position": self.position})

    # -- printing -------------------------------------------------------------------------------------------------
    def line(self, what: str, customer: str, detail: str) -> None:
        day = self.today
        self.out(f"{day.isoformat()} {WEEKDAYS[day.weekday()]}  {what:<10} {customer:<24} {detail}")

    def name(self, customer_id: str) -> str:
        return next((str(c["name"]) for c in self.customers.values() if c["id"] == customer_id), customer_id)

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

    # -- the end --------------------------------------------------------------------------------------------------
    def report(self, outbox: Path) -> None:
        self.out("")
        self.out(f"=== {self.reminders} reminders sent and {self.tasks} ops tasks created, "
                 f"{START.date().isoformat()} to {self.today.isoformat()} ===")
        open_invoices = [(t, self.call("GET", f"/v1/invoices/{t.id}")) for t in self.invoices.values()]
        overdue = [(t, i) for t, i in open_invoices if i["open_amount"]["minor"] > 0 and t.due_on < self.today]
        if overdue:
            worst, _ = min(overdue, key=lambda pair: (pair[0].due_on, -pair[1]["open_amount"]["minor"]))
            self.print_penalties(worst)
        if "F" in self.invoices:
            self.print_timeline(self.invoices["F"])
        self.print_aging()
        self.print_tasks()
        files = sorted(outbox.glob("*")) if outbox.exists() else []
        emails = sum(1 for f in files if f.suffix == ".eml")
        letters = sum(1 for f in files if f.suffix == ".pdf")
        self.out("")
        self.out(f"Outbox: {emails} messages (.eml) in {outbox}; {letters} of them are formal notices sent by letter, "
                 f"with the PDF to print beside them")

    def print_penalties(self, tracked: Tracked) -> None:
        p = self.call("GET", f"/v1/invoices/{tracked.id}/penalties")
        self.out("")
        self.out(f"--- Penalties of the most overdue invoice, {p['number']} "
                 f"({self.name(self.call('GET', f'/v1/invoices/{tracked.id}')['customer_id'])}, "
                 f"due {tracked.due_on.isoformat()}) ---")
        self.out(f"Regime: {p['regime']} ({p['source']})")
        for line in p["lines"]:
            self.out(f"  {line['start']} to {line['end']}: {money(line['base_minor'])} x {line['rate']}% x "
                     f"{line['days']}/365 = {money(line['amount_minor'])}")
        self.out(f"  Interest {money(p['interest_minor'])} + recovery indemnity {money(p['indemnity_minor'])} "
                 f"= {money(p['total_minor'])}")
        self.out("As the API explains it (GET /v1/invoices/{id}/penalties, `explain`):")
        for text in p["explain"].splitlines():
            self.out(f"  | {text}")

    def print_timeline(self, tracked: Tracked) -> None:
        """The invoice's dunning timeline, with what the customer did (payments, promises, disputes) in between."""
        t = self.call("GET", f"/v1/invoices/{tracked.id}/dunning")
        self.out("")
        self.out(f"--- Dunning timeline of {t['number']} ({self.name(t['customer_id'])}, "
                 f"due {t['due_on']}, open {money(t['open_minor'])}) ---")
        self.out(f"Policy: {t['policy_name']} (version {t['policy_version']}); dunning state: {t['state']}")
        rows: list[tuple[str, int, str]] = []
        for step in t["steps"]:
            status = step["delivery"] or (f"task {step['task']}" if step["task"] else step["kind"])
            rows.append((step["on"], 1, f"{step['key']:<14} {step['channel'] or '-':<7} {status}"))
        for event in self.call("GET", f"/v1/invoices/{tracked.id}/events"):
            on = datetime.fromisoformat(event["recorded_at"]).astimezone(BUSINESS_TZ).date().isoformat()
            if text := _event_text(event["type"], event["data"]):
                rows.append((str(event["data"]["issued_on"]) if event["type"] == "Issued" else on, 0, text))
        for on, _, text in sorted(rows):
            self.out(f"  {on}  {text}")
        for step in t["planned"]:
            self.out(f"  {step['on']}  {step['key']:<14} {step['channel']:<7} planned if still unpaid")
        for claim in t["penalties_claimed"]:
            self.out(f"  penalties claimed as of {claim['as_of']}: interest {money(claim['interest_minor'])}, "
                     f"indemnity {money(claim['indemnity_minor'])}")

    def print_aging(self) -> None:
        aging = self.read("/v1/aging", bands="30,60,90")
        bands: list[str] = aging["bands"]
        self.out("")
        self.out(f"--- Aging as of {aging['as_of']} (days past due) ---")
        self.out(f"{'customer':<24}" + "".join(f"{b:>14}" for b in bands) + f"{'open':>15}  invoices")
        rows = [(str(c["name"] or c["customer_id"]), c) for c in aging["customers"]]
        rows += [(f"TOTAL {c['currency']}", c) for c in aging["totals"]]
        for label, row in rows:
            self.out(f"{label:<24}" + "".join(f"{money(row['buckets'][b], '')[:-1]:>14}" for b in bands)
                     + f"{money(row['open_minor']):>15}  {row['invoices']:>8}")

    def print_tasks(self) -> None:
        tasks = self.read("/v1/tasks", state="open")
        self.out("")
        self.out(f"--- Open ops tasks ({len(tasks)}) ---")
        for task in tasks:
            self.out(f"  due {task['due_on']}  {task['kind']:<8} {task['summary']}")


def _event_text(kind: str, data: Json) -> str | None:
    """What a finance reader wants to see of an invoice event beside its dunning steps (None: nothing)."""
    if kind == "Issued":
        return f"issued, due {data.get('due_on')}"
    if kind == "PaymentPromised":
        return f"promise to pay by {data.get('promised_on')}"
    if kind == "PromiseBroken":
        return "promise not kept: the next step goes out at once"
    if kind == "DisputeOpened":
        return f"dispute opened: {data.get('reason')}"
    if kind == "DisputeResolved":
        return f"dispute resolved: {data.get('outcome')}"
    if kind == "PaymentAllocated":
        amount = data.get("amount")
        return f"payment of {money(amount['minor'], amount['currency'])}" if isinstance(amount, dict) else "payment"
    return None


class DemoError(RuntimeError):
    """The server refused a request of the demo."""


# The server ------------------------------------------------------------------------------------------------------
@contextmanager
def serving(settings: Settings, port: int) -> Iterator[str]:
    """The real ASGI app under uvicorn in a background thread, with reminder delivery running; yields its URL."""
    clock = SharedFileClock(settings.clock_file or settings.sqlite_path.with_name("clock"), START)
    runtime = build(settings, clock)
    app = create_app(settings, runtime)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="ar-demo-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise DemoError(f"the server did not start on port {port} (in use?)")
            time.sleep(0.02)
        while httpx.get(f"{url}/readyz", trust_env=False).status_code != 200:
            if time.monotonic() > deadline:
                raise DemoError("the server did not become ready")
            time.sleep(0.05)
        runtime.delivery.start(settings.delivery_interval_s)
        yield url
    finally:
        server.should_exit = True
        thread.join(60)
        if not server.started:  # otherwise the lifespan closed it
            runtime.close()


def demo_settings(directory: Path) -> Settings:
    return Settings(
        _env_file=None, database_url=f"sqlite:///{directory / 'ar.sqlite'}", simulated_clock=True,
        clock_file=directory / "clock", outbox_dir=directory / "outbox", smtp_host=None, dunning_webhook_url=None,
        run_projections=True, run_dunning=False, projection_interval_s=0.05, delivery_interval_s=0.05,
        creditor_name="Dubois Travaux SAS", creditor_email="relances@dubois-travaux.example", holiday_region=None)


def run_demo(database_dir: Path | None, port: int, days: int = 120, keep: bool = False,
             out: Callable[[str], None] = print) -> int:
    """Run the demo for `days` days from 2 March 2026; 0 when it went through, 1 when it could not.

    `database_dir`: where the database, the clock file and the outbox go (created if missing, and kept); by
    default a temporary folder, removed at the end unless `keep`."""
    if database_dir is not None and (database_dir / "ar.sqlite").exists():
        out(f"{database_dir} already holds a database: the demo needs a fresh one")
        return 1
    directory = database_dir or Path(tempfile.mkdtemp(prefix="ar-demo-"))
    directory.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(directory)
    # The story, not the plumbing: no request or migration logs between the lines.
    loggers = [logging.getLogger(name) for name in ("ar", "alembic", "httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with serving(settings, port) as url, httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
            out(f"ar demo: server {url} (OpenAPI at {url}/docs), database in {directory}")
            out(f"Simulated clock from {START:%A %d %B %Y %H:%M} Europe/Paris, {days} days; reminders go to "
                f"{settings.outbox_dir}")
            out("")
            demo = Demo(client, out)
            demo.register()
            script = demo.script()
            for n in range(days + 1):
                if n:
                    clock = demo.call("POST", "/v1/admin/clock", json={"advance_days": 1})
                    demo.today = date.fromisoformat(clock["today"])
                for action in script.get(demo.today, []):
                    action()
                demo.sweep()
            demo.report(settings.outbox_dir)
    except (DemoError, httpx.HTTPError) as e:
        out(f"ar demo failed: {e}")
        return 1
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
        if database_dir is None and not keep:
            shutil.rmtree(directory, ignore_errors=True)
            out(f"(removed {directory}; run with --keep to keep the database and the outbox)")
        elif database_dir is None:
            out(f"(kept {directory})")
    return 0


__all__ = ["run_demo"]
