"""A request body as the command it asks for: the single call, an item of a batch and a line of `ar import` run
the same command from the same body."""

from __future__ import annotations

from ar.api.schemas.invoices import IssueInvoiceIn
from ar.api.schemas.payments import RecordPaymentIn
from ar.application.receivables import Receivables, Saved, new_id
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.payment import Payment


def issue_invoice(app: Receivables, body: IssueInvoiceIn, key: str | None) -> Saved[Invoice]:
    """`POST /v1/invoices`, one item of a batch, and a line of `ar import`."""
    return app.issue_invoice(
        invoice_id=new_id("invoice", idempotency=key, external_id=body.external_id), series=body.series,
        customer_id=body.customer_id, kind=body.kind, total=Money(body.total_minor, body.currency),
        vat=[line.to_domain(body.currency) for line in body.vat], issued_on=body.issued_on, due_on=body.due_on,
        category=body.category, purchase_order=body.purchase_order, external_id=body.external_id,
        deposit_invoice_ids=body.deposit_invoice_ids, due_on_derogation=body.due_on_derogation,
        number=body.number)


def record_payment(app: Receivables, body: RecordPaymentIn, key: str | None) -> Saved[Payment]:
    """`POST /v1/payments`, one item of a batch, and a line of `ar import`."""
    return app.record_payment(
        payment_id=new_id("payment", idempotency=key, external_id=body.external_id),
        customer_id=body.customer_id, amount=Money(body.amount_minor, body.currency), method=body.method,
        value_on=body.value_on, payer_reference=body.payer_reference, remittance=body.remittance,
        external_id=body.external_id,
        allocations=[a.to_domain(body.currency) for a in body.allocations] if body.allocations else None,
        auto_allocate=body.auto_allocate and not body.allocations)
