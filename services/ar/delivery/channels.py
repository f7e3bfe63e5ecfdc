"""Where a rendered reminder goes: an SMTP server, an outbox folder a person reads, or a signed webhook.

A channel sends once and says how it went: it returns a delivery detail, or raises `DeliveryError`, `permanent`
when trying again cannot help (no recipient, an address the server refuses, a 4xx from the webhook). It never
retries by itself: retries, with backoff, are the worker's, and recorded as events."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import httpx
from standardwebhooks import Webhook

from ar.application.ports import RenderedMessage
from ar.config import Settings
from ar.delivery.letter import letter_pdf
from ar.domain.clock import Clock
from ar.domain.reminder import Reminder


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reminder: the e-invoice an invoice it is about came in as, so the customer holds the
    very document they are asked to pay."""

    filename: str
    media_type: str
    content: bytes

    @classmethod
    def invoice_document(cls, number: str, media_type: str, content: bytes) -> Attachment:
        """Named by the invoice number (characters a file name cannot hold become '_'); a Factur-X PDF goes as
        application/pdf, a CII or UBL XML (kept as application/xml or text/xml) as application/xml."""
        pdf = media_type.split(";")[0].strip().lower() == "application/pdf"
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", number) or "invoice"
        return cls(f"{stem}.pdf" if pdf else f"{stem}.xml", "application/pdf" if pdf else "application/xml", content)


class Channel(Protocol):
    async def send(self, reminder: Reminder, message: RenderedMessage, attachments: Sequence[Attachment] = ()) -> str:
        """Deliver once; the detail to record. Raises `DeliveryError` (or anything else: a transient failure)."""
        ...


def message_id(reminder: Reminder, sender: str) -> str:
    """Derived from the reminder: a message sent again by hand threads with (and is deduplicated as) the first."""
    domain = sender.rpartition("@")[2] or "ar.invalid"
    return f"<reminder-{reminder.id}@{domain}>"


def letter_filename(reminder: Reminder) -> str:
    return f"{reminder.run_on.isoformat()}_{reminder.id}.pdf"


