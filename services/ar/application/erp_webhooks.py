"""ERP webhooks in: each delivery's type mapped onto the same `Receivables` commands as the HTTP routes.

The ERP names customers, invoices, payments and disputes by its own references; they become our ids by derivation
(`new_id` / `derived_id`), never by a read-model lookup, so a delivery resolves the same way before and after the
projections catch up, and a command run twice (a replay, a concurrent retry) finds what it created the first time.

The inbox that keeps each delivery with its outcome is `ar.application.erp_inbox`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ar.application.commands import derived_id, new_id
from ar.application.issuer_numbers import numbered_invoice_id
from ar.application.receivables import Receivables
from ar.domain.customer import UNCHANGED, CreditLimitPolicy, Language, Unchanged
from ar.domain.errors import DomainRuleViolation, NotFound
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod
from ar.domain.postal_address import PostalAddress
from ar.domain.series import check_issuer_number
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine

Result = dict[str, Any]


# Commands, as the ERP states them --------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpsertCustomer:
    customer_ref: str
    name: str
    kind: CustomerKind
    country: str
    language: Language
    emails: list[str]
    terms: PaymentTerms
    credit_limit: Money | None
    credit_limit_policy: CreditLimitPolicy
    billing_address: PostalAddress | Unchanged | None = UNCHANGED  # not sent: left as it is
    siren: str | Unchanged | None = UNCHANGED


@dataclass(frozen=True)
class IssueInvoice:
    number: str
    series: str
    customer_ref: str
    total: Money
    vat: list[VatLine]
    issued_on: date | None
    due_on: date | None
    due_on_derogation: str | None
    kind: InvoiceKind
    category: Category
    purchase_order: str | None


@dataclass(frozen=True)
class CancelInvoice:
    invoice_number: str
    series: str
    reason: str
    cancelled_on: date | None
    credit_note_series: str


@dataclass(frozen=True)
class IssueCreditNote:
    invoice_number: str
    series: str
    credit_note_number: str
    amount_minor: int
    reason: str
    credited_on: date | None
    credit_note_series: str


@dataclass(frozen=True)
class ReceivePayment:
    payment_ref: str
    customer_ref: str | None
    amount: Money
    method: PaymentMethod
    value_on: date | None
    payer_reference: str | None
    remittance: str | None
    allocations: list[tuple[str, str, int]] | None  # (series, invoice number, amount in minor units)


@dataclass(frozen=True)
class OpenDispute:
    invoice_number: str
    series: str
    dispute_ref: str
    amount_minor: int | None
    reason: str
    opened_on: date | None


@dataclass(frozen=True)
class ResolveDispute:
    invoice_number: str
    series: str
    dispute_ref: str
    outcome: str
    resolved_on: date | None


@dataclass(frozen=True)
class LifecycleStatus:
    """An e-invoice platform's status about an invoice (see `ar.application.einvoices`)."""

    invoice_number: str
    series: str
    status: str
    reason: str | None
    message_id: str
    at: datetime | None


ErpCommand = (UpsertCustomer | IssueInvoice | CancelInvoice | IssueCreditNote | ReceivePayment | OpenDispute
              | ResolveDispute | LifecycleStatus)


# Our ids from the ERP's references ---------------------------------------------------------------------------------
def customer_id(customer_ref: str) -> UUID:
    """The id the customers route derives from the same `external_id`: one customer, whichever door it came by."""
    return new_id("customer", external_id=customer_ref)


def invoice_id(series: str, number: str) -> UUID:
    """The id an invoice numbered by its issuer has, whichever door recorded it (`issue_invoice(number=...)`)."""
    return numbered_invoice_id(series, number)


def payment_id(payment_ref: str) -> UUID:
    return new_id("payment", external_id=payment_ref)


def dispute_id(series: str, invoice_number: str, dispute_ref: str) -> UUID:
    return derived_id("dispute", f"erp:{series}:{invoice_number}:{dispute_ref}")


def credit_note_id(series: str, invoice_number: str, credit_note_number: str | None) -> UUID:
    """A cancellation is the one credit note without an ERP number of its own."""
    return derived_id("credit-note", f"erp:{series}:{invoice_number}:{credit_note_number or 'cancelled'}")


# The mapping --------------------------------------------------------------------------------------------------------
def _known_customer(app: Receivables, ref: str, field: str) -> UUID:
    try:
        return app.get_customer(customer_id(ref)).id
    except NotFound:
        raise NotFound(f"no customer with the ERP reference {ref!r} (send its customer.upserted first)",
                       field=field) from None


def _known_invoice(app: Receivables, series: str, number: str, field: str) -> tuple[UUID, str]:
    try:
        invoice = app.get_invoice(invoice_id(series, number))
    except NotFound:
        raise NotFound(f"no invoice {number!r} of the series {series} (send its invoice.issued first)",
                       field=field) from None
    return invoice.id, invoice.currency


