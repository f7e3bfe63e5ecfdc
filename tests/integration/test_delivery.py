"""Reminder delivery against real servers (aiosmtpd, an HTTP receiver checking Standard Webhooks signatures), on
SQLite and PostgreSQL: each reminder is delivered once, failures are retried with backoff as the clock moves, a send
interrupted by a crash is never repeated, and two workers racing deliver each reminder exactly once."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from standardwebhooks import Webhook
from tests.integration.conftest import Desk, run_together
from tests.support.einvoices import Sample, factur_x, ubl
from tests.support.servers import free_port

from ar.adapters.clocks import SettableClock
from ar.adapters.einvoices import read_einvoice
from ar.adapters.invoice_documents import InvoiceDocuments
from ar.application.einvoices import Document
from ar.config import Settings
from ar.delivery.channels import Channel, OutboxChannel, SmtpChannel, WebhookChannel
from ar.delivery.worker import BACKOFF, INTERRUPTED, DeliveryWorker, build_delivery
from ar.domain.clock import BUSINESS_TZ
from ar.domain.invoice import Invoice
from ar.domain.reminder import Reminder
from ar.projections.dunning_tables import reminder_deliveries
from ar.runtime import Runtime

SECRET = "whsec_" + base64.b64encode(b"a-test-secret-of-32-bytes-long!!").decode()


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()
        self.delay_s = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay_s)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def ids(self) -> list[str]:
        return [str(m["X-AR-Reminder-Id"]) for _, m in self.messages]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port, self.inbox = port, Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A port where nothing listens yet; `start()` brings the server up."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


class WebhookReceiver:
    """A real HTTP server; it verifies every signature and answers with the next status of `statuses`."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received, self.rejected = statuses, [], 0
        self.verifier = Webhook(SECRET)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = receiver.verifier.verify(body, headers)
                except Exception:
                    receiver.rejected += 1
                    status = 401
                else:
                    receiver.received.append((headers, payload))
                    status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/reminders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[Any]:
    made: list[WebhookReceiver] = []

    def make(statuses: list[int] | None = None) -> WebhookReceiver:
        made.append(WebhookReceiver(statuses or []))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def line(invoice_id: UUID, number: str) -> dict[str, Any]:
    return {"invoice_id": str(invoice_id), "number": number, "issued_on": "2026-01-15",
            "due_on": "2026-02-14", "days_late": 16, "step_key": "r1", "step_kind": "reminder",
            "stage": "2/6", "currency": "EUR", "total_minor": 120000, "open_minor": 120000,
            "disputed_minor": 0, "remindable_minor": 120000,
            "structured_reference": "RF47F2026000042", "penalty": None}


def content(reminder_id: UUID, *, template: str, channel: str, language: str, customer_id: UUID,
            run_on: date, invoices: list[tuple[UUID, str]] | None = None) -> dict[str, Any]:
    return {"reminder_id": str(reminder_id), "run_on": run_on.isoformat(), "channel": channel,
            "step_kind": "reminder", "template": template, "language": language,
            "customer": {"id": str(customer_id), "name": "Boulangerie Martin SARL", "kind": "professional",
                         "country": "FR", "emails": ["compta@martin.example"]},
            "creditor": {"name": "Atelier Durand SAS", "email": "compta@durand.example"},
            "lines": [line(i, n) for i, n in invoices or [(uuid4(), "F2026-000042")]],
            "totals": [{"currency": "EUR", "remindable_minor": 120000, "penalties_minor": 0, "total_minor": 120000}],
            "notice_deadline_on": None, "states_penalties": False}


def decide(runtime: Runtime, *, channel: str = "email", template: str = "reminder-1", language: str = "fr",
           recipients: list[str] | None = None, content_hash: str | None = None,
           invoices: list[tuple[UUID, str]] | None = None) -> Reminder:
    """A decided reminder, as a dunning run records it, and its row in the delivery queue (the projection's)."""
    rid, customer_id, run_on = uuid4(), uuid4(), runtime.clock.today()
    body = content(rid, template=template, channel=channel, language=language, customer_id=customer_id,
                   run_on=run_on, invoices=invoices)
    rendered = runtime.app.ports.renderer.render(template, language, body)
    reminder = Reminder(id=rid, customer_id=customer_id, run_on=run_on, channel=channel, step_kind="reminder",
                        template=template, template_version=rendered.template_version, language=language,
                        recipients=["compta@martin.example"] if recipients is None else recipients, content=body,
                        policy_id=uuid4(), policy_version=1, content_hash=content_hash or rendered.content_hash,
                        at=runtime.clock.now())
    runtime.app.save(reminder)
    runtime.projections.catch_up()
    return reminder


