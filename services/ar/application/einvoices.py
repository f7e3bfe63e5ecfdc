"""E-invoices in (`import_einvoice`) and the lifecycle statuses their platforms send (`receive_lifecycle_status`).

An imported e-invoice is the issuer's legal document: it is recorded as it states it, under its own number, in the
issuer-numbered series `EINV-<seller SIREN>` (one series per seller, so that the invoice's id, derived from series
and number, makes the import idempotent on seller + number across every door). Its buyer is the customer with the
external id `siren:<SIREN>` (the same id the customers route derives from that external id), registered from the
document when new. A due date beyond the legal maximum is recorded with the derogation "as stated on the e-invoice"
rather than refused. The document's hash, media type and stated payment terms are a `DocumentAttached` event,
saved with the issue; its bytes are kept by the caller (`ar.adapters.invoice_documents`) under that hash.

An amount paid before the document (BT-113, a deposit) is not price: the invoice is recorded at its grand total, so
its VAT breakdown stays the document's, and the prepaid part as a payment (method transfer, value date the issue
date, its remittance naming the document) allocated to it, so that its open amount is the amount due. Invoice,
series and payment are one save. The payment's id derives from the invoice's: an invoice recorded by an earlier
version, which saved the payment apart and may have stopped before it, is completed by the same document again.

A credit note (381, 261, 262, 396) is applied to the invoice it corrects (BT-25, found in the seller's series by
its number) under the issuer's own credit-note number, its id derived from seller + number: the same document again
records nothing. The number is held, in the same save, by an `IssuerCreditNote` of id seller + number: applied to
another invoice it is a 409 `credit-note-number-taken` naming it (numbers applied before that record existed are
known to their invoice only). An unknown invoice is a 422 naming the number; more than is open, the invoice's own
rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ar.application.commands import Saved, derived_id, new_id
from ar.application.dunning import Dunning
from ar.application.issuer_numbers import numbered_invoice_id
from ar.domain import allocation
from ar.domain.customer import Customer, Language
from ar.domain.einvoice import ELEMENTS, EInvoice
from ar.domain.errors import Conflict, DomainRuleViolation
from ar.domain.invoice import Invoice
from ar.domain.issuer_credit_note import IssuerCreditNote
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.series import check_issuer_number, check_series_name
from ar.domain.siren import is_siren
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine

SERIES_PREFIX = "EINV"
AS_STATED = "as stated on the e-invoice"


def einvoice_series(einvoice: EInvoice) -> str:
    """`EINV-<seller SIREN>`; plain `EINV` for a seller the document gives no SIREN."""
    return check_series_name(f"{SERIES_PREFIX}-{einvoice.seller.siren}" if einvoice.seller.siren else SERIES_PREFIX)


def credit_note_of(einvoice: EInvoice) -> UUID:
    """An imported credit note's id: its seller's series and its own number."""
    return derived_id("credit-note", f"einvoice:{einvoice_series(einvoice)}:{einvoice.number}")


def prepaid_reference(invoice: Invoice) -> str:
    return f"einvoice-prepaid:{invoice.series}:{invoice.number}"


def prepaid_payment_id(invoice: Invoice) -> UUID:
    """The payment of an invoice's prepaid part: its id derives from the invoice's series and number."""
    return new_id("payment", external_id=prepaid_reference(invoice))


class UnknownCorrectedInvoice(DomainRuleViolation):
    """A credit note names an invoice the seller's series does not hold (yet): import the invoice first."""

    rule = "corrected-invoice-unknown"


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
        """Record the e-invoice (`EInvoice.check` first), or apply the credit note to the invoice it corrects; the
        same document again is the invoice as recorded (position None when nothing was written)."""
        einvoice.check()
        if einvoice.is_credit_note:
            return self._import_credit_note(einvoice, document)
        saved = self._import_invoice(einvoice, document)
        if saved.position is not None or not einvoice.paid_before.is_positive:
            return saved  # written with its prepaid payment, or nothing paid before
        return self._complete_prepaid(saved, einvoice)

    def _complete_prepaid(self, saved: Saved[Invoice], einvoice: EInvoice) -> Saved[Invoice]:
        """An invoice recorded already: by a version that saved its prepaid payment apart, it may lack it (the
        process stopped between the two saves); the same document again records it."""
        if prepaid_payment_id(saved.aggregate) in saved.aggregate.allocations:
            return saved

        def attempt() -> Saved[Invoice]:
            invoice = self._get(Invoice, saved.aggregate.id, "invoice_id")
            if prepaid_payment_id(invoice) in invoice.allocations:
                return Saved(invoice, None)  # completed meanwhile by a concurrent request
            payment = self._prepaid_payment(invoice, einvoice, self.clock.now())
            return Saved(invoice, self._save(payment, invoice))

        return self._retrying(attempt)

    @staticmethod
    def _prepaid_payment(invoice: Invoice, einvoice: EInvoice, now: datetime) -> Payment:
        """The part paid before the document, as a payment applied to the invoice (see the module's docstring)."""
        payment = Payment.receive(
            id=prepaid_payment_id(invoice), customer_id=invoice.customer_id, amount=einvoice.paid_before,
            method=PaymentMethod.TRANSFER, value_on=einvoice.issued_on, payer_reference=None,
            remittance=f"paid before e-invoice {einvoice.number} ({ELEMENTS[einvoice.syntax]['prepaid']})",
            external_id=prepaid_reference(invoice), at=now)
        allocation.allocate(payment, invoice, einvoice.paid_before, now)
        return payment

    def _import_credit_note(self, einvoice: EInvoice, document: Document) -> Saved[Invoice]:
        series, corrected = einvoice_series(einvoice), einvoice.corrects or ""
        check_issuer_number(einvoice.number, "ID")
        element = ELEMENTS[einvoice.syntax]["corrects"]
        check_issuer_number(corrected, element)
        invoice_id = numbered_invoice_id(series, corrected)
        credit_note_id = credit_note_of(einvoice)
        held_id = IssuerCreditNote.create_id(series, einvoice.number)
        first = True

        def attempt() -> Saved[Invoice]:
            nonlocal first
            invoice = self._exists(Invoice, invoice_id)
            if invoice is None:
                raise UnknownCorrectedInvoice(
                    f"credit note {einvoice.number} corrects invoice {corrected}, which {series} does not hold",
                    field=element, figures={"invoice_number": corrected, "series": series})
            recorded = invoice.credit_notes.get(einvoice.number)
            if recorded is not None:
                if recorded == einvoice.grand_total and invoice.has_credit_note(credit_note_id):
                    return Saved(invoice, None)  # this credit note, imported already
                raise Conflict(f"invoice {corrected} already has a credit note {einvoice.number} of {recorded}",
                               field="number", figures={"credited_minor": recorded.minor})
            if not first:  # a lost save: the number held by another invoice, or a concurrent change
                held = self._exists(IssuerCreditNote, held_id)
                if held is not None:
                    held.check_held_by(invoice.id, "number")
            first = False
            self._check_same_buyer(einvoice, invoice)
            if einvoice.currency != invoice.currency:
                raise DomainRuleViolation(f"credit note in {einvoice.currency} for an invoice in {invoice.currency}",
                                          field="currency")
            reason = f"e-invoice credit note {einvoice.number} ({document.media_type}, sha256 {document.sha256})"
            try:
                invoice.apply_credit_note(einvoice.number, einvoice.grand_total, einvoice.issued_on, reason,
                                          self.clock.now(), credit_note_id)
            except DomainRuleViolation as e:  # the invoice's rule, said of the document's element
                e.field = ELEMENTS[einvoice.syntax]["total"] if e.field == "amount_minor" else e.field
                raise
            held = IssuerCreditNote(series=series, number=einvoice.number, invoice_id=invoice.id,
                                    invoice_number=invoice.number)
            return Saved(invoice, self._save(invoice, held))

        return self._retrying(attempt)

    def _check_same_buyer(self, credit_note: EInvoice, invoice: Invoice) -> None:
        """A credit note is the invoice's buyer's: one naming another buyer corrects someone else's invoice."""
        customer = self._get(Customer, invoice.customer_id, "customer_id")
        external = customer.external_id or ""
        known = customer.siren or (external.removeprefix("siren:") if external.startswith("siren:") else None)
        if known is not None and known != credit_note.buyer.siren:
            raise DomainRuleViolation(
                f"credit note {credit_note.number} is addressed to SIREN {credit_note.buyer.siren}, invoice "
                f"{invoice.number} to {customer.name} (SIREN {known})", field=ELEMENTS[credit_note.syntax]["buyer"],
                figures={"invoice_buyer_siren": known})

    def _import_invoice(self, einvoice: EInvoice, document: Document) -> Saved[Invoice]:
        assert einvoice.buyer.siren is not None  # checked
        customer = self._buyer(einvoice)
        ceiling = customer.terms.legal_ceiling(customer.kind, einvoice.issued_on)
        beyond = einvoice.due_on is not None and ceiling is not None and einvoice.due_on > ceiling.latest_due_on
        now = self.clock.now()

        def attach(invoice: Invoice) -> None:
            invoice.attach_document(sha256=document.sha256, media_type=document.media_type,
                                    filename=document.filename, payment_terms=einvoice.payment_terms, at=now)

        def prepaid(invoice: Invoice) -> list[Aggregate]:
            return [self._prepaid_payment(invoice, einvoice, now)]

        series = einvoice_series(einvoice)
        return self.issue_invoice(
            invoice_id=numbered_invoice_id(series, einvoice.number), series=series, number=einvoice.number,
            customer_id=customer.id, total=einvoice.grand_total, issued_on=einvoice.issued_on, due_on=einvoice.due_on,
            vat=[VatLine(line.rate, line.basis, line.amount) for line in einvoice.vat],
            purchase_order=einvoice.purchase_order or einvoice.buyer_reference,
            due_on_derogation=AS_STATED if beyond else None, attach=attach,
            also=prepaid if einvoice.paid_before.is_positive else None)

    def _buyer(self, einvoice: EInvoice) -> Customer:
        """The customer recorded with the buyer's SIREN, else the one registered from an earlier document (id from
        the SIREN, found even before the read model has it), else a new one recording the SIREN."""
        siren = einvoice.buyer.siren or ""
        found = self.ports.customers.by_siren(siren)
        if found is not None:
            return self._get(Customer, found, "customer_id")
        customer_id = buyer_id(siren)
        country = (einvoice.buyer.country or "FR").upper()

        def decide() -> Saved[Customer]:
            customer = Customer.register(
                id=customer_id, name=einvoice.buyer.name, kind=CustomerKind.PROFESSIONAL, country=country,
                language=Language.FR if country == "FR" else Language.EN, emails=[], terms=PaymentTerms(),
                credit_limit=None, external_id=f"siren:{siren}", at=self.clock.now(),
                siren=siren if is_siren(siren) else None)  # a wrong key is the document's: not ours to refuse
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

