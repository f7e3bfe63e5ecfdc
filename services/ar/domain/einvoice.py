"""What an e-invoice (Factur-X, CII or UBL) says, whatever its syntax: the unit the import records.

The readers (`ar.adapters.einvoices`) turn a document into an `EInvoice`; the application records it as an invoice
under its own number. Amounts are read as decimals and converted here, once, to minor units: an amount with more
decimals than its currency has is an error naming the element, never rounded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money, check_currency, exact_minor

INVOICE = "380"
CREDIT_NOTE = "381"
# UNTDID 1001 codes the Factur-X / EN 16931 (French CIUS) list gives for credit notes: credit note, self-billed
# credit note, consolidated credit note, factored credit note.
CREDIT_NOTES = frozenset({CREDIT_NOTE, "261", "262", "396"})
# What each syntax calls the elements a check can fault (the error names the element of the document received).
ELEMENTS = {"CII": {"payable": "DuePayableAmount", "prepaid": "TotalPrepaidAmount", "total": "GrandTotalAmount",
                    "corrects": "InvoiceReferencedDocument", "buyer": "BuyerTradeParty"},
            "UBL": {"payable": "PayableAmount", "prepaid": "PrepaidAmount", "total": "TaxInclusiveAmount",
                    "corrects": "BillingReference", "buyer": "AccountingCustomerParty"}}


class EInvoiceUnreadable(DomainRuleViolation):
    """A document that is not a well-formed, valid e-invoice; `field` names the element."""

    rule = "einvoice-unreadable"


def money(text: str | None, currency: str, element: str) -> Money:
    """A decimal amount as the document states it, in minor units of `currency`; exact or refused."""
    if text is None or not text.strip():
        raise EInvoiceUnreadable(f"{element} is missing", field=element)
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise EInvoiceUnreadable(f"{element} is not a decimal amount: {text!r}", field=element) from None
    check_currency(currency, field=element)
    minor = exact_minor(amount, currency)
    if minor is None:
        raise EInvoiceUnreadable(f"{element} {text} has more decimals than {currency} allows", field=element)
    return Money(minor, currency)


@dataclass(frozen=True)
class Party:
    name: str
    siren: str | None = None      # the 9-digit company number (the first 9 digits of a SIRET)
    siret: str | None = None
    vat_id: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class VatBreakdown:
    rate: Decimal    # percent
    basis: Money
    amount: Money


@dataclass(frozen=True)
class EInvoice:
    syntax: str                   # "CII" or "UBL"
    number: str
    type_code: str                # 380 invoice, 381 credit note
    issued_on: date
    due_on: date | None
    payment_terms: str | None
    currency: str
    seller: Party
    buyer: Party
    grand_total: Money
    tax_basis: Money
    vat_total: Money
    amount_due: Money
    vat: list[VatBreakdown] = field(default_factory=list)
    buyer_reference: str | None = None
    purchase_order: str | None = None
    prepaid: Money | None = None          # BT-113: paid before the document (a deposit), not due any more
    rounding: Money | None = None         # BT-114: added to the amount due to round it
    corrects: str | None = None           # BT-25: the number of the invoice a credit note corrects

    @property
    def is_credit_note(self) -> bool:
        return self.type_code in CREDIT_NOTES

    @property
    def paid_before(self) -> Money:
        return self.prepaid if self.prepaid is not None else Money.zero(self.currency)

    def _element(self, what: str) -> str:
        return ELEMENTS.get(self.syntax, ELEMENTS["CII"])[what]

    def check(self) -> None:
        """What `ar` can record: an invoice (380) or a credit note naming the invoice it corrects, totals that add
        up, and an amount due that is the grand total less what was paid before (plus the stated rounding)."""
        if self.type_code != INVOICE and not self.is_credit_note:
            raise DomainRuleViolation(f"type {self.type_code} is neither an invoice (380) nor a credit note "
                                      f"({', '.join(sorted(CREDIT_NOTES))})", field="TypeCode")
        if self.is_credit_note and not self.corrects:
            raise DomainRuleViolation(f"credit note {self.number} names no invoice it corrects (BT-25)",
                                      field=self._element("corrects"))
        if self.buyer.siren is None:
            raise DomainRuleViolation("the buyer has no SIREN (legal organisation id, scheme 0002)",
                                      field="BuyerTradeParty")
        if self.tax_basis + self.vat_total != self.grand_total:
            raise DomainRuleViolation(f"tax basis {self.tax_basis} plus VAT {self.vat_total} is not the grand total "
                                      f"{self.grand_total}", field="GrandTotalAmount")
        if self.due_on is not None and self.due_on < self.issued_on:
            raise DomainRuleViolation("the due date precedes the issue date", field="DueDateDateTime")
        self._check_amount_due()

    def _check_amount_due(self) -> None:
        """EN 16931 BR-CO-16: amount due = grand total - paid amount + rounding amount."""
        paid = self.paid_before
        if paid.minor < 0 or paid > self.grand_total:
            raise DomainRuleViolation(f"the amount paid before {paid} is not between zero and the grand total "
                                      f"{self.grand_total}", field=self._element("prepaid"))
        rounding = self.rounding if self.rounding is not None else Money.zero(self.currency)
        expected = self.grand_total - paid + rounding
        if self.amount_due != expected:
            raise DomainRuleViolation(
                f"the amount due {self.amount_due} is not the grand total {self.grand_total} less the amount paid "
                f"before {paid} plus the rounding {rounding} ({expected})", field=self._element("payable"),
                figures={"expected_minor": expected.minor, "stated_minor": self.amount_due.minor})


def siren_of(identifier: str | None) -> str | None:
    """The SIREN in a SIREN (9 digits) or a SIRET (14 digits); None for anything else."""
    digits = (identifier or "").replace(" ", "")
    if digits.isdigit() and len(digits) in (9, 14):
        return digits[:9]
    return None
