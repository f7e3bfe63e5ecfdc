"""A realistic receivables history, built through the event store with the real domain (bench/readmodels.py).

Customers first, then day by day over ~18 months up to `today`: that day's invoices (`Invoice.issue`, numbered by a
yearly `NumberingSeries`), then what happens to earlier invoices on that day: payments (`Payment.receive` +
`allocation.allocate`, several invoices per payment when a customer pays them together), partial payments, credit
notes (numbered by a yearly credit-note series), returned direct debits, write-offs. Nothing happens after `today`,
so nothing takes effect after it (the aging fast path applies as of today).

Many aggregates are saved per transaction (`app.save(*aggregates)`, the series aggregates first, as
`Receivables.issue_invoice` does); a per-command save would take hours for a million invoices.

Fates of an invoice (drawn at issue):
* 80% paid in full: 55% within 10 days before the due date, 30% 1-45 days late, 15% 46-150 days late; customers
  who pay monthly (20%) pay everything due on the 10th of the next month in one transfer;
* 8% paid partly (30-70%), half of them pay the rest 30-120 days later;
* 1.5% get a credit note at 3-40 days (a third cancel the invoice, the rest a 5-30% discount), then the rest is
  paid like the first group;
* 0.5% written off 180-300 days after the due date;
* the rest (~10%) never paid.
Invoices whose payment would fall after `today` are still open: the recent months are mostly open, as in life.
0.5% of direct debits are returned 5 days later (the invoices reopen) and paid again by transfer 15 days after.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ar.application.receivables import Receivables
from ar.domain import allocation
from ar.domain.clock import BUSINESS_TZ
from ar.domain.customer import Customer, Language
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.reference import creditor_reference
from ar.domain.series import NumberingSeries
from ar.domain.terms import CustomerKind, PaymentTerms, TermsKind
from ar.domain.vat import VatLine

DAY = timedelta(days=1)
VAT_RATES = ((Decimal("20"), 0.85), (Decimal("10"), 0.07), (Decimal("5.5"), 0.05), (Decimal("0"), 0.03))
CURRENCIES = (("EUR", 0.94), ("USD", 0.04), ("GBP", 0.02))
METHODS = ((PaymentMethod.TRANSFER, 0.70), (PaymentMethod.DIRECT_DEBIT, 0.20), (PaymentMethod.CARD, 0.05),
           (PaymentMethod.CHEQUE, 0.05))


@dataclass(frozen=True)
class HistoryConfig:
    invoices: int = 1_000_000
    customers: int = 20_000
    today: date = field(default_factory=lambda: datetime.now(BUSINESS_TZ).date())
    days: int = 548  # ~18 months of issue dates
    batch_events: int = 3000  # save when about this many events are pending
    seed: int = 20261123
    zipf: float = 0.7  # invoices per customer ~ 1 / rank^zipf: a few large debtors, many small ones
    max_seconds: float = 0.0  # stop at the end of the day on which the history took this long (0: no limit)


@dataclass
class CustomerInfo:
    id: UUID
    currency: str
    terms_days: int
    monthly: bool
    weight_rank: int


@dataclass
class HistoryStats:
    today: date
    first_day: date
    customers: list[CustomerInfo]
    counts: Counter[str] = field(default_factory=Counter)  # what was done, by kind
    events: int = 0
    transactions: int = 0
    seconds: float = 0.0
    cut_short: bool = False
    customer_events: int = 0
    customer_seconds: float = 0.0
    invoices_per_customer: Counter[UUID] = field(default_factory=Counter)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "first_day": self.first_day.isoformat(), "events": self.events,
                "cut_short": self.cut_short,
                "transactions": self.transactions, "seconds": round(self.seconds, 1),
                "events_per_s": round(self.events_per_s), "customer_events": self.customer_events,
                "customer_seconds": round(self.customer_seconds, 1), "counts": dict(self.counts),
                "largest_customer_invoices": max(self.invoices_per_customer.values(), default=0)}


@dataclass(slots=True)
class Task:
    kind: str  # pay, partial, credit, write_off, return
    invoice: Invoice | None = None
    fraction: float = 1.0
    payment: Payment | None = None
    invoices: list[Invoice] | None = None


def _pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    r, acc = rng.random(), 0.0
    for value, weight in table:
        acc += weight
        if r < acc:
            return value
    return table[-1][0]


def _at(day: date, hour: int, seconds: int = 0) -> datetime:
    return (datetime.combine(day, clock_time(hour), BUSINESS_TZ) + timedelta(seconds=seconds % 3600))


class _Saver:
    """Collects touched aggregates and saves them many per transaction, the series first."""

    def __init__(self, app: Receivables, batch_events: int, stats: HistoryStats,
                 progress: Callable[[str], None]) -> None:
        self.app, self.batch_events, self.stats, self.progress = app, batch_events, stats, progress
        self.series: dict[str, NumberingSeries] = {}
        self.pending: dict[UUID, Aggregate] = {}
        self.events = 0

    def touch(self, events: int, *aggregates: Aggregate) -> None:
        """Note aggregates changed by a decision that raised about `events` events (counting them all would cost
        more than the decisions)."""
        self.events += events
        for aggregate in aggregates:
            self.pending[aggregate.id] = aggregate

    def series_for(self, name: str) -> NumberingSeries:
        if name not in self.series:
            self.series[name] = NumberingSeries(name=name)
        return self.series[name]

    def maybe_flush(self) -> None:
        if self.events >= self.batch_events:
            self.flush()

    def flush(self) -> None:
        series = [s for s in self.series.values() if s.pending_events]
        if not series and not self.pending:
            return
        recordings = self.app.save(*series, *self.pending.values())
        self.pending.clear()
        self.events = 0
        self.stats.events += len(recordings)
        self.stats.transactions += 1


def _customers(app: Receivables, config: HistoryConfig, rng: random.Random, stats: HistoryStats,
               first_day: date) -> list[CustomerInfo]:
    began = time.perf_counter()
    infos: list[CustomerInfo] = []
    batch: list[Customer] = []
    ranks = list(range(config.customers))
    rng.shuffle(ranks)  # rank 0 is the largest debtor, at a random place in the register
    for i in range(config.customers):
        kind = _pick(rng, ((CustomerKind.PROFESSIONAL, 0.85), (CustomerKind.PUBLIC, 0.10),
                           (CustomerKind.INDIVIDUAL, 0.05)))
        days = _pick(rng, ((30, 0.5), (45, 0.3), (60, 0.2)))
        currency = _pick(rng, CURRENCIES)
        customer = Customer.register(
            id=uuid4(), name=f"Client {i:05d} {rng.choice(['SARL', 'SAS', 'SA', 'GmbH', 'Ltd', 'EURL'])}",
            kind=kind, country=rng.choice(["FR"] * 8 + ["BE", "DE"]), language=rng.choice([Language.FR] * 4 +
                                                                                      [Language.EN]),
            emails=[f"ap{i}@client{i}.example"], terms=PaymentTerms(TermsKind.NET, days), credit_limit=None,
            external_id=f"CUST-{i:05d}", at=_at(first_day - 30 * DAY, 9, i))
        infos.append(CustomerInfo(customer.id, currency, days, rng.random() < 0.2, ranks[i]))
        batch.append(customer)
        if len(batch) >= 1000:
            stats.customer_events += len(app.save(*batch))
            batch.clear()
    if batch:
        stats.customer_events += len(app.save(*batch))
    stats.customer_seconds = time.perf_counter() - began
    return infos


def _issue_counts(config: HistoryConfig, first_day: date, rng: random.Random) -> list[int]:
    """Invoices per day: weekdays carry 10x a weekend day, month ends a little more."""
    weights = []
    for d in range(config.days):
        day = first_day + d * DAY
        w = 0.1 if day.weekday() >= 5 else 1.0
        if (day + DAY).month != day.month:
            w *= 1.5
        weights.append(w * rng.uniform(0.8, 1.2))
    total = sum(weights)
    counts = [int(config.invoices * w / total) for w in weights]
    for d in rng.sample(range(config.days), config.invoices - sum(counts)):
        counts[d] += 1
    return counts


def _amount(rng: random.Random, currency: str) -> tuple[Money, list[VatLine]]:
    rate = _pick(rng, VAT_RATES)
    base_minor = max(500, int(math.exp(rng.gauss(math.log(90_000), 1.1))))  # median 900.00, long tail
    base = Money(base_minor, currency)
    vat = base.apply_rate(rate / 100)
    return base + vat, [VatLine(rate, base, vat)]


def _tenth_after(day: date) -> date:
    nxt = (day.replace(day=1) + 32 * DAY).replace(day=10)
    return day.replace(day=10) if day.day <= 10 else nxt


def generate(app: Receivables, config: HistoryConfig, progress: Callable[[str], None] = print) -> HistoryStats:
    rng = random.Random(config.seed)
    first_day = config.today - (config.days - 1) * DAY
    stats = HistoryStats(today=config.today, first_day=first_day, customers=[])
    stats.customers = _customers(app, config, rng, stats, first_day)
    progress(f"{config.customers:,} customers: {stats.customer_events:,} events in {stats.customer_seconds:.1f} s")
    weights = [1.0 / (info.weight_rank + 1) ** config.zipf for info in stats.customers]
    cumulative = list(itertools.accumulate(weights))
    counts = _issue_counts(config, first_day, rng)
    agenda: defaultdict[date, list[Task]] = defaultdict(list)
    saver = _Saver(app, config.batch_events, stats, progress)
    began = time.perf_counter()
    issued = 0
    next_report = step = max(1, config.invoices // 20)

    def plan(day: date, task: Task) -> None:
        if day <= config.today:
            agenda[day].append(task)

    def pay_date(invoice: Invoice, info: CustomerInfo) -> date:
        r = rng.random()
        delay = rng.randint(-10, 0) if r < 0.55 else rng.randint(1, 45) if r < 0.85 else rng.randint(46, 150)
        on = max(invoice.issued_on, invoice.due_on + delay * DAY)
        return _tenth_after(on) if info.monthly else on

    for d in range(config.days):
        day = first_day + d * DAY
        invoice_series = saver.series_for(f"F{day.year}")
        for k in range(counts[d]):
            info = stats.customers[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
            total, vat = _amount(rng, info.currency)
            at = _at(day, 9, k)
            invoice_id = uuid4()
            number = invoice_series.next_number(invoice_id, at)
            invoice = Invoice.issue(
                id=invoice_id, number=number, series=invoice_series.name, customer_id=info.id,
                kind=InvoiceKind.STANDARD, total=total, vat=vat, issued_on=day, due_on=day + info.terms_days * DAY,
                category=Category.SERVICES if rng.random() < 0.7 else Category.GOODS,
                purchase_order=f"PO-{rng.randint(1000, 999_999)}" if rng.random() < 0.3 else None,
                external_id=None, structured_reference=creditor_reference(number), deposits=[], at=at)
            saver.touch(2, invoice)
            stats.counts["invoices"] += 1
            stats.invoices_per_customer[info.id] += 1
            fate = rng.random()
            if fate < 0.80:
                plan(pay_date(invoice, info), Task("pay", invoice))
            elif fate < 0.88:
                on = max(day, invoice.due_on + rng.randint(0, 60) * DAY)
                plan(on, Task("partial", invoice, fraction=rng.uniform(0.3, 0.7)))
                if rng.random() < 0.5:
                    plan(on + rng.randint(30, 120) * DAY, Task("pay", invoice))
            elif fate < 0.895:
                plan(day + rng.randint(3, 40) * DAY,
                     Task("credit", invoice, fraction=1.0 if rng.random() < 1 / 3 else rng.uniform(0.05, 0.3)))
                plan(pay_date(invoice, info) + 41 * DAY, Task("pay", invoice))
            elif fate < 0.90:
                plan(invoice.due_on + rng.randint(180, 300) * DAY, Task("write_off", invoice))
            saver.maybe_flush()
            issued += 1
            if issued >= next_report:
                next_report += step
                elapsed = time.perf_counter() - began
                progress(f"  {issued:,} invoices ({day}), {stats.events:,} events, "
                         f"{stats.events / elapsed:,.0f} events/s")
        _happen(day, agenda.pop(day, []), saver, stats, rng, plan)
        saver.maybe_flush()
        if config.max_seconds and time.perf_counter() - began > config.max_seconds and day < config.today:
            stats.today, stats.cut_short = day, True  # nothing was recorded after this day
            progress(f"  time limit reached: the history stops on {day} with {issued:,} invoices")
            break
    saver.flush()
    stats.seconds = time.perf_counter() - began
    return stats


def _happen(day: date, tasks: list[Task], saver: _Saver, stats: HistoryStats, rng: random.Random,
            plan: Callable[[date, Task], None]) -> None:
    credit_series = saver.series_for(f"AV{day.year}")
    payments: defaultdict[UUID, list[tuple[Invoice, Money]]] = defaultdict(list)
    for n, task in enumerate(tasks):
        invoice = task.invoice
        if task.kind == "return" and task.payment is not None and task.invoices is not None:
            at = _at(day, 11, n)
            for returned in task.invoices:
                returned.reverse_allocation(task.payment.id, "AM04 insufficient funds", at)
                plan(day + 15 * DAY, Task("pay", returned))
            task.payment.mark_returned(day, "AM04 insufficient funds", at)
            saver.touch(1 + 2 * len(task.invoices), task.payment, *task.invoices)
            stats.counts["returned_payments"] += 1
            continue
        if invoice is None or invoice.open_amount.minor <= 0 or invoice.is_closed:
            continue
        if task.kind == "credit":
            amount = Money(max(1, round(invoice.open_amount.minor * task.fraction)), invoice.currency)
            at = _at(day, 10, n)
            invoice.apply_credit_note(credit_series.next_number(invoice.id, at), amount, day,
                                      "discount" if task.fraction < 1 else "cancelled order", at)
            saver.touch(2, invoice)
            stats.counts["credit_notes"] += 1
        elif task.kind == "write_off":
            invoice.write_off(day, "uncollectable", _at(day, 17, n))
            saver.touch(1, invoice)
            stats.counts["write_offs"] += 1
        else:
            minor = invoice.open_amount.minor
            if task.kind == "partial":
                minor = max(1, round(minor * task.fraction))
            payments[invoice.customer_id].append((invoice, Money(minor, invoice.currency)))
    for k, (customer_id, lines) in enumerate(payments.items()):
        amount = Money(sum(m.minor for _, m in lines), lines[0][1].currency)
        single = len(lines) == 1
        method = _pick(rng, METHODS)
        at = _at(day, 15, k)
        payment = Payment.receive(
            id=uuid4(), customer_id=customer_id, amount=amount, method=method, value_on=day,
            payer_reference=lines[0][0].structured_reference if single and rng.random() < 0.6 else None,
            remittance="Factures " + " ".join(i.number for i, _ in lines), external_id=None, at=at)
        for invoice, money in lines:
            allocation.allocate(payment, invoice, money, at)
        saver.touch(1 + 2 * len(lines), payment, *(i for i, _ in lines))
        stats.counts["payments"] += 1
        stats.counts["allocations"] += len(lines)
        stats.counts["partial_allocations"] += sum(1 for i, _ in lines if i.open_amount.minor > 0)
        if method is PaymentMethod.DIRECT_DEBIT and rng.random() < 0.005:
            plan(day + 5 * DAY, Task("return", payment=payment, invoices=[i for i, _ in lines]))
