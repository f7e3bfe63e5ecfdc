"""ISO 11649 structured creditor references ("RF" references) derived from invoice numbers."""

from __future__ import annotations

import re

_ALNUM = re.compile(r"[^0-9A-Z]")


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
