"""Dunning end to end on PostgreSQL: two real `ar worker` processes, a real SMTP server (aiosmtpd), 120 days.

The test process shares the simulated time with the workers through a clock file and moves it day by day from
2 March 2026. Each day it waits until the workers have swept what was due and delivered it, then moves on. Three
debtors, one per kind, each with its own story:

* a public buyer (Mairie): a dispute on the whole invoice pauses it; its resolution re-anchors the schedule;
* a professional (Boulangerie): two invoices reminded together in one message; a partial payment re-anchors the
  first; the second is paid at the moment a sweep is due to remind it (either the reminder is decided first and
  the payment after, or there is no reminder: never a reminder decided after the payment);
* a private individual (Dupont): a promise to pay, broken, resumes one step firmer.

Mid-way, one worker is SIGKILLed right after the clock moves to a busy day and a fresh one started. At the end,
every email arrived exactly once, in the expected order, on the expected day.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa
from tests.support.servers import ar_command, smtp_sink

from ar.adapters.clocks import SharedFileClock
from ar.application.receivables import new_id
from ar.config import Settings
from ar.domain.clock import BUSINESS_TZ
from ar.domain.customer import Language
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine
from ar.projections.dunning_tables import dunning_agenda, reminder_deliveries
from ar.projections.tables import projection_positions
from ar.runtime import Runtime, build

ROOT = Path(__file__).resolve().parents[2]
START = date(2026, 3, 2)
DAYS = 120
DUE = date(2026, 3, 31)
SETTLE_TIMEOUT_S = 60.0


@dataclass
class Mail:
    day: date
    to: str
    subject: str
    message_id: str


class Inbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.day = START

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append(Mail(self.day, str(message["To"]), str(message["Subject"]), str(message["Message-ID"])))
        return "250 OK"


class Workers:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs = [self._start(0), self._start(1)]

    def _start(self, n: int) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{n}.log").open("ab") as log:
            return subprocess.Popen([*ar_command(), "worker"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill_and_restart(self, n: int) -> None:
        os.killpg(self.procs[n].pid, signal.SIGKILL)
        self.procs[n].wait(timeout=10)
        self.procs[n] = self._start(n)

    def stop(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    with smtp_sink(box) as port:
        yield box, port


def settled(runtime: Runtime, day: date, now: datetime) -> bool:
    """Workers caught up with everything recorded, nothing due today left, nothing waiting for delivery."""
    head = runtime.projections.head()
    with runtime.engine.connect() as conn:
        positions = conn.scalars(sa.select(projection_positions.c.position)).all()
        if len(positions) < 3 or min(positions) < head:
            return False
        if runtime.app.ports.calendar.is_business_day(day) and conn.scalar(
                sa.select(sa.func.count()).select_from(dunning_agenda).where(dunning_agenda.c.next_on <= day)):
            return False
        return not conn.scalar(sa.select(sa.func.count()).select_from(reminder_deliveries).where(
            reminder_deliveries.c.state.in_(["pending", "sending"]), reminder_deliveries.c.next_attempt_at <= now))


def test_120_days_of_dunning_with_two_workers_and_a_real_smtp_server(
        pg_database: str, tmp_path: Path, inbox: tuple[Inbox, int]) -> None:
    box, port = inbox
    clock_file = tmp_path / "clock"
    at_nine = datetime.combine(START, clock_time(9), tzinfo=BUSINESS_TZ)
    env = {**os.environ, "AR_DATABASE_URL": pg_database, "AR_SIMULATED_CLOCK": "true",
           "AR_CLOCK_FILE": str(clock_file), "AR_SMTP_HOST": "127.0.0.1", "AR_SMTP_PORT": str(port),
           "AR_SWEEP_INTERVAL_S": "0.2", "AR_DELIVERY_INTERVAL_S": "0.2", "AR_PROJECTION_INTERVAL_S": "0.1",
           "AR_POOL_SIZE": "4", "AR_OUTBOX_DIR": str(tmp_path / "outbox"), "PYTHONUNBUFFERED": "1"}
    clock = SharedFileClock(clock_file, at_nine)
    runtime = build(Settings(database_url=pg_database, pool_size=4, run_dunning=False, run_projections=False,
                             simulated_clock=True, clock_file=clock_file), clock)
    app = runtime.app

    def customer(name: str, kind: CustomerKind, email: str) -> Any:
        return app.register_customer(customer_id=uuid4(), name=name, kind=kind, country="FR", language=Language.FR,
                                     emails=[email], terms=PaymentTerms(), credit_limit=None,
                                     external_id=None).aggregate

    def invoice(customer_id: Any, minor: int) -> Any:
        total = Money(minor, "EUR")
        return app.issue_invoice(invoice_id=uuid4(), series="F2026", customer_id=customer_id, total=total,
                                 vat=[VatLine(Decimal(0), total, Money(0, "EUR"))], due_on=DUE).aggregate

    def pay(customer_id: Any, invoice_id: Any, minor: int) -> None:
        app.record_payment(payment_id=new_id("payment"), customer_id=customer_id, amount=Money(minor, "EUR"),
                           method=PaymentMethod.TRANSFER, allocations=[(invoice_id, Money(minor, "EUR"))])

    mairie = customer("Mairie de Lyon", CustomerKind.PUBLIC, "factures@mairie.example")
    martin = customer("Boulangerie Martin", CustomerKind.PROFESSIONAL, "compta@martin.example")
    dupont = customer("Jean Dupont", CustomerKind.INDIVIDUAL, "jean@dupont.example")
    p1 = invoice(mairie.id, 1_000_000)
    a1, a2 = invoice(martin.id, 500_000), invoice(martin.id, 200_000)
    i1 = invoice(dupont.id, 80_000)
    dispute = uuid4()

    workers = Workers(env, tmp_path)
    try:
        for n in range(DAYS):
            day = START + timedelta(days=n)
            now = datetime.combine(day, clock_time(9), tzinfo=BUSINESS_TZ)
            box.day = day
            clock.set(now)
            if day == date(2026, 4, 21):  # A2's second reminder is due today: pay it as the sweep runs
                pay(martin.id, a2.id, 200_000)
            if day == date(2026, 4, 5):
                app.open_dispute(p1.id, dispute_id=dispute, amount=None, reason="service not rendered")
            if day == date(2026, 4, 10):
                app.promise_payment(i1.id, promise_id=uuid4(), promised_on=date(2026, 4, 24), amount=None)
            if day == date(2026, 4, 15):
                pay(martin.id, a1.id, 200_000)
            if day == date(2026, 4, 20):
                app.resolve_dispute(p1.id, dispute_id=dispute, outcome="rejected: service rendered")
            if day == date(2026, 5, 7):  # a busy day: kill a worker as it sweeps
                time.sleep(0.1)
                workers.kill_and_restart(0)
            deadline = time.monotonic() + SETTLE_TIMEOUT_S
            while not settled(runtime, day, now.astimezone()):
                assert workers.alive(), "a worker died"
                assert time.monotonic() < deadline, f"the workers did not settle {day}"
                time.sleep(0.05)
        _check(box, [e["type"] for e in app.history(a2.id)])
    finally:
        workers.stop()
        runtime.close()


def _check(box: Inbox, history: list[str]) -> None:
    ids = [m.message_id for m in box.mails]
    assert len(ids) == len(set(ids)), "an email was sent twice"

    def sent(to: str) -> list[tuple[date, str]]:
        return [(m.day, m.subject) for m in box.mails if m.to.endswith(to)]

    assert "DunningStepTaken" not in history[history.index("PaymentAllocated"):], "reminded after the payment"
    a2_reminded_on_the_21st = history.count("DunningStepTaken") == 3  # courtesy, reminder-1, reminder-2
    assert [d for d, _ in sent("mairie.example")] == [
        date(2026, 3, 24), date(2026, 4, 30), date(2026, 5, 20), date(2026, 6, 4), date(2026, 6, 19)]
    assert [d for d, _ in sent("dupont.example")] == [
        date(2026, 3, 30), date(2026, 4, 7), date(2026, 4, 27), date(2026, 5, 7), date(2026, 5, 18)]
    martin_days = [d for d, _ in sent("martin.example")]
    expected = [date(2026, 3, 26), date(2026, 4, 7), date(2026, 4, 29), date(2026, 5, 13), date(2026, 5, 26)]
    if a2_reminded_on_the_21st:
        expected.insert(2, date(2026, 4, 21))
    assert martin_days == expected
    for to in ("mairie.example", "martin.example", "dupont.example"):
        subjects = [subject.lower() for _, subject in sent(to)]
        assert "mise en demeure" in subjects[-1] and "mise en demeure" not in subjects[0]
