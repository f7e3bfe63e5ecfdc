"""Invoices numbered by their issuer (an ERP, another service): the number is their identity.

The invoice's id is derived from (series, number), so the event store's own uniqueness refuses a second invoice
under a taken number, in one process or several, with no read model consulted. The number wins over any other
source of the id (the Idempotency-Key or the external id the caller derived its id from): were the key to win, a
second key could record the same number twice. The same invoice asked again (the same content, whatever the key) is
the existing one; another invoice under that number is refused (409 `number-taken`, naming the invoice that holds
it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from ar.application.commands import derived_id
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.series import NumberTaken
from ar.domain.vat import VatLine


def numbered_invoice_id(series: str, number: str) -> UUID:
    """The id of the invoice holding `number` in `series` (numbers are kept as given: case matters)."""
    return derived_id("invoice", f"number:{series}:{number}")


@dataclass(frozen=True)
class AskedInvoice:
    """What a create command asked for, compared with the invoice already holding its number. A date left to
    its default (today, the customer's terms) is not compared: a retry on another day is the same invoice."""

    customer_id: UUID
    kind: InvoiceKind
    category: Category
    total: Money
    vat: Sequence[VatLine]
    issued_on: date | None
    due_on: date | None
    purchase_order: str | None
    external_id: str | None
    deposit_invoice_ids: Sequence[UUID]

    def differences(self, invoice: Invoice) -> list[str]:
        deducted = sorted(UUID(d) for d in invoice.deductions)
        checks = {
            "customer_id": self.customer_id == invoice.customer_id,
            "kind": self.kind is invoice.kind,
            "category": self.category is invoice.category,
            "total_minor": self.total == invoice.total,
            "vat": list(self.vat) == list(invoice.vat),
            "issued_on": self.issued_on in (None, invoice.issued_on),
            "due_on": self.due_on in (None, invoice.due_on),
            "purchase_order": self.purchase_order == invoice.purchase_order,
            "external_id": self.external_id == invoice.external_id,
            "deposit_invoice_ids": sorted(self.deposit_invoice_ids) == deducted,
        }
        return [field for field, same in checks.items() if not same]

    def check_same_as(self, invoice: Invoice) -> None:
        differing = self.differences(invoice)
        if invoice.numbered_by != "issuer" or differing:
            raise NumberTaken(
                f"number {invoice.number} of series {invoice.series} is held by invoice {invoice.id}"
                + (f", which differs in {', '.join(differing)}" if differing else ""),
                field="number", figures={"invoice_id": str(invoice.id), "differs_in": differing})