def with_smtp(runtime: Runtime, port: int, **extra: Any) -> Settings:
    return runtime.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, **extra})


def worker(runtime: Runtime, settings: Settings, channels: dict[str, Channel] | None = None,
           **kwargs: Any) -> DeliveryWorker:
    return DeliveryWorker(runtime.app, runtime.engine, settings, runtime.clock, runtime.app.ports.renderer, channels,
                          **kwargs)


def row(runtime: Runtime, reminder_id: UUID) -> dict[str, Any]:
    with runtime.engine.connect() as conn:
        found = conn.execute(sa.select(reminder_deliveries).where(
            reminder_deliveries.c.reminder_id == reminder_id)).mappings().one()
    return dict(found)


def test_a_reminder_is_emailed_once_with_text_html_and_a_stable_message_id(
        runtime: Runtime, smtp: SmtpServer, clock: SettableClock) -> None:
    reminder = decide(runtime)
    delivery = worker(runtime, with_smtp(runtime, smtp.port))
    assert delivery.run_once() == 1
    clock.advance(timedelta(days=3))
    assert delivery.run_once() == 0
    assert len(smtp.inbox.messages) == 1
    recipients, email = smtp.inbox.messages[0]
    assert recipients == ["compta@martin.example"]
    domain = runtime.settings.creditor_email.rpartition("@")[2]
    assert email["Message-ID"] == f"<reminder-{reminder.id}@{domain}>"
    assert email["Reply-To"] == runtime.settings.creditor_email
    assert email.get_content_type() == "multipart/alternative"
    text = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert text is not None and html is not None
    assert "F2026-000042" in text.get_content() and "1\u00a0200,00\u00a0€" in text.get_content()
    assert "<table" in html.get_content()
    stored = runtime.app.get_reminder(reminder.id)
    assert stored.state == "delivered" and stored.delivered is not None
    assert stored.delivered.attempt == 1 and "accepted" in stored.delivered.detail
    assert "templates changed" not in stored.delivered.detail
    assert row(runtime, reminder.id)["state"] == "delivered"
    runtime.projections.catch_up()
    assert row(runtime, reminder.id)["state"] == "delivered"


def test_smtp_down_is_retried_with_backoff_and_delivered_once_the_clock_reaches_the_retry(
        runtime: Runtime, smtp_down: SmtpServer, clock: SettableClock) -> None:
    reminder = decide(runtime)
    delivery = worker(runtime, with_smtp(runtime, smtp_down.port))
    started = clock.now()
    assert delivery.run_once() == 1
    failed = runtime.app.get_reminder(reminder.id)
    assert [(f.attempt, f.final, f.retry_at) for f in failed.failures] == [(1, False, started + BACKOFF[0])]
    queued = row(runtime, reminder.id)
    assert (queued["state"], queued["attempts"]) == ("pending", 1) and "smtp" in queued["last_error"]

    clock.advance(BACKOFF[0] - timedelta(seconds=1))
    assert delivery.run_once() == 0  # not due yet
    clock.advance(timedelta(seconds=1))
    assert delivery.run_once() == 1  # still down: the second wait is longer
    assert runtime.app.get_reminder(reminder.id).failures[-1].retry_at == clock.now() + BACKOFF[1]

    smtp_down.start()
    clock.advance(BACKOFF[1])
    assert delivery.run_once() == 1
    assert delivery.run_once() == 0
    assert smtp_down.inbox.ids() == [str(reminder.id)]
    delivered = runtime.app.get_reminder(reminder.id)
    assert delivered.delivered is not None and delivered.delivered.attempt == 3
    assert row(runtime, reminder.id)["state"] == "delivered"


def test_after_six_failed_attempts_the_delivery_is_abandoned(
        runtime: Runtime, smtp_down: SmtpServer, clock: SettableClock) -> None:
    reminder = decide(runtime)
    delivery = worker(runtime, with_smtp(runtime, smtp_down.port))
    for wait in (timedelta(0), *BACKOFF):
        clock.advance(wait)
        assert delivery.run_once() == 1
    failures = runtime.app.get_reminder(reminder.id).failures
    assert [f.final for f in failures] == [False] * 5 + [True]
    assert failures[-1].retry_at is None
    assert runtime.app.get_reminder(reminder.id).state == "failed"
    assert row(runtime, reminder.id)["state"] == "failed"
    clock.advance(timedelta(days=7))
    smtp_down.start()
    assert delivery.run_once() == 0
    assert smtp_down.inbox.messages == []