def build_email(reminder: Reminder, message: RenderedMessage, settings: Settings, sent_at: datetime,
                attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """multipart/alternative (text, html); a letter adds its PDF, and `attachments` (the invoices' e-invoice
    documents) follow, byte for byte (multipart/mixed)."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = Address(display_name=settings.creditor_name, addr_spec=settings.creditor_email)
    email["Reply-To"] = settings.creditor_email
    if reminder.recipients:
        email["To"] = ", ".join(reminder.recipients)
    email["Date"] = format_datetime(sent_at.astimezone(UTC))
    email["Message-ID"] = message_id(reminder, settings.creditor_email)
    email["X-AR-Reminder-Id"] = str(reminder.id)
    email["X-AR-Template"] = f"{reminder.template}@{message.template_version}"
    email["Content-Language"] = reminder.language
    email.set_content(message.text, subtype="plain", charset="utf-8")
    email.add_alternative(message.html, subtype="html", charset="utf-8")
    if reminder.channel == "letter":
        email.add_attachment(letter_pdf(message, reminder.content), maintype="application", subtype="pdf",
                             filename=letter_filename(reminder))
    for attachment in attachments:
        maintype, subtype = attachment.media_type.split("/", 1)
        email.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return email


class SmtpChannel:
    """Email (and letters, as a PDF attached) through the configured SMTP server."""

    def __init__(self, settings: Settings, clock: Clock, *, timeout_s: float = 60.0) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpChannel needs settings.smtp_host")
        self.settings, self.clock, self.timeout_s = settings, clock, timeout_s

    async def send(self, reminder: Reminder, message: RenderedMessage, attachments: Sequence[Attachment] = ()) -> str:
        if not reminder.recipients:
            raise DeliveryError("no recipient email address for this customer", permanent=True)
        email = build_email(reminder, message, self.settings, self.clock.now(), attachments)
        s = self.settings
        try:
            refused, response = await aiosmtplib.send(
                email, hostname=s.smtp_host, port=s.smtp_port, start_tls=s.smtp_starttls, username=s.smtp_username,
                password=s.smtp_password, timeout=self.timeout_s)
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [r.code for r in e.recipients]
            raise DeliveryError(f"smtp: every recipient refused: {e}", permanent=all(c >= 500 for c in codes)) from e
        except aiosmtplib.SMTPResponseException as e:
            # a 5xx on the message itself (too big, rejected content) will be refused again; a 4xx is a "later"
            raise DeliveryError(f"smtp: {e.code} {e.message}", permanent=e.code >= 500 and e.code != 535) from e
        except (aiosmtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"smtp: {type(e).__name__}: {e}") from e
        detail = f"smtp {s.smtp_host}:{s.smtp_port} accepted ({response.strip()}) for {', '.join(reminder.recipients)}"
        if refused:
            detail += f"; refused: {', '.join(sorted(refused))}"
        return f"{detail}; {email['Message-ID']}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a temporary file beside the target, then rename: a reader never sees half a message."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class OutboxChannel:
    """No SMTP server: `<run_on>_<reminder_id>.eml` (and `.pdf` for a letter, to print) in the outbox folder."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self.outbox_dir = settings.outbox_dir

    async def send(self, reminder: Reminder, message: RenderedMessage, attachments: Sequence[Attachment] = ()) -> str:
        email = build_email(reminder, message, self.settings, self.clock.now(), attachments)
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            stem = f"{reminder.run_on.isoformat()}_{reminder.id}"
            written = []
            if reminder.channel == "letter":
                pdf = self.outbox_dir / f"{stem}.pdf"
                _write_atomically(pdf, letter_pdf(message, reminder.content))
                written.append(pdf)
            eml = self.outbox_dir / f"{stem}.eml"
            _write_atomically(eml, email.as_bytes())
            written.append(eml)
        except OSError as e:
            raise DeliveryError(f"outbox: {type(e).__name__}: {e}") from e
        return "outbox: " + ", ".join(str(p) for p in reversed(written))


def webhook_payload(reminder: Reminder, message: RenderedMessage, sent_at: datetime) -> dict[str, Any]:
    data = {**reminder.content, "reminder_id": str(reminder.id), "subject": message.subject, "text": message.text,
            "template_version": message.template_version, "content_hash": message.content_hash}
    return {"type": "reminder.sent", "timestamp": sent_at.astimezone(UTC).isoformat(), "data": data}


class WebhookChannel:
    """POST the reminder as JSON, signed (Standard Webhooks: webhook-id = the reminder id, the same on every
    attempt, so the receiver can drop a duplicate). 2xx: delivered; 408, 429, 5xx and network errors: retried;
    any other 4xx: permanent.

    The signature's timestamp is the wall clock, not the business clock: receivers check it against their own
    time (5-minute tolerance), and a simulated clock would fail every signature."""

    def __init__(self, url: str, secret: str, clock: Clock, *, timeout_s: float = 30.0,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url, self.webhook, self.clock = url, Webhook(secret), clock
        self.timeout_s, self.wall_clock, self.transport = timeout_s, wall_clock, transport

    async def send(self, reminder: Reminder, message: RenderedMessage, attachments: Sequence[Attachment] = ()) -> str:
        """The receiver gets the invoices' ids in the content and reads their documents from the API: a webhook
        carries no files."""
        body = json.dumps(webhook_payload(reminder, message, self.clock.now()), sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False)
        signed_at = self.wall_clock()
        msg_id = str(reminder.id)
        headers = {"content-type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(signed_at.timestamp())),
                   "webhook-signature": self.webhook.sign(msg_id, signed_at, body)}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as client:
                response = await client.post(self.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as e:
            raise DeliveryError(f"webhook {self.url}: {type(e).__name__}: {e}") from e
        status = response.status_code
        if 200 <= status < 300:
            return f"webhook {self.url}: {status}"
        permanent = 400 <= status < 500 and status not in (408, 429)
        raise DeliveryError(f"webhook {self.url}: {status} {response.text[:200]}", permanent=permanent)
