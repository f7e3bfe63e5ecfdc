"""The soak's clients: threads sending a mix of commands to either server, each with an Idempotency-Key, retrying
with the same key and body until a 2xx or a final 4xx, and recording what was acknowledged.

A command whose key is claimed by a request that died with its server answers 409 "in flight" until the claim is
stale (60 s): the client parks it and sends other commands meanwhile, as a real client with a queue would. Commands
only refer to records already acknowledged (an invoice of a registered customer, a payment recorded...).
Every free-text field carries the command's key, so that the checks can find in the event store what each command
did, and how many times.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from tests.support.api import AUTH_HEADERS

TIMEOUT = httpx.Timeout(10.0, connect=2.0)
MAX_PARKED = 6  # per client: beyond that, it retries what it has before sending anything new
IN_FLIGHT = "idempotency-key-in-flight"
SERIES, CREDIT_SERIES = "F2026", "AV2026"
MIX = (("register", 8), ("issue", 34), ("pay", 18), ("allocate", 12), ("dispute", 10), ("credit", 18))


@dataclass
class Command:
    kind: str
    key: str
    path: str
    body: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    in_doubt: bool = False  # an attempt may have committed without an answer (transport error, 5xx)
    status: int | None = None  # the final answer: 2xx or a final 4xx
    answer: dict[str, Any] | None = None
    next_at: float = 0.0

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Invoice:
    id: str
    customer_id: str
    number: str
    budget: int  # what the clients may still allocate, credit or dispute (their own bookkeeping)


@dataclass
class Cash:
    id: str
    customer_id: str
    remaining: int
    invoices: set[str] = field(default_factory=set)


class Book:
    """What the clients know has been acknowledged, shared by all of them."""

    def __init__(self, run: str, seed: int) -> None:
        self.run, self.rng, self.lock = run, random.Random(seed), threading.Lock()
        self.commands: list[Command] = []
        self.customers: list[str] = []
        self.invoices: dict[str, Invoice] = {}
        self.by_customer: dict[str, list[str]] = {}
        self.cash: dict[str, Cash] = {}
        self.disputed: set[str] = set()
        self._n = 0

    def _key(self, kind: str) -> str:
        self._n += 1
        return f"soak-{self.run}-{kind}-{self._n:06d}"

    def new_command(self) -> Command | None:
        with self.lock:
            kinds, weights = zip(*MIX, strict=True)
            kind = "register" if len(self.customers) < 4 else self.rng.choices(kinds, weights)[0]
            command = getattr(self, f"_{kind}")(self._key(kind))
            if command is not None:
                self.commands.append(command)
            return command

    # One builder per command: the body, and what it reserves from the clients' bookkeeping --------------------
    def _register(self, key: str) -> Command:
        kind = self.rng.choice(["professional", "professional", "individual", "public"])
        return Command("register", key, "/v1/customers", {
            "name": f"Soak {key}", "kind": kind, "emails": [f"{key}@soak.example"], "terms": {"days": 30}})

    def _issue(self, key: str) -> Command:
        customer = self.rng.choice(self.customers)
        total = self.rng.randrange(50_000, 500_000)
        return Command("issue", key, "/v1/invoices", {
            "customer_id": customer, "series": SERIES, "total_minor": total,
            "vat": [{"rate": "0", "base_minor": total, "vat_minor": 0}], "purchase_order": key[-20:]},
            {"customer_id": customer, "total": total})

    def _open_invoice(self, need: int, customer: str | None = None) -> Invoice | None:
        pool = self.by_customer.get(customer, []) if customer else list(self.invoices)
        candidates = [self.invoices[i] for i in pool if self.invoices[i].budget >= need]
        return self.rng.choice(candidates) if candidates else None

    def _pay(self, key: str) -> Command | None:
        invoice = self._open_invoice(1_000)
        if invoice is None or self.rng.random() < 0.4:  # unapplied cash, allocated later
            customer = invoice.customer_id if invoice else self.rng.choice(self.customers)
            amount = self.rng.randrange(5_000, 60_000)
            return Command("pay", key, "/v1/payments", {
                "customer_id": customer, "amount_minor": amount, "auto_allocate": False, "remittance": key},
                {"customer_id": customer, "amount": amount, "allocations": {}})
        amount = self.rng.randrange(1, invoice.budget + 1) if self.rng.random() < 0.3 else min(
            invoice.budget, self.rng.randrange(1_000, 50_000))
        invoice.budget -= amount
        return Command("pay", key, "/v1/payments", {
            "customer_id": invoice.customer_id, "amount_minor": amount, "remittance": key,
            "allocations": [{"invoice_id": invoice.id, "amount_minor": amount}]},
            {"customer_id": invoice.customer_id, "amount": amount, "allocations": {invoice.id: amount}})

    def _allocate(self, key: str) -> Command | None:
        cash = [c for c in self.cash.values() if c.remaining >= 100]
        self.rng.shuffle(cash)
        for c in cash:
            candidates = [i for i in self.by_customer.get(c.customer_id, [])
                          if i not in c.invoices and self.invoices[i].budget >= 100]
            if not candidates:
                continue
            invoice = self.invoices[self.rng.choice(candidates)]
            amount = min(c.remaining, invoice.budget, self.rng.randrange(100, 20_000))
            c.remaining -= amount
            invoice.budget -= amount
            c.invoices.add(invoice.id)
            return Command("allocate", key, f"/v1/payments/{c.id}/allocations", {
                "allocations": [{"invoice_id": invoice.id, "amount_minor": amount}]},
                {"payment_id": c.id, "invoice_id": invoice.id, "amount": amount})
        return None

    def _dispute(self, key: str) -> Command | None:
        invoice = self._open_invoice(2_000)
        if invoice is None or invoice.id in self.disputed:
            return None
        self.disputed.add(invoice.id)  # one dispute per invoice: a second one is refused while it is open
        amount = self.rng.randrange(100, 1_000)
        invoice.budget -= amount
        return Command("dispute", key, f"/v1/invoices/{invoice.id}/disputes", {
            "amount_minor": amount, "reason": f"disputed by {key}"}, {"invoice_id": invoice.id, "amount": amount})

    def _credit(self, key: str) -> Command | None:
        invoice = self._open_invoice(2_000)
        if invoice is None:
            return None
        amount = self.rng.randrange(100, 2_000)
        invoice.budget -= amount
        return Command("credit", key, f"/v1/invoices/{invoice.id}/credit-notes", {
            "amount_minor": amount, "reason": f"credited by {key}", "series": CREDIT_SERIES},
            {"invoice_id": invoice.id, "amount": amount})

    # Answers ----------------------------------------------------------------------------------------------------
    def acknowledge(self, command: Command) -> None:
        answer = command.answer or {}
        with self.lock:
            if command.kind == "register":
                self.customers.append(answer["id"])
                self.by_customer[answer["id"]] = []
            elif command.kind == "issue":
                customer = command.context["customer_id"]
                self.invoices[answer["id"]] = Invoice(answer["id"], customer, answer["number"],
                                                      command.context["total"])
                self.by_customer[customer].append(answer["id"])
            elif command.kind == "pay" and not command.context["allocations"]:
                self.cash[answer["id"]] = Cash(answer["id"], command.context["customer_id"],
                                               command.context["amount"])


@dataclass
class ClientFigures:
    attempts: int = 0
    retries: int = 0
    parked: int = 0


def run_client(book: Book, urls: list[str], stop: threading.Event, drain_until: list[float],
               figures: ClientFigures, seed: int) -> None:
    """Send commands until `stop`, then retry what is pending until none is left or `drain_until[0]` passes."""
    rng = random.Random(seed)
    pending: list[Command] = []
    clients = [httpx.Client(base_url=url, timeout=TIMEOUT, headers=AUTH_HEADERS) for url in urls]
    try:
        while True:
            now = time.monotonic()
            if stop.is_set() and (not pending or now > drain_until[0]):
                return
            due = [c for c in pending if c.next_at <= now]
            if due:
                command = due[0]
            elif not stop.is_set() and len(pending) < MAX_PARKED:
                maybe = book.new_command()
                if maybe is None:
                    continue
                command = maybe
                pending.append(command)
            else:
                time.sleep(0.05)
                continue
            if _attempt(rng.choice(clients), command, figures, rng):
                pending.remove(command)
                if command.acknowledged:
                    book.acknowledge(command)
    finally:
        for client in clients:
            client.close()


def _attempt(client: httpx.Client, command: Command, figures: ClientFigures, rng: random.Random) -> bool:
    """One try; True when the command has its final answer."""
    figures.attempts += 1
    figures.retries += command.attempts > 0
    command.attempts += 1
    try:
        response = client.post(command.path, json=command.body, headers={"Idempotency-Key": command.key})
    except httpx.TransportError as e:
        command.errors[type(e).__name__] += 1
        command.in_doubt = True
        command.next_at = time.monotonic() + rng.uniform(0.1, 0.5)
        return False
    status = response.status_code
    if status < 300 or (400 <= status < 500 and status not in (408, 409, 429)) or (
            status == 409 and not _in_flight(response)):
        command.status = status
        command.answer = response.json() if response.content else None
        return True
    command.errors[str(status)] += 1
    if status >= 500:
        command.in_doubt = True
    if _in_flight(response):
        figures.parked += 1
        command.next_at = time.monotonic() + rng.uniform(2.0, 4.0)
    else:
        command.next_at = time.monotonic() + rng.uniform(0.1, 0.5)
    return False


def _in_flight(response: httpx.Response) -> bool:
    try:
        return response.status_code == 409 and str(response.json().get("type", "")).endswith(IN_FLIGHT)
    except ValueError:
        return False
