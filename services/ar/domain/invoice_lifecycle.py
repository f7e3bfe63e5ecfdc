"""An e-invoice on an invoice: the document it came in as, the lifecycle statuses received from its platform
and sent to it (`ar.domain.lifecycle` decides what they mean).

The methods named for a fact (`_document_attached`, `_lifecycle_status_received`, `_lifecycle_status_sent`) are the
bodies of the `@event` methods of `Invoice`: bound in `ar.domain.invoice` to the events declared there, so that
called on an invoice they record the event and apply it, and replayed they only assign (no decision in them).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from uuid import UUID

from ar.domain.invoice_disputes import InvoiceDisputes
from ar.domain.invoice_dunning import InvoiceDunning
from ar.domain.lifecycle import (
    DISPUTED,
    PAYMENT_SENT,
    REFUSED,
    REJECTED,
    SUSPENDED,
    AttachedDocument,
    LifecycleEntry,
    check_received_code,
    snooze_until,
)
from ar.domain.money import Money


class InvoiceLifecycle(InvoiceDisputes, InvoiceDunning):
    """A platform's status acts through disputes and dunning: 207 opens a dispute, 208 pauses, 211 snoozes."""

    def attach_document(self, *, sha256: str, media_type: str, filename: str | None, payment_terms: str | None,
                        at: datetime) -> None:
        """The e-invoice document this invoice was recorded from (its bytes are kept by their SHA-256)."""
        if self.lifecycle.document is None or self.lifecycle.document.sha256 != sha256:
            self._document_attached(sha256=sha256, media_type=media_type, filename=filename,
                                    payment_terms=payment_terms, at=at)

    def _document_attached(self, sha256: str, media_type: str, filename: str | None, payment_terms: str | None,
                           at: datetime) -> None:
        self.lifecycle = replace(self.lifecycle, document=AttachedDocument(sha256, media_type, filename,
                                                                           payment_terms))

    def receive_lifecycle_status(self, *, code: str, reason: str | None, message_id: str, on: date, at: datetime,
                                 stated_at: datetime, dispute_id: UUID, promise_id: UUID, snooze_days: int) -> bool:
        """A platform's status and its effect: 207 opens a dispute (unless one is open), 208 pauses dunning, 210
        and 213 opt the invoice out of dunning (refused, invalid), 211 snoozes the reminders as a promise to pay
        the open amount `snooze_days` from `on` would. False (nothing recorded) for a message already received."""
        check_received_code(code)
        if self.lifecycle.seen(message_id):
            return False
        self._lifecycle_status_received(code=code, reason=reason, message_id=message_id, at=stated_at)
        why = f"e-invoice status {code}" + (f": {reason}" if reason else "")
        if code == DISPUTED and not self.disputes and self.open_amount.is_positive:
            self.open_dispute(dispute_id, self.open_amount, why, on, at)
        elif code == SUSPENDED:
            self.pause_dunning(why, at)
        elif code in (REFUSED, REJECTED):
            self.opt_out_of_dunning(why, at)
        elif code == PAYMENT_SENT and self.open_amount.is_positive:
            self.promise_payment(promise_id=promise_id, promised_on=snooze_until(on, snooze_days),
                                 amount=self.open_amount, made_on=on, at=at)
        return True

    def _lifecycle_status_received(self, code: str, reason: str | None, message_id: str, at: datetime) -> None:
        self.lifecycle = self.lifecycle.with_entry(LifecycleEntry("in", code, at, reason, message_id))

    def _lifecycle_status_sent(self, code: str, payment_id: UUID, amount: Money, amounts_by_rate: dict[str, Money],
                               at: datetime) -> None:
        self.lifecycle = self.lifecycle.with_entry(LifecycleEntry("out", code, at, amounts_by_rate=amounts_by_rate,
                                                                  payment_id=payment_id, amount=amount))
