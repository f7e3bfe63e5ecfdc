from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from ar.api.schemas.common import (
    PATTERN_WORDS,
    BusinessDate,
    Currency,
    ExternalId,
    In,
    MinorUnits,
    MoneyOut,
    Percent,
    PositiveMinor,
    Text,
)
from ar.api.schemas.common import (
    money_example as _eur,
)
from ar.domain.early_payment import mention
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.status import InvoiceStatus, is_overdue
from ar.domain.vat import VatLine
from ar.projections.invoice_queries import last_platform_status

NumberedBy = Literal["ar", "issuer"]
LifecycleStatus = Literal["disputed", "suspended", "refused", "payment_sent", "invalid"]
LIFECYCLE_DOC = ("the last status the e-invoice platform sent about the invoice: disputed (207), suspended (208), "
                 "refused (210), payment_sent (211), invalid (213 rejected); null when none came. A refused or "
                 "invalid invoice is still owed until credited, but it is not dunned")
_INVOICE_ID = "5b0e7c1d-2a4f-4e8b-9c3d-6f1a2b3c4d5e"
_CUSTOMER_ID = "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c"


_INVOICE_EXAMPLE: JsonDict = {
    "id": _INVOICE_ID, "version": 2, "number": "F2026-000001", "numbered_by": "ar", "series": "F2026",
    "kind": "standard", "category": "services", "customer_id": _CUSTOMER_ID, "status": "partly_paid",
    "overdue": False, "issued_on": "2026-03-01", "due_on": "2026-05-15",
    "due_on_derogation": "délai dérogatoire de l'accord interprofessionnel du secteur (L441-11)",
    "total": _eur(120000), "vat": [{"rate": "20.0", "base": _eur(100000), "vat": _eur(20000)}],
    "deducted": _eur(0), "allocated": _eur(60000), "credited": _eur(0), "written_off": _eur(0),
    "disputed": _eur(0), "open_amount": _eur(60000), "structured_reference": "RF63F2026000001",
    "purchase_order": "PO-778", "external_id": "ERP-FA-2026-0041",
    "allocations": {"9d2c4b1a-7e6f-4a5b-8c9d-0e1f2a3b4c5d": _eur(60000)}, "credit_notes": {},
    "over_credit_limit": _eur(20000), "issued_at": "2026-03-01T09:30:00Z",
}
"""An invoice as answered, for the examples of the answers that hold one."""

SERIES_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,15}$"
PATTERN_WORDS[SERIES_PATTERN] = "1 to 16 capitals, digits, '_' or '-', starting with a capital or digit (F2026)"
Series = Annotated[str, Field(pattern=SERIES_PATTERN, examples=["F2026"])]
NUMBER_PATTERN = r"^[A-Za-z0-9_/.-]{0,39}[A-Za-z0-9][A-Za-z0-9_/.-]{0,39}$"  # and at most 40 (max_length)
PATTERN_WORDS[NUMBER_PATTERN] = "letters, digits, '-', '_', '/' or '.', with a letter or digit (FA-2026-0041)"
IssuerNumber = Annotated[str, Field(pattern=NUMBER_PATTERN, max_length=40, examples=["FA-2026-0041"])]


class VatLineIn(In):
    rate: Percent
    base_minor: MinorUnits
    vat_minor: MinorUnits

    def to_domain(self, currency: str) -> VatLine:
        return VatLine(self.rate, Money(self.base_minor, currency), Money(self.vat_minor, currency))