def execute(app: Receivables, command: ErpCommand) -> Result:
    """Run one command; what it did, by our ids. Raises the `DomainError` of a rule it breaks."""
    match command:
        case UpsertCustomer():
            return _upsert_customer(app, command)
        case IssueInvoice():
            check_issuer_number(command.number, "data.number")
            customer = _known_customer(app, command.customer_ref, "data.customer_ref")
            saved = app.issue_invoice(
                invoice_id=invoice_id(command.series, command.number), series=command.series, customer_id=customer,
                total=command.total, vat=command.vat, issued_on=command.issued_on, due_on=command.due_on,
                kind=command.kind, category=command.category, purchase_order=command.purchase_order,
                due_on_derogation=command.due_on_derogation, number=command.number)
            return {"invoice_id": str(saved.aggregate.id), "number": saved.aggregate.number,
                    "position": saved.position}
        case CancelInvoice() | IssueCreditNote():
            return _credit(app, command)
        case ReceivePayment():
            return _receive_payment(app, command)
        case OpenDispute():
            invoice, currency = _known_invoice(app, command.series, command.invoice_number, "data.invoice_number")
            dispute = dispute_id(command.series, command.invoice_number, command.dispute_ref)
            amount = Money(command.amount_minor, currency) if command.amount_minor else None
            saved = app.open_dispute(invoice, dispute_id=dispute, amount=amount, reason=command.reason,
                                     opened_on=command.opened_on)
            return {"invoice_id": str(invoice), "dispute_id": str(dispute), "position": saved.position}
        case ResolveDispute():
            invoice, _ = _known_invoice(app, command.series, command.invoice_number, "data.invoice_number")
            dispute = dispute_id(command.series, command.invoice_number, command.dispute_ref)
            saved = app.resolve_dispute(invoice, dispute_id=dispute, outcome=command.outcome,
                                        resolved_on=command.resolved_on)
            return {"invoice_id": str(invoice), "dispute_id": str(dispute), "position": saved.position}
        case LifecycleStatus():
            invoice, _ = _known_invoice(app, command.series, command.invoice_number, "data.invoice_number")
            saved = app.receive_lifecycle_status(invoice, code=command.status, reason=command.reason,
                                                 message_id=command.message_id, at=command.at)
            return {"invoice_id": str(invoice), "status": saved.aggregate.status.value, "position": saved.position}


def _upsert_customer(app: Receivables, c: UpsertCustomer) -> Result:
    try:
        return _upsert(app, c)
    except DomainRuleViolation as e:  # the ERP sent the customer as `data`: name the field where it is
        if e.field and not e.field.startswith("data."):
            e.field = f"data.{e.field}"
        raise


def _upsert(app: Receivables, c: UpsertCustomer) -> Result:
    cid = customer_id(c.customer_ref)
    try:
        existing = app.get_customer(cid)
    except NotFound:
        saved = app.register_customer(customer_id=cid, name=c.name, kind=c.kind, country=c.country,
                                      language=c.language, emails=c.emails, terms=c.terms,
                                      credit_limit=c.credit_limit, external_id=c.customer_ref,
                                      credit_limit_policy=c.credit_limit_policy,
                                      billing_address=None if isinstance(c.billing_address, Unchanged)
                                      else c.billing_address,
                                      siren=None if isinstance(c.siren, Unchanged) else c.siren)
        return {"customer_id": str(cid), "registered": True, "position": saved.position}
    if existing.kind is not c.kind:
        raise DomainRuleViolation(f"the customer {c.customer_ref!r} is {existing.kind.value}: a customer's kind "
                                  "does not change (its legal terms depend on it)", field="kind")
    saved = app.update_customer(cid, name=c.name, country=c.country, language=c.language, emails=c.emails,
                                terms=c.terms, credit_limit=c.credit_limit, credit_limit_policy=c.credit_limit_policy,
                                billing_address=c.billing_address, siren=c.siren)
    return {"customer_id": str(cid), "registered": False, "position": saved.position}


def _credit(app: Receivables, c: CancelInvoice | IssueCreditNote) -> Result:
    """A cancelled invoice is never deleted (an issued invoice stays, in France): a credit note for what is open."""
    invoice, currency = _known_invoice(app, c.series, c.invoice_number, "data.invoice_number")
    number = c.credit_note_number if isinstance(c, IssueCreditNote) else None
    note = credit_note_id(c.series, c.invoice_number, number)
    if isinstance(c, IssueCreditNote):
        amount, on, reason = Money(c.amount_minor, currency), c.credited_on, f"{c.reason} (ERP credit note {number})"
    else:
        current = app.get_invoice(invoice)
        if not current.has_credit_note(note):  # else cancelled already: the command below is a no-op
            current.check_something_open("cancel")
        amount, on, reason = current.open_amount, c.cancelled_on, f"invoice cancelled: {c.reason}"
    saved = app.issue_credit_note(invoice, amount=amount, reason=reason, series=c.credit_note_series,
                                  credited_on=on, credit_note_id=note)
    credited = saved.aggregate
    return {"invoice_id": str(invoice), "credit_note_id": str(note), "open_minor": credited.open_amount.minor,
            "position": saved.position}


def _receive_payment(app: Receivables, c: ReceivePayment) -> Result:
    payer = _known_customer(app, c.customer_ref, "data.customer_ref") if c.customer_ref else None
    allocations = None
    if c.allocations:
        allocations = [(_known_invoice(app, series, number, f"data.allocations[{i}].invoice_number")[0],
                        Money(minor, c.amount.currency)) for i, (series, number, minor) in enumerate(c.allocations)]
    saved = app.record_payment(payment_id=payment_id(c.payment_ref), customer_id=payer, amount=c.amount,
                               method=c.method, value_on=c.value_on, payer_reference=c.payer_reference,
                               remittance=c.remittance, external_id=c.payment_ref, allocations=allocations,
                               auto_allocate=not allocations)
    payment = saved.aggregate
    return {"payment_id": str(payment.id), "allocated_minor": payment.allocated.minor,
            "unapplied_minor": payment.unapplied.minor, "position": saved.position}
