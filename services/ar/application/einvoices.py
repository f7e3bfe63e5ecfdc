"""E-invoices in (`import_einvoice`) and the lifecycle statuses their platforms send (`receive_lifecycle_status`).

An imported e-invoice is the issuer's legal document: it is recorded as it states it, under its own number, in the
issuer-numbered series `EINV-<seller SIREN>` (one series per seller, so that the invoice's id, derived from series
and number, makes the import idempotent on seller + number across every door). Its buyer is the customer with the
external id `siren:<SIREN>` (the same id the customers route derives from that external id), registered from the
document when new. A due date beyond the legal maximum is recorded with the derogation "as stated on the e-invoice"
rather than refused. The document's hash, media type and stated payment terms are a `DocumentAttached` event,
saved with the issue; its bytes are kept by the caller (`ar.adapters.invoice_documents`) under that hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ar.application.commands import Saved, derived_id, new_id
from ar.application.dunning import Dunning
from ar.application.issuer_numbers import numbered_invoice_id
from ar.domain.customer import Customer, Language
from ar.domain.einvoice import EInvoice
from ar.domain.invoice import Invoice
from ar.domain.series import check_series_name
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine

SERIES_PREFIX = "EINV"
AS_STATED = "as stated on the e-invoice"


def einvoice_series(einvoice: EInvoice) -> str:
    """`EINV-<seller SIREN>`; plain `EINV` for a seller the document gives no SIREN."""
    return check_series_name(f"{SERIES_PREFIX}-{einvoice.seller.siren}" if einvoice.seller.siren else SERIES_PREFIX)


def buyer_id(siren: str) -> UUID:
    return new_id("customer", external_id=f"siren:{siren}")


@dataclass(frozen=True)
class Document:
    sha256: str
    media_type: str
    filename: str | None


class EInvoices(Dunning):
    if TYPE_CHECKING:  # provided by Receivables
        lifecycle_snooze_days: int

        def issue_invoice(self, *args: Any, **kwargs: Any) -> Saved[Invoice]: ...

    def import_einvoice(self, einvoice: EInvoice, document: Document) -> Saved[Invoice]:
        """Record the e-invoice (`EInvoice.check` first); the same document again is the invoice recorded."""
        einvoice.check()
        assert einvoice.buyer.siren is not None  # checked
        customer = self._buyer(einvoice)
        ceiling = customer.terms.legal_ceiling(customer.kind, einvoice.issued_on)
        beyond = einvoice.due_on is not None and ceiling is not None and einvoice.due_on > ceiling.latest_due_on
        now = self.clock.now()

        def attach(invoice: Invoice) -> None:
            invoice.attach_document(sha256=document.sha256, media_type=document.media_type,
                                    filename=document.filename, payment_terms=einvoice.payment_terms, at=now)

        series = einvoice_series(einvoice)
        return self.issue_invoice(
            invoice_id=numbered_invoice_id(series, einvoice.number), series=series, number=einvoice.number,
            customer_id=customer.id, total=einvoice.grand_total, issued_on=einvoice.issued_on, due_on=einvoice.due_on,
            vat=[VatLine(line.rate, line.basis, line.amount) for line in einvoice.vat],
            purchase_order=einvoice.purchase_order or einvoice.buyer_reference,
            due_on_derogation=AS_STATED if beyond else None, attach=attach)

    def _buyer(self, einvoice: EInvoice) -> Customer:
        siren = einvoice.buyer.siren or ""
        customer_id = buyer_id(siren)
        country = (einvoice.buyer.country or "FR").upper()

        def decide() -> Saved[Customer]:
            customer = Customer.register(
                id=customer_id, name=einvoice.buyer.name, kind=CustomerKind.PROFESSIONAL, country=country,
                language=Language.FR if country == "FR" else Language.EN, emails=[], terms=PaymentTerms(),
                credit_limit=None, external_id=f"siren:{siren}", at=self.clock.now())
            return Saved(customer, self._save(customer))

        return self._create(Customer, customer_id, decide).aggregate

    def receive_lifecycle_status(self, invoice_id: UUID, *, code: str, reason: str | None, message_id: str,
                                 at: datetime | None = None, on: date | None = None) -> Saved[Invoice]:
        """A platform's status (207, 208, 210, 211, 213) and its effect, in one save; a message id already
        received is a no-op (nothing written, position None). `at`: when the platform says the status was given
        (default: now)."""
        key = f"{invoice_id}:{message_id}"

        def change(invoice: Invoice) -> None:
            now = self.clock.now()
            invoice.receive_lifecycle_status(
                code=code, reason=reason, message_id=message_id, on=on or self.clock.today(), at=now,
                stated_at=at.astimezone(UTC) if at else now, dispute_id=derived_id("dispute", f"lifecycle:{key}"),
                promise_id=derived_id("promise", f"lifecycle:{key}"), snooze_days=self.lifecycle_snooze_days)

        return self._update(Invoice, invoice_id, None, change, "invoice_id")