class IssueInvoiceIn(In):
    customer_id: UUID
    series: Series = "F"
    number: IssuerNumber | None = Field(None, description=(
        "the number the invoicing system gave it; omit it and ar numbers the invoice in `series`. Kept as given, "
        "unique in its series: the same invoice sent again under its number answers 200 with the invoice recorded "
        "(whatever the Idempotency-Key), another invoice under a taken number 409 `number-taken`. A series is "
        "numbered either by ar or by the issuer, never both (422 `series-numbered-elsewhere`); a gap in the issuer's "
        "numbers is reported by GET /v1/numbering/series, not refused"))
    kind: InvoiceKind = InvoiceKind.STANDARD
    currency: Currency = "EUR"
    total_minor: PositiveMinor = Field(description="total including VAT, in minor units")
    vat: list[VatLineIn] = Field(min_length=1, max_length=20,
                                 description="one line per VAT rate; they add up to the total")
    issued_on: BusinessDate | None = Field(None, description="default: today")
    due_on: BusinessDate | None = Field(None, description="default: from the customer's payment terms")
    due_on_derogation: Text | None = Field(None, description=(
        "why a `due_on` beyond the legal maximum is agreed anyway (professional debtor: 60 days or 45 days end of "
        "month, Code de commerce L441-10; public buyer: 60 days, R2192-10; a consumer has no such cap); without "
        "it such a due date is refused (422 terms-beyond-legal-maximum). Recorded on the invoice's Issued event"))
    category: Category = Category.SERVICES
    purchase_order: Annotated[Text, Field(max_length=64)] | None = None
    external_id: ExternalId | None = Field(
        None, description="id in your ERP; a retry with the same external_id returns the same invoice")
    deposit_invoice_ids: list[UUID] = Field(
        default_factory=list, max_length=50,
        description="for a final invoice: the deposit invoices (acomptes) it deducts")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c", "series": "F2026", "currency": "EUR",
        "total_minor": 120000, "vat": [{"rate": "20.0", "base_minor": 100000, "vat_minor": 20000}],
        "issued_on": "2026-03-01", "purchase_order": "PO-778",
    }]})


class CreditNoteIn(In):
    amount_minor: PositiveMinor
    reason: Text
    series: Series = Field("AV", description="numbering series of credit notes (avoirs)")
    credited_on: BusinessDate | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "amount_minor": 24000, "reason": "2 cartons de farine T55 retournés endommagés", "series": "AV",
        "credited_on": "2026-03-10"}]})


class WriteOffIn(In):
    reason: Text
    written_off_on: BusinessDate | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "reason": "liquidation judiciaire du client, créance irrécouvrable", "written_off_on": "2026-09-30"}]})


class OpenDisputeIn(In):
    amount_minor: PositiveMinor | None = Field(None, description="default: the whole open amount")
    reason: Text
    opened_on: BusinessDate | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "amount_minor": 36000, "reason": "quantité livrée inférieure au bon de commande PO-778",
        "opened_on": "2026-03-12"}]})


class ResolveDisputeIn(In):
    outcome: Annotated[Text, Field(max_length=200, examples=["rejected: goods delivered as ordered"])]
    resolved_on: BusinessDate | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "outcome": "rejected: goods delivered as ordered", "resolved_on": "2026-03-20"}]})


class VatLineOut(BaseModel):
    rate: Decimal
    base: MoneyOut
    vat: MoneyOut


class DiscountOfferedOut(BaseModel):
    rate: Decimal = Field(description="percent off the total")
    until: date = Field(description="the last value date that takes the discount")
    mention: str = Field(description="the L441-9 mention, in French",
                         examples=["Escompte pour paiement anticipé : 2 % si paiement avant le 15/03/2026"])


class DiscountTakenOut(BaseModel):
    payment_id: UUID
    amount: MoneyOut = Field(description="VAT included; settles the invoice with the payment")
    on: date = Field(description="the value date of the payment that took it")
    vat: list[VatLineOut] = Field(description="its split by VAT rate, to the cent")


