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


# A token: letters, digits and the separators invoice numbers carry ('-', '_', '/', '.'); a comma inside a figure
# ("117,00") keeps the figure whole, so that an amount is never read as two numbers.
TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_./-]|,(?=[0-9]))*")
EDGES = "_./-"
MIN_LENGTH, MAX_LENGTH = 3, 40          # an issuer's number is 1 to 40 characters (`series.check_issuer_number`)
MIN_DIGITS_ALONE = 5                    # digits alone: a year, a day or a small amount, unless this long
MAX_TOKENS = 64                         # a remittance is 140 characters (SEPA); a camt one may hold several


def _plausible(token: str) -> bool:
    if not MIN_LENGTH <= len(token) <= MAX_LENGTH or "," in token or not any(c.isdigit() for c in token):
        return False
    return not token.isdigit() or len(token) >= MIN_DIGITS_ALONE


def numbers_in(text: str | None) -> list[str]:
    """The tokens of a remittance text that may be invoice numbers, ours ("F-000042") or an issuer's
    ("FA-2026-00042", "2026/117"), in order of appearance, each once as first written: the caller looks them up
    against the numbers it knows in one query, regardless of case (banks capitalise remittance texts, payers type
    "fa-2026-0042" for "FA-2026-0042"). Parts between slashes are tokens too ("/INV/F-000042", the keyed subfields
    of MT940 and CFONB). Bounded: at most `MAX_TOKENS`."""
    seen: dict[str, str] = {}  # in capitals -> as first written
    for match in TOKEN.finditer(text or ""):
        whole = match.group().strip(EDGES)
        for token in (whole, *(whole.split("/") if "/" in whole else ())):
            token = token.strip(EDGES)
            if _plausible(token):
                seen.setdefault(token.upper(), token)
        if len(seen) >= MAX_TOKENS:
            break
    return list(seen.values())[:MAX_TOKENS]


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
