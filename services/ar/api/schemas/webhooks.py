"""ERP webhooks in: the payload of each delivery type (with an example each), and the sources and the inbox.

A delivery's body is `{"type": "invoice.issued", "data": {...}, "timestamp": "..."}` (the shape Standard Webhooks
recommends; `timestamp` optional). `PAYLOADS` maps each type onto its model; each model states the command it asks."""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError

from ar.api.schemas.common import (
    BusinessDate,
    Currency,
    ExternalId,
    In,
    Instant,
    MultilineText,
    PositiveMinor,
    Text,
)
from ar.api.schemas.customers import COUNTRY_PATTERN, AddressIn, Siren, TermsIn
from ar.api.schemas.invoices import Series, VatLineIn
from ar.application import erp_webhooks as erp
from ar.domain.customer import UNCHANGED, CreditLimitPolicy, Language
from ar.domain.errors import DomainRuleViolation
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod
from ar.domain.terms import CustomerKind

ErpNumber = Annotated[Text, Field(max_length=40, description="the number the ERP gave it", examples=["FA-2026-0042"])]
ErpSeries = Annotated[Series, Field(description="the ERP's numbering series of the invoice")]
ERP_SERIES = "ERP"


class UnreadableDelivery(DomainRuleViolation):
    rule = "invalid-webhook-payload"


class UnknownType(DomainRuleViolation):
    rule = "unknown-webhook-type"


class Payload(In):
    example: ClassVar[dict[str, Any]]

    def to_command(self) -> erp.ErpCommand:
        raise NotImplementedError


class CustomerUpserted(Payload):
    """Registers the customer on its first upsert (its id derived from `customer_ref`, as `external_id` over HTTP),
    then records what changed: name, country, language, emails, terms (with their early-payment discount), credit
    limit, billing address, SIREN. Its kind cannot change. `billing_address` and `siren` left out stay as they are;
    null clears them."""

    customer_ref: ExternalId
    name: Annotated[Text, Field(max_length=200)]
    kind: CustomerKind
    country: Annotated[str, Field(pattern=COUNTRY_PATTERN)] = "FR"
    language: Language = Language.FR
    emails: list[Annotated[str, Field(min_length=3, max_length=254)]] = Field(default_factory=list, max_length=20)
    terms: TermsIn = Field(default_factory=TermsIn)
    credit_limit_minor: Annotated[int, Field(ge=0, le=10**15)] | None = Field(None, description="null: no limit")
    currency: Currency = "EUR"
    credit_limit_policy: CreditLimitPolicy = CreditLimitPolicy.FLAG
    billing_address: AddressIn | None = Field(None, description="left out: unchanged; null: none")
    siren: Siren | None = Field(None, description="left out: unchanged; null: none")
    example: ClassVar[dict[str, Any]] = {
        "customer_ref": "C-1042", "name": "Boulangerie Martin SARL", "kind": "professional", "country": "FR",
        "emails": ["compta@martin.fr"], "terms": {"kind": "net", "days": 30, "discount": {"rate": "2", "days": 10}},
        "credit_limit_minor": 5000000,
        "billing_address": {"lines": ["12 rue des Lilas"], "postcode": "69003", "city": "Lyon", "country": "FR"},
        "siren": "443061841"}

    def to_command(self) -> erp.ErpCommand:
        limit = None if self.credit_limit_minor is None else Money(self.credit_limit_minor, self.currency)
        sent = self.model_fields_set
        try:
            address = self.billing_address.to_domain(self.country) if self.billing_address else None
        except DomainRuleViolation as e:
            e.field = f"data.{e.field}"
            raise
        return erp.UpsertCustomer(self.customer_ref, self.name, self.kind, self.country, self.language,
                                  list(self.emails), self.terms.to_domain(), limit, self.credit_limit_policy,
                                  billing_address=address if "billing_address" in sent else UNCHANGED,
                                  siren=self.siren if "siren" in sent else UNCHANGED)


