"""Applying a payment to invoices: both sides change together, and the automatic plan is pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from ar.domain.errors import Conflict
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.payment import Payment


def allocate(payment: Payment, invoice: Invoice, amount: Money, at: datetime) -> None:
    """Apply `amount` of `payment` to `invoice`; a pair already applied is left as it is.

    The payment may come from another customer than the invoice's (a parent paying for a subsidiary): both
    allocation events then name the other side, so that both customers' statements can show it."""
    if invoice.id in payment.allocations and payment.id in invoice.allocations:
        if payment.allocations[invoice.id] != amount:
            raise Conflict(f"this payment already pays {payment.allocations[invoice.id]} of invoice {invoice.number}",
                           field="amount_minor")
        return  # already applied: a retry is a no-op
    invoice.check_open_for(amount, "amount_minor")
    payment.allocate(invoice.id, amount, at, invoice_customer_id=invoice.customer_id)
    invoice.allocate(payment.id, amount, at, value_on=payment.value_on, payer_customer_id=payment.customer_id)


def reverse(payment: Payment, invoice: Invoice, reason: str, at: datetime) -> None:
    payment.reverse_allocation(invoice.id, reason, at)
    invoice.reverse_allocation(payment.id, reason, at)


INVOICE_NUMBER = re.compile(r"(?<![A-Z0-9_-])[A-Z0-9][A-Z0-9_-]{0,15}-\d{6,}(?![0-9])")


def numbers_in(text: str | None) -> list[str]:
    """Invoice-number-shaped tokens of a remittance text, in order of appearance."""
    seen: dict[str, None] = {}
    for token in INVOICE_NUMBER.findall((text or "").upper()):
        seen.setdefault(token, None)
    return list(seen)


def plan(payment: Payment, candidates: Iterable[Invoice]) -> list[tuple[Invoice, Money]]:
    """Spread the unapplied cash over candidates in the order given (reference, then number, then oldest due).

    Only the payer's own invoices (when the payer is known), and only their undisputed part."""
    remaining = payment.unapplied
    planned: list[tuple[Invoice, Money]] = []
    seen: set[object] = set()
    for invoice in candidates:
        if not remaining.is_positive:
            break
        if invoice.id in seen or invoice.id in payment.allocations or invoice.is_closed \
                or invoice.currency != payment.currency:
            continue
        if payment.customer_id is not None and invoice.customer_id != payment.customer_id:
            continue
        seen.add(invoice.id)
        amount = min(remaining.minor, invoice.open_amount.minor - invoice.disputed.minor)
        if amount > 0:
            planned.append((invoice, Money(amount, payment.currency)))
            remaining -= Money(amount, payment.currency)
    return planned
