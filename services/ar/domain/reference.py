"""ISO 11649 structured creditor references ("RF" references): an invoice's, derived from its number, and a
customer's, derived from its account number, for paying an open balance over several invoices."""

from __future__ import annotations

import re
from uuid import UUID

_ALNUM = re.compile(r"[^0-9A-Z]")
CUSTOMER_MARK = "C"
CUSTOMER_REFERENCE = re.compile(r"RF\d{2}C[0-9A-F]{10}")


def _to_digits(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def creditor_reference(invoice_number: str) -> str:
    """RF + two check digits + the invoice number stripped to [0-9A-Z] (at most 21 characters)."""
    body = _ALNUM.sub("", invoice_number.upper())[:21]
    check = 98 - _to_digits(body + "RF00") % 97
    return f"RF{check:02d}{body}"


def is_valid_creditor_reference(reference: str) -> bool:
    compact = reference.replace(" ", "").upper()
    if not re.fullmatch(r"RF\d{2}[0-9A-Z]{1,21}", compact):
        return False
    return _to_digits(compact[4:] + compact[:4]) % 97 == 1


def customer_account_number(customer_id: UUID | str) -> str:
    """A customer's account number as documents print it: ten hex digits of its id (about 10^12 values)."""
    return UUID(str(customer_id)).hex[:10].upper()


def customer_reference(customer_id: UUID | str) -> str:
    """The reference for paying a customer's whole open balance (a statement, a reminder naming several invoices):
    RF, check digits, `C` and the customer's account number. An invoice number could in theory give the same shape
    (`C` and ten hex digits): matching tries invoice references first, so such an invoice would still be paid."""
    return creditor_reference(CUSTOMER_MARK + customer_account_number(customer_id))


def account_in_reference(reference: str | None) -> str | None:
    """The account number a customer reference carries (`customer_reference`), None for any other reference, or
    one whose check digits fail (a mistyped reference pays nobody's balance)."""
    compact = (reference or "").replace(" ", "").upper()
    if not CUSTOMER_REFERENCE.fullmatch(compact) or not is_valid_creditor_reference(compact):
        return None
    return compact[5:]