class InvoiceIssued(Payload):
    """Records the ERP's invoice under its own number, in the ERP's series."""

    number: ErpNumber
    series: ErpSeries = ERP_SERIES
    customer_ref: ExternalId
    currency: Currency = "EUR"
    total_minor: PositiveMinor
    vat: list[VatLineIn] = Field(min_length=1, max_length=20)
    issued_on: BusinessDate | None = Field(None, description="default: today")
    due_on: BusinessDate | None = Field(None, description="default: from the customer's terms")
    due_on_derogation: Text | None = None
    kind: InvoiceKind = InvoiceKind.STANDARD
    category: Category = Category.SERVICES
    purchase_order: Annotated[Text, Field(max_length=64)] | None = None
    example: ClassVar[dict[str, Any]] = {
        "number": "FA-2026-0042", "customer_ref": "C-1042", "total_minor": 120000,
        "vat": [{"rate": "20", "base_minor": 100000, "vat_minor": 20000}], "issued_on": "2026-03-02"}

    def to_command(self) -> erp.ErpCommand:
        return erp.IssueInvoice(
            self.number, self.series, self.customer_ref, Money(self.total_minor, self.currency),
            [line.to_domain(self.currency) for line in self.vat], self.issued_on, self.due_on,
            self.due_on_derogation, self.kind, self.category, self.purchase_order)


class InvoiceCancelled(Payload):
    """An issued invoice is never deleted: a credit note (avoir) for its whole open amount cancels it."""

    invoice_number: ErpNumber
    series: ErpSeries = ERP_SERIES
    reason: Text
    cancelled_on: BusinessDate | None = None
    credit_note_series: Series = "AV"
    example: ClassVar[dict[str, Any]] = {"invoice_number": "FA-2026-0042", "reason": "order cancelled"}

    def to_command(self) -> erp.ErpCommand:
        return erp.CancelInvoice(self.invoice_number, self.series, self.reason, self.cancelled_on,
                                 self.credit_note_series)


class CreditNoteIssued(Payload):
    invoice_number: ErpNumber
    series: ErpSeries = ERP_SERIES
    credit_note_number: ErpNumber
    amount_minor: PositiveMinor
    reason: Text
    credited_on: BusinessDate | None = None
    credit_note_series: Series = "AV"
    example: ClassVar[dict[str, Any]] = {"invoice_number": "FA-2026-0042", "credit_note_number": "AV-2026-0007",
                                         "amount_minor": 12000, "reason": "damaged goods"}

    def to_command(self) -> erp.ErpCommand:
        return erp.IssueCreditNote(self.invoice_number, self.series, self.credit_note_number, self.amount_minor,
                                   self.reason, self.credited_on, self.credit_note_series)


class InvoiceRef(In):
    invoice_number: ErpNumber
    series: ErpSeries = ERP_SERIES
    amount_minor: PositiveMinor


class PaymentReceived(Payload):
    """Allocated to the invoices listed, or, without `allocations`, automatically (reference, numbers in the
    remittance, the payer's oldest due invoices)."""

    payment_ref: ExternalId
    customer_ref: ExternalId | None = None
    amount_minor: PositiveMinor
    currency: Currency = "EUR"
    method: PaymentMethod = PaymentMethod.TRANSFER
    value_on: BusinessDate | None = None
    payer_reference: Annotated[Text, Field(max_length=64)] | None = None
    remittance: Text | None = None
    allocations: list[InvoiceRef] | None = Field(None, max_length=200)
    example: ClassVar[dict[str, Any]] = {
        "payment_ref": "BANK-2026-03-28-001", "customer_ref": "C-1042", "amount_minor": 120000,
        "value_on": "2026-03-28", "allocations": [{"invoice_number": "FA-2026-0042", "amount_minor": 120000}]}

    def to_command(self) -> erp.ErpCommand:
        allocations = [(a.series, a.invoice_number, a.amount_minor) for a in self.allocations or ()] or None
        return erp.ReceivePayment(self.payment_ref, self.customer_ref, Money(self.amount_minor, self.currency),
                                  self.method, self.value_on, self.payer_reference, self.remittance, allocations)


class DisputeOpenedIn(Payload):
    """Pauses the dunning of the invoice (unless its policy reminds the undisputed part)."""

    invoice_number: ErpNumber
    series: ErpSeries = ERP_SERIES
    dispute_ref: ExternalId
    amount_minor: PositiveMinor | None = Field(None, description="default: the whole open amount")
    reason: Text
    opened_on: BusinessDate | None = None
    example: ClassVar[dict[str, Any]] = {"invoice_number": "FA-2026-0042", "dispute_ref": "LIT-88",
                                         "reason": "goods not received"}

    def to_command(self) -> erp.ErpCommand:
        return erp.OpenDispute(self.invoice_number, self.series, self.dispute_ref, self.amount_minor, self.reason,
                               self.opened_on)


class DisputeResolvedIn(Payload):
    invoice_number: ErpNumber
    series: ErpSeries = ERP_SERIES
    dispute_ref: ExternalId
    outcome: MultilineText
    resolved_on: BusinessDate | None = None
    example: ClassVar[dict[str, Any]] = {"invoice_number": "FA-2026-0042", "dispute_ref": "LIT-88",
                                         "outcome": "delivery proven; the customer pays"}

    def to_command(self) -> erp.ErpCommand:
        return erp.ResolveDispute(self.invoice_number, self.series, self.dispute_ref, self.outcome,
                                  self.resolved_on)


