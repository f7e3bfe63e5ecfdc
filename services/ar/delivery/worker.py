"""The delivery worker: sends the reminders that dunning runs decided, and records how each delivery went.

Rules:
- The queue is the `reminder_deliveries` table (rows inserted by the dunning projection). A worker claims a batch
  of due rows in one statement (`WITH due AS MATERIALIZED (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) UPDATE ...
  WHERE reminder_id IN (SELECT ... FROM due)` on PostgreSQL; SQLite runs the same UPDATE under its single-writer
  lock), so two workers never claim the same row.
- Due times are the injected clock's, so a test (or `ar demo`) moves time and watches retries happen. Claims are
  leases on the wall clock (`lease_clock`): they say whether the process sending is still alive, which a simulated
  clock running days a second cannot tell (its 10 minutes would pass while a message is on the wire).
- A reminder is never sent twice. A row left in "sending" whose claim expired (the process died during the send)
  is not sent again: it gets a final `DeliveryFailed` saying so, for a person to check and resend by hand.
- A reminder is rendered again at delivery; if the templates changed since the decision (the hash differs), the
  new rendering is sent and the delivery detail says so.
- Failures are retried after 1 min, 5 min, 30 min, 2 h, 12 h; the 6th failed attempt (or a permanent error) is final.
- An invoice the reminder is about that came in as an e-invoice has its document attached (email and letter), read
  at delivery from the kept bytes (`ar.adapters.invoice_documents`); the delivery detail names the files.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa

from ar.adapters.clocks import SystemClock
from ar.adapters.invoice_documents import InvoiceDocuments
from ar.application.ports import ReminderRenderer
from ar.background import BackgroundLoop
from ar.config import Settings
from ar.delivery.channels import Attachment, Channel, DeliveryError, OutboxChannel, SmtpChannel, WebhookChannel
from ar.delivery.renderer import JinjaRenderer
from ar.domain.clock import Clock
from ar.domain.errors import NotFound
from ar.domain.invoice import Invoice
from ar.domain.reminder import Reminder
from ar.projections.dunning_tables import reminder_deliveries as queue

log = logging.getLogger(__name__)

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
MAX_ATTEMPTS = len(BACKOFF) + 1
INTERRUPTED = ("interrupted while sending; not resent automatically to avoid a duplicate; "
               "resend by hand after checking")
SENT_NOT_RECORDED = "sent, delivery not recorded yet: "  # last_error of a row whose send succeeded


class DeliveryApp(Protocol):
    def get_reminder(self, reminder_id: UUID) -> Reminder: ...

    def get_invoice(self, invoice_id: UUID) -> Invoice: ...

    def record_delivery(self, reminder_id: UUID, *, attempt: int, delivered: bool, detail: str, final: bool = False,
                        retry_at: datetime | None = None) -> object: ...


@dataclass(frozen=True)
class Claim:
    reminder_id: UUID
    attempts: int


def default_channels(settings: Settings, clock: Clock) -> dict[str, Channel]:
    """SMTP when a server is configured, else the outbox folder; a letter goes the same way, its PDF attached.
    Phone reminders are tasks, never delivered; webhooks only when a URL and a secret are set."""
    email: Channel = SmtpChannel(settings, clock) if settings.smtp_host else OutboxChannel(settings, clock)
    channels: dict[str, Channel] = {"email": email, "letter": email}
    if settings.dunning_webhook_url and settings.dunning_webhook_secret:
        channels["webhook"] = WebhookChannel(settings.dunning_webhook_url, settings.dunning_webhook_secret, clock)
    return channels


def _utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes: everything in the queue is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DeliveryWorker:
    def __init__(self, app: DeliveryApp, engine: sa.Engine, settings: Settings, clock: Clock,
                 renderer: ReminderRenderer, channels: dict[str, Channel] | None = None, *, batch_size: int = 20,
                 claim_ttl: timedelta = timedelta(minutes=10), worker_id: str | None = None,
                 lease_clock: Clock | None = None) -> None:
        """`claim_ttl` must exceed the longest send (SMTP timeout 60 s, webhook 30 s): past it, a row still in
        "sending" is taken for interrupted. It runs on `lease_clock`, the system clock unless a test says."""
        self.app, self.engine, self.settings, self.clock, self.renderer = app, engine, settings, clock, renderer
        self.lease_clock = lease_clock or SystemClock()
        self.documents = InvoiceDocuments(engine)
        self.channels = channels if channels is not None else default_channels(settings, clock)
        self.batch_size, self.claim_ttl = batch_size, claim_ttl
        self.worker_id = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")[:64]
        self._loop = BackgroundLoop("reminder-delivery", self.run_once, log=log, failed="reminder delivery pass failed")

    # -- running -------------------------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Deliver everything due now; how many rows were handled. Call it from a thread without a running event
        loop (`start()` does)."""
        handled = self._settle_interrupted()
        while claims := self._claim():
            asyncio.run(self._deliver_all(claims))
            handled += len(claims)
        return handled

    def start(self, interval_s: float | None = None) -> None:
        self._loop.start(self.settings.delivery_interval_s if interval_s is None else interval_s)

    def wake(self, *_: object) -> None:
        self._loop.wake()

    def stop(self, timeout_s: float = 90.0) -> None:
        """Waits for the sends in flight: stopping mid-send would leave rows for a person to check."""
        self._loop.stop(timeout_s)

    # -- the queue -----------------------------------------------------------------------------------------------
    def _claim(self) -> list[Claim]:
        now, lease_now = _utc(self.clock.now()), _utc(self.lease_clock.now())
        # A materialized CTE: PostgreSQL may run a plain `IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` once per
        # outer row, each run skipping the rows this very statement already updated, and claim the whole queue.
        due = (sa.select(queue.c.reminder_id)
               .where(queue.c.state == "pending", queue.c.next_attempt_at <= now)
               .order_by(queue.c.next_attempt_at).limit(self.batch_size)
               .with_for_update(skip_locked=True)
               .cte("due").prefix_with("MATERIALIZED"))
        claim = (sa.update(queue)
                 .where(queue.c.reminder_id.in_(sa.select(due.c.reminder_id)), queue.c.state == "pending")
                 .values(state="sending", attempts=queue.c.attempts + 1, claimed_until=lease_now + self.claim_ttl,
                         claimed_by=self.worker_id)
                 .returning(queue.c.reminder_id, queue.c.attempts))
        with self.engine.begin() as conn:
            return [Claim(r.reminder_id, r.attempts) for r in conn.execute(claim)]

    def _finish(self, reminder_id: UUID, *, mine: bool, **values: Any) -> None:
        """Release a row; `mine`: only while this worker still holds the claim (another may have settled it)."""
        stmt = queue.update().where(queue.c.reminder_id == reminder_id)
        if mine:
            stmt = stmt.where(queue.c.state == "sending", queue.c.claimed_by == self.worker_id)
        with self.engine.begin() as conn:
            conn.execute(stmt.values(claimed_until=None, **values))

    def _settle_interrupted(self) -> int:
        """Rows left in "sending" past their claim: their worker died during the send. Each is taken over (one
        conditional UPDATE, so one worker settles it) and closed without sending it again."""
        now = _utc(self.lease_clock.now())
        expired = sa.and_(queue.c.state == "sending", queue.c.claimed_until < now)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(queue.c.reminder_id, queue.c.attempts, queue.c.last_error)
                                .where(expired)).all()
        settled = 0
        for row in rows:
            with self.engine.begin() as conn:
                taken = conn.execute(queue.update().where(queue.c.reminder_id == row.reminder_id, expired)
                                     .values(claimed_until=now + self.claim_ttl, claimed_by=self.worker_id))
            if taken.rowcount != 1:
                continue
            settled += 1
            reminder = self.app.get_reminder(row.reminder_id)
            if reminder.delivered is not None:
                self._finish(row.reminder_id, mine=True, state="delivered", last_error=None)
            elif (row.last_error or "").startswith(SENT_NOT_RECORDED):
                detail = row.last_error.removeprefix(SENT_NOT_RECORDED)
                self.app.record_delivery(row.reminder_id, attempt=row.attempts, delivered=True, detail=detail)
                self._finish(row.reminder_id, mine=True, state="delivered", last_error=None)
            else:
                log.warning("reminder %s was interrupted while sending: not resent", row.reminder_id)
                self.app.record_delivery(row.reminder_id, attempt=max(row.attempts, 1), delivered=False,
                                         detail=INTERRUPTED, final=True)
                self._finish(row.reminder_id, mine=True, state="failed", last_error=INTERRUPTED)
        return settled

    # -- one delivery --------------------------------------------------------------------------------------------
    async def _deliver_all(self, claims: list[Claim]) -> None:
        await asyncio.gather(*(self._deliver(c) for c in claims))

    async def _deliver(self, claim: Claim) -> None:
        rid = claim.reminder_id
        try:
            reminder = await asyncio.to_thread(self.app.get_reminder, rid)
        except Exception as e:  # nothing was sent: put it back for later, without counting an attempt
            log.exception("cannot load reminder %s", rid)
            self._finish(rid, mine=True, state="pending", attempts=claim.attempts - 1, claimed_by=None,
                         next_attempt_at=_utc(self.clock.now()) + BACKOFF[0], last_error=f"load: {e}")
            return
        if reminder.delivered is not None or reminder.abandoned:  # e.g. rows re-inserted by a projection rebuild
            state = "delivered" if reminder.delivered is not None else "failed"
            self._finish(rid, mine=True, state=state, attempts=claim.attempts - 1)
            return
        attempt = max(claim.attempts, len(reminder.failures) + 1)
        try:
            detail = await self._send(reminder)
        except Exception as e:
            await asyncio.to_thread(self._failed, reminder, attempt, e)
            return
        await asyncio.to_thread(self._delivered, reminder, attempt, detail)

    async def _send(self, reminder: Reminder) -> str:
        channel = self.channels.get(reminder.channel)
        if channel is None:
            raise DeliveryError(f"no {reminder.channel!r} channel configured (see AR_SMTP_HOST, "
                                "AR_DUNNING_WEBHOOK_URL and AR_DUNNING_WEBHOOK_SECRET)")
        message = self.renderer.render(reminder.template, reminder.language, reminder.content)
        attachments = await asyncio.to_thread(self._attachments, reminder) if reminder.channel != "webhook" else []
        detail = await channel.send(reminder, message, attachments)
        if attachments:
            detail += "; attached " + ", ".join(a.filename for a in attachments)
        if not message.proves(reminder.content_hash):
            detail += (f"; templates changed since the decision: sent {reminder.template}@{message.template_version}"
                       f" (hash {message.content_hash[:12]}), decided with @{reminder.template_version}"
                       f" (hash {reminder.content_hash[:12]})")
        return detail

    def _attachments(self, reminder: Reminder) -> list[Attachment]:
        """The e-invoice documents of the invoices the reminder is about, in its order, each once. An invoice
        unknown here (a reminder built by hand) or whose bytes were never kept has nothing to attach; a database
        that cannot be read fails the attempt, retried as any other."""
        found: list[Attachment] = []
        seen: set[str] = set()
        for line in reminder.lines:
            try:
                invoice = self.app.get_invoice(UUID(str(line["invoice_id"])))
            except (NotFound, KeyError, ValueError):
                continue
            document = invoice.lifecycle.document
            if document is None or document.sha256 in seen:
                continue
            seen.add(document.sha256)
            stored = self.documents.get(document.sha256)
            if stored is None:
                log.warning("invoice %s: its e-invoice document %s is not kept; reminder %s goes without it",
                            invoice.number, document.sha256, reminder.id)
                continue
            found.append(Attachment.invoice_document(invoice.number, stored.media_type, stored.content))
        return found

    def _delivered(self, reminder: Reminder, attempt: int, detail: str) -> None:
        try:
            self.app.record_delivery(reminder.id, attempt=attempt, delivered=True, detail=detail)
        except Exception:
            # Sent but not recorded: the row stays "sending" until its claim expires, then is recorded as
            # delivered from this note (never sent again).
            log.exception("reminder %s was sent but its delivery could not be recorded", reminder.id)
            self._finish_note(reminder.id, SENT_NOT_RECORDED + detail)
            return
        self._finish(reminder.id, mine=False, state="delivered", last_error=None)

    def _finish_note(self, reminder_id: UUID, note: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(queue.update().where(queue.c.reminder_id == reminder_id, queue.c.state == "sending",
                                              queue.c.claimed_by == self.worker_id).values(last_error=note))

    def _failed(self, reminder: Reminder, attempt: int, error: Exception) -> None:
        permanent = isinstance(error, DeliveryError) and error.permanent
        detail = str(error) if isinstance(error, DeliveryError) else f"{type(error).__name__}: {error}"
        final = permanent or attempt >= MAX_ATTEMPTS
        now = _utc(self.clock.now())
        retry_at = None if final else now + BACKOFF[min(attempt, len(BACKOFF)) - 1]
        log.warning("reminder %s, attempt %d failed%s: %s", reminder.id, attempt, " (final)" if final else "", detail)
        try:
            self.app.record_delivery(reminder.id, attempt=attempt, delivered=False, detail=detail, final=final,
                                     retry_at=retry_at)
        except Exception:  # nothing was sent: try again later, when the failure can be recorded
            log.exception("the failed delivery of reminder %s could not be recorded", reminder.id)
            self._finish(reminder.id, mine=True, state="pending", claimed_by=None, last_error=detail,
                         next_attempt_at=retry_at or now + BACKOFF[0])
            return
        if final:
            self._finish(reminder.id, mine=True, state="failed", last_error=detail)
        else:
            assert retry_at is not None
            self._finish(reminder.id, mine=True, state="pending", claimed_by=None, last_error=detail,
                         next_attempt_at=retry_at)


def build_delivery(settings: Settings, app: DeliveryApp, engine: sa.Engine, clock: Clock) -> DeliveryWorker:
    """The worker as configured: SMTP if `smtp_host` is set, else the outbox folder; webhooks if configured."""
    return DeliveryWorker(app, engine, settings, clock, JinjaRenderer(creditor=settings.creditor()),
                          default_channels(settings, clock),
                          claim_ttl=timedelta(seconds=settings.delivery_claim_ttl_s))