class InvoiceOut(BaseModel):
    id: UUID
    version: int
    number: str
    numbered_by: NumberedBy = Field(description=(
        "`ar`: the next number of its series, gapless; `issuer`: the number the invoicing system gave it"))
    series: str
    kind: InvoiceKind
    category: Category
    customer_id: UUID
    status: InvoiceStatus
    overdue: bool = Field(description="open and past its due date, today")
    issued_on: date
    due_on: date
    due_on_derogation: str | None = Field(description="the reason stated for a due date beyond the legal maximum")
    total: MoneyOut
    vat: list[VatLineOut]
    deducted: MoneyOut = Field(description="deposits deducted by a final invoice")
    allocated: MoneyOut
    credited: MoneyOut
    written_off: MoneyOut
    disputed: MoneyOut
    open_amount: MoneyOut
    structured_reference: str = Field(description="ISO 11649 creditor reference to quote when paying")
    purchase_order: str | None
    external_id: str | None
    allocations: dict[UUID, MoneyOut]
    credit_notes: dict[str, MoneyOut]
    over_credit_limit: MoneyOut | None = Field(description="issued over the customer's credit limit by this much")
    issued_at: datetime
    discount_offered: DiscountOfferedOut | None = Field(None, description="the early-payment discount offered")
    discount_taken: DiscountTakenOut | None = Field(None, description="the early-payment discount a payment took")
    lifecycle_status: LifecycleStatus | None = Field(None, description=LIFECYCLE_DOC)
    lifecycle_code: str | None = Field(None, description="the code of `lifecycle_status`", examples=["210"])

    model_config = ConfigDict(json_schema_extra={"examples": [_INVOICE_EXAMPLE]})

    @classmethod
    def of(cls, i: Invoice, today: date) -> InvoiceOut:
        m = MoneyOut.of
        platform = last_platform_status(i.lifecycle)
        return cls(
            id=i.id, version=i.version, number=i.number, numbered_by=i.numbered_by, series=i.series, kind=i.kind,
            category=i.category,
            customer_id=i.customer_id, status=i.status,
            overdue=is_overdue(open_minor=i.open_amount.minor, due_on=i.due_on, as_of=today),
            issued_on=i.issued_on, due_on=i.due_on, due_on_derogation=i.due_on_derogation, total=m(i.total),
            vat=[VatLineOut(rate=v.rate, base=m(v.base), vat=m(v.vat)) for v in i.vat], deducted=m(i.deducted),
            allocated=m(i.allocated), credited=m(i.credited), written_off=m(i.written_off), disputed=m(i.disputed),
            open_amount=m(i.open_amount), structured_reference=i.structured_reference,
            purchase_order=i.purchase_order, external_id=i.external_id,
            allocations={k: m(v) for k, v in i.allocations.items()},
            credit_notes={k: m(v) for k, v in i.credit_notes.items()},
            over_credit_limit=m(i.over_credit_limit) if i.over_credit_limit else None, issued_at=i.issued_at,
            discount_offered=DiscountOfferedOut(rate=i.discount_offer.rate, until=i.discount_offer.until,
                                                mention=mention(i.discount_offer, "fr"))
            if i.discount_offer else None,
            discount_taken=DiscountTakenOut(
                payment_id=i.discount_taken.payment_id, amount=m(i.discount_taken.amount), on=i.discount_taken.on,
                vat=[VatLineOut(rate=v.rate, base=m(v.base), vat=m(v.vat)) for v in i.discount_taken.vat_split])
            if i.discount_taken else None,
            lifecycle_status=platform[0] if platform else None, lifecycle_code=platform[1] if platform else None,
        )


class InvoiceRow(BaseModel):
    """A line of the invoice list (from the invoices read model)."""

    id: UUID
    version: int
    number: str
    customer_id: UUID
    status: InvoiceStatus
    overdue: bool
    currency: str
    issued_on: date
    due_on: date
    total_minor: int
    open_minor: int
    external_id: str | None
    lifecycle_status: LifecycleStatus | None = Field(None, description=LIFECYCLE_DOC)
    lifecycle_code: str | None = Field(None, description="the code of `lifecycle_status`", examples=["210"])


class InvoicePage(BaseModel):
    items: list[InvoiceRow]
    next_cursor: str | None = Field(description="pass as `cursor` to get the next page; null on the last page")

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [{
        "id": _INVOICE_ID, "version": 2, "number": "F2026-000001", "customer_id": _CUSTOMER_ID,
        "status": "partly_paid", "overdue": False, "currency": "EUR", "issued_on": "2026-03-01",
        "due_on": "2026-05-15", "total_minor": 120000, "open_minor": 60000, "external_id": "ERP-FA-2026-0041",
        "lifecycle_status": "suspended", "lifecycle_code": "208"}],
        "next_cursor": "MjAyNi0wMy0wMXxGMjAyNi0wMDAwMDE="}]})


class DisputeOpened(BaseModel):
    dispute_id: UUID
    invoice: InvoiceOut

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "dispute_id": "c7a1e2f3-4b5c-4d6e-8f90-a1b2c3d4e5f6",
        "invoice": {**_INVOICE_EXAMPLE, "version": 3, "status": "disputed", "disputed": _eur(36000)}}]})