def test_a_customer_without_an_email_address_fails_at_once_without_retries(
        runtime: Runtime, smtp: SmtpServer) -> None:
    reminder = decide(runtime, recipients=[])
    assert worker(runtime, with_smtp(runtime, smtp.port)).run_once() == 1
    failures = runtime.app.get_reminder(reminder.id).failures
    assert len(failures) == 1 and failures[0].final and "no recipient" in failures[0].error
    assert row(runtime, reminder.id)["state"] == "failed"
    assert smtp.inbox.messages == []


def test_a_send_interrupted_by_a_crash_is_not_repeated_but_marked_failed_for_a_person(
        runtime: Runtime, smtp: SmtpServer, clock: SettableClock) -> None:
    interrupted, untouched = decide(runtime), decide(runtime)
    with runtime.engine.begin() as conn:  # a worker claimed both, then died; one claim is still running
        for reminder, until in ((interrupted, clock.now() - timedelta(seconds=1)),
                                (untouched, clock.now() + timedelta(minutes=5))):
            conn.execute(reminder_deliveries.update().where(reminder_deliveries.c.reminder_id == reminder.id)
                         .values(state="sending", attempts=1, claimed_until=until, claimed_by="dead-worker"))
    delivery = worker(runtime, with_smtp(runtime, smtp.port), lease_clock=clock)
    assert delivery.run_once() == 1
    assert smtp.inbox.messages == []
    failed = runtime.app.get_reminder(interrupted.id)
    assert failed.state == "failed" and failed.failures[-1].error == INTERRUPTED and failed.failures[-1].final
    assert row(runtime, interrupted.id)["state"] == "failed"
    assert row(runtime, untouched.id)["state"] == "sending"  # its claim still runs: left alone
    clock.advance(timedelta(hours=1))
    assert delivery.run_once() == 1
    assert smtp.inbox.messages == []
    assert runtime.app.get_reminder(untouched.id).failures[-1].error == INTERRUPTED


def test_two_workers_racing_deliver_each_reminder_exactly_once(
        runtime: Runtime, second_runtime: Runtime, smtp: SmtpServer) -> None:
    first = worker(runtime, with_smtp(runtime, smtp.port), batch_size=3)
    second = DeliveryWorker(second_runtime.app, second_runtime.engine, with_smtp(runtime, smtp.port),
                            second_runtime.clock, second_runtime.app.ports.renderer, batch_size=3)
    assert first.run_once() == second.run_once() == 0  # both connected: neither starts late
    reminders = [decide(runtime) for _ in range(24)]
    smtp.inbox.delay_s = 0.05  # a send takes a while, as it does over a network
    handled: list[int] = []
    outcomes = run_together(lambda: handled.append(first.run_once()), lambda: handled.append(second.run_once()))
    assert outcomes == [None, None]
    assert sum(handled) == len(reminders) and all(handled)  # both took a share
    assert sorted(smtp.inbox.ids()) == sorted(str(r.id) for r in reminders)
    for r in reminders:
        stored = runtime.app.get_reminder(r.id)
        assert stored.delivered is not None and stored.failures == []
        assert row(runtime, r.id)["state"] == "delivered"


def test_a_signed_webhook_is_delivered_once_and_a_server_error_is_retried(
        runtime: Runtime, webhook_receiver: Any, clock: SettableClock) -> None:
    receiver = webhook_receiver([503])
    settings = runtime.settings.model_copy(update={"dunning_webhook_url": receiver.url,
                                                   "dunning_webhook_secret": SECRET})
    reminder = decide(runtime, channel="webhook", language="en")
    delivery = build_delivery(settings, runtime.app, runtime.engine, clock)
    assert delivery.run_once() == 1
    assert runtime.app.get_reminder(reminder.id).failures[0].error.startswith(f"webhook {receiver.url}: 503")
    clock.advance(BACKOFF[0])
    assert delivery.run_once() == 1
    assert delivery.run_once() == 0
    assert receiver.rejected == 0 and len(receiver.received) == 2
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert ids == {str(reminder.id)}  # the same id on each attempt: the receiver can drop a duplicate
    payload = receiver.received[-1][1]
    assert payload["type"] == "reminder.sent"
    assert payload["data"]["reminder_id"] == str(reminder.id)
    assert payload["data"]["lines"][0]["number"] == "F2026-000042"
    assert payload["data"]["subject"].startswith("Reminder: invoice F2026-000042")
    assert "€1,200.00" in payload["data"]["text"]
    stored = runtime.app.get_reminder(reminder.id)
    assert stored.delivered is not None and stored.delivered.attempt == 2
    assert row(runtime, reminder.id)["state"] == "delivered"