class InvoiceLifecycleIn(Payload):
    """An e-invoice platform's lifecycle status, as `POST /v1/invoices/{id}/lifecycle` takes it: 207 opens a
    dispute, 208 pauses dunning, 210 refused and 213 rejected stop it, 211 snoozes the reminders; a message id is
    applied once. The invoice is named by its number and series; for an imported e-invoice, `seller_siren` names
    its series (`EINV-<seller SIREN>`)."""

    invoice_number: ErpNumber
    series: ErpSeries = ERP_SERIES
    seller_siren: Annotated[str, Field(pattern=r"^[0-9]{9}$", examples=["552100554"])] | None = None
    status: Annotated[str, Field(pattern=r"^2[0-9]{2}$", examples=["210"])]
    reason: Text | None = None
    message_id: Annotated[Text, Field(max_length=128)]
    at: Instant | None = None
    example: ClassVar[dict[str, Any]] = {"invoice_number": "FA-2026-0107", "seller_siren": "552100554",
                                         "status": "210", "reason": "commande annulée",
                                         "message_id": "PA-MSG-000193"}

    def to_command(self) -> erp.ErpCommand:
        series = f"EINV-{self.seller_siren}" if self.seller_siren else self.series
        return erp.LifecycleStatus(self.invoice_number, series, self.status, self.reason, self.message_id, self.at)


PAYLOADS: dict[str, type[Payload]] = {
    "customer.upserted": CustomerUpserted, "invoice.issued": InvoiceIssued, "invoice.cancelled": InvoiceCancelled,
    "credit_note.issued": CreditNoteIssued, "payment.received": PaymentReceived,
    "dispute.opened": DisputeOpenedIn, "dispute.resolved": DisputeResolvedIn,
    "invoice.lifecycle": InvoiceLifecycleIn,
}


def _field(loc: tuple[int | str, ...]) -> str:
    return "data" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def parse_delivery(body: str) -> erp.ErpCommand:
    """The command a delivery asks for; `UnreadableDelivery` or `UnknownType` (both 422) naming the field."""
    try:
        envelope = json.loads(body)
    except ValueError:
        raise UnreadableDelivery("the body is not JSON", field="body") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
        raise UnreadableDelivery('the body is {"type": "...", "data": {...}}', field="type")
    kind = envelope["type"]
    if kind not in PAYLOADS:
        raise UnknownType(f"this version of ar does not know the type {kind[:100]!r}; kept in the inbox, it can be "
                          f"replayed once it does (known: {', '.join(PAYLOADS)})", field="type")
    try:
        payload = PAYLOADS[kind].model_validate(envelope.get("data"))
    except ValidationError as e:
        errors = [{"field": _field(err["loc"]), "message": err["msg"]} for err in e.errors()]
        raise UnreadableDelivery(f"{errors[0]['field']}: {errors[0]['message']}", field=errors[0]["field"],
                                 figures={"errors": errors}) from None
    return payload.to_command()


class ReceivedOut(BaseModel):
    inbox_id: UUID
    state: str = Field(examples=["processed"])
    result: dict[str, Any] | None = Field(examples=[{"invoice_id": "5b0e...", "number": "FA-2026-0042",
                                                     "position": 42}])


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """A model's JSON schema with its `$defs` written in place: an operation's request body cannot add components."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inlined(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(v, defs) for v in schema]
    return schema


def request_body() -> dict[str, Any]:
    """The OpenAPI request body of `POST /v1/webhooks/erp/{source}`: one envelope per type, told apart by `type`."""
    variants = []
    for kind, model in PAYLOADS.items():
        data = model.model_json_schema()
        variants.append({
            "title": kind, "type": "object", "required": ["type", "data"], "description": model.__doc__ or "",
            "properties": {"type": {"type": "string", "const": kind}, "data": _inlined(data, data.get("$defs", {})),
                           "timestamp": {"type": "string", "format": "date-time"}}})
    examples = {kind: {"summary": kind, "value": {"type": kind, "timestamp": "2026-03-02T09:00:00Z",
                                                  "data": model.example}} for kind, model in PAYLOADS.items()}
    schema = {"oneOf": variants, "discriminator": {"propertyName": "type"}}
    return {"required": True, "content": {"application/json": {"schema": schema, "examples": examples}}}