def test_a_webhook_refused_with_a_client_error_is_not_retried(
        runtime: Runtime, webhook_receiver: Any, clock: SettableClock) -> None:
    receiver = webhook_receiver([410])
    reminder = decide(runtime, channel="webhook")
    channels: dict[str, Channel] = {"webhook": WebhookChannel(receiver.url, SECRET, clock)}
    assert worker(runtime, runtime.settings, channels).run_once() == 1
    failures = runtime.app.get_reminder(reminder.id).failures
    assert len(failures) == 1 and failures[0].final and "410" in failures[0].error
    assert row(runtime, reminder.id)["state"] == "failed"


def test_without_smtp_a_letter_goes_to_the_outbox_as_an_email_and_a_printable_pdf(
        runtime: Runtime, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    settings = runtime.settings.model_copy(update={"smtp_host": None, "outbox_dir": outbox})
    letter = decide(runtime, channel="letter", template="formal-notice")
    email = decide(runtime)
    delivery = build_delivery(settings, runtime.app, runtime.engine, runtime.clock)
    assert isinstance(delivery.channels["letter"], OutboxChannel)
    assert delivery.run_once() == 2
    day = runtime.clock.today().isoformat()
    assert sorted(p.name for p in outbox.iterdir()) == sorted(
        [f"{day}_{letter.id}.eml", f"{day}_{letter.id}.pdf", f"{day}_{email.id}.eml"])
    pdf = (outbox / f"{day}_{letter.id}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    message = message_from_bytes((outbox / f"{day}_{letter.id}.eml").read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    attachments = [part.get_filename() for part in message.iter_attachments()]
    assert attachments == [f"{day}_{letter.id}.pdf"]
    body = message.get_body(("plain",))
    assert body is not None and "mise en demeure" in body.get_content().lower()
    assert runtime.app.get_reminder(letter.id).delivered is not None


def test_with_smtp_a_letter_is_emailed_with_its_pdf(runtime: Runtime, smtp: SmtpServer) -> None:
    letter = decide(runtime, channel="letter", template="formal-notice", language="en")
    delivery = build_delivery(with_smtp(runtime, smtp.port), runtime.app, runtime.engine, runtime.clock)
    assert isinstance(delivery.channels["letter"], SmtpChannel)
    assert delivery.run_once() == 1
    (_, email), = smtp.inbox.messages
    assert email.get_content_type() == "multipart/mixed" and email["X-AR-Reminder-Id"] == str(letter.id)
    (pdf,) = list(email.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF-")
    assert pdf.get_filename() == f"{letter.run_on.isoformat()}_{letter.id}.pdf"


def test_a_reminder_decided_with_older_templates_is_sent_as_rendered_now_and_says_so(
        runtime: Runtime, smtp: SmtpServer) -> None:
    reminder = decide(runtime, content_hash="0" * 64)
    assert worker(runtime, with_smtp(runtime, smtp.port)).run_once() == 1
    assert len(smtp.inbox.messages) == 1
    delivered = runtime.app.get_reminder(reminder.id).delivered
    assert delivered is not None and "templates changed since the decision" in delivered.detail


def test_a_reminder_decided_by_a_dunning_run_is_delivered_as_it_was_rendered(
        runtime: Runtime, desk: Desk, smtp: SmtpServer, clock: SettableClock) -> None:
    """The application's content fits the templates: the hash at delivery equals the hash of the decision."""
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 250_000, due_on=date(2026, 3, 31))
    delivery = worker(runtime, with_smtp(runtime, smtp.port))
    day = clock.today()
    while not smtp.inbox.messages and day < date(2026, 5, 31):
        clock.set(datetime.combine(day, time(9, 0), tzinfo=BUSINESS_TZ))
        runtime.sweeper.sweep()
        runtime.projections.catch_up()
        delivery.run_once()
        day += timedelta(days=1)
    (_, email), = smtp.inbox.messages[:1]
    reminder = runtime.app.get_reminder(UUID(str(email["X-AR-Reminder-Id"])))
    assert reminder.delivered is not None and "templates changed" not in reminder.delivered.detail
    body = email.get_body(("plain",))
    assert body is not None and invoice.number in body.get_content()
    assert json.dumps(reminder.content)  # JSON primitives only


def test_the_background_worker_delivers_on_its_own_and_stops_cleanly(runtime: Runtime, tmp_path: Path) -> None:
    settings = runtime.settings.model_copy(update={"smtp_host": None, "outbox_dir": tmp_path / "outbox"})
    reminder = decide(runtime)
    delivery = build_delivery(settings, runtime.app, runtime.engine, runtime.clock)
    delivery.start(interval_s=0.05)
    try:
        for _ in range(200):
            if row(runtime, reminder.id)["state"] == "delivered":
                break
            threading.Event().wait(0.05)
    finally:
        delivery.stop()
    assert row(runtime, reminder.id)["state"] == "delivered"
    assert [p.suffix for p in (tmp_path / "outbox").iterdir()] == [".eml"]


def test_a_claim_is_a_wall_clock_lease_so_a_simulated_clock_running_fast_never_expires_a_send_in_progress(
        runtime: Runtime, smtp: SmtpServer, clock: SettableClock) -> None:
    """A simulated clock jumping days between two looks must not make a live worker's send look interrupted."""
    reminder = decide(runtime)
    with runtime.engine.begin() as conn:  # a live worker is sending it now
        conn.execute(reminder_deliveries.update().where(reminder_deliveries.c.reminder_id == reminder.id)
                     .values(state="sending", attempts=1, claimed_by="live-worker",
                             claimed_until=datetime.now(UTC) + timedelta(minutes=10)))
    clock.advance(datetime.now(UTC) - clock.now() + timedelta(days=3))  # simulated time runs ahead of the claim
    assert worker(runtime, with_smtp(runtime, smtp.port)).run_once() == 0
    assert row(runtime, reminder.id)["state"] == "sending"
    assert runtime.app.get_reminder(reminder.id).failures == []


def imported(runtime: Runtime, document: bytes, media_type: str) -> Invoice:
    """An invoice recorded from its e-invoice, the document kept as the import endpoint keeps it."""
    digest = InvoiceDocuments(runtime.engine).keep(document, media_type, runtime.clock.now())
    return runtime.app.import_einvoice(read_einvoice(document, media_type),
                                       Document(digest, media_type, None)).aggregate


def test_a_reminder_attaches_the_e_invoice_each_of_its_invoices_came_in_as_byte_for_byte(
        runtime: Runtime, desk: Desk, smtp: SmtpServer) -> None:
    pdf, xml = factur_x(Sample(number="FA-2026-0107")), ubl(Sample(number="FA/2026/0108"))
    from_pdf, from_xml = imported(runtime, pdf, "application/pdf"), imported(runtime, xml, "text/xml")
    keyed = desk.invoice(desk.customer().id, 1_000)  # issued here, not from a document: nothing to attach
    reminder = decide(runtime, invoices=[(from_pdf.id, from_pdf.number), (keyed.id, keyed.number),
                                         (from_xml.id, from_xml.number), (from_pdf.id, from_pdf.number)])
    assert worker(runtime, with_smtp(runtime, smtp.port)).run_once() == 1

    (_, email), = smtp.inbox.messages
    assert email.get_content_type() == "multipart/mixed"
    attached = [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True)) for a in email.iter_attachments()]
    assert attached == [("FA-2026-0107.pdf", "application/pdf", pdf), ("FA_2026_0108.xml", "application/xml", xml)]
    assert email.get_body(("plain",)) is not None and email.get_body(("html",)) is not None
    delivered = runtime.app.get_reminder(reminder.id).delivered
    assert delivered is not None and delivered.detail.endswith("attached FA-2026-0107.pdf, FA_2026_0108.xml")


def test_a_letter_carries_the_e_invoice_after_its_own_pdf(runtime: Runtime, smtp: SmtpServer) -> None:
    xml = ubl(Sample(number="FA-2026-0200"))
    invoice = imported(runtime, xml, "application/xml")
    letter = decide(runtime, channel="letter", template="formal-notice", language="en",
                    invoices=[(invoice.id, invoice.number)])
    assert worker(runtime, with_smtp(runtime, smtp.port)).run_once() == 1
    (_, email), = smtp.inbox.messages
    own, document = email.iter_attachments()
    assert own.get_filename() == f"{letter.run_on.isoformat()}_{letter.id}.pdf"
    assert (document.get_filename(), document.get_content_type()) == ("FA-2026-0200.xml", "application/xml")
    assert document.get_payload(decode=True) == xml
