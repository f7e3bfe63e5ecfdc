"""What every bank-file reader shares: exact amounts, dates, IBAN/BIC and RF checks, text decoding.

Amounts are read as `Decimal` and turned into integer minor units with the currency's exponent from
`ar.domain.money.exact_minor` (`Money.apply_rate` is the one place that rounds; a statement amount is never
rounded): an amount with more decimals than its currency allows is an error.

Identifiers are checked with `schwifty` (IBAN, BIC) and `stdnum.iso11649` (RF references). A payer IBAN or BIC that
does not validate is dropped (None), its raw text kept nowhere: a wrong IBAN must not be learnt for a customer, and
remittance text is for what the payer wrote. An RF reference that does not validate is kept as unstructured text.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import iso11649

from ar.domain.bank_entry import BankFileUnreadable
from ar.domain.errors import DomainRuleViolation
from ar.domain.money import MINOR_UNITS, Money, exact_minor

_RF_IN_TEXT = re.compile(r"\bRF\d{2}(?: ?[0-9A-Z]){1,21}\b", re.IGNORECASE)


def currency_of(code: str | None, where: str) -> str:
    if not code or code.strip().upper() not in MINOR_UNITS:
        raise BankFileUnreadable(f"unknown or unsupported currency {code!r}", where=where)
    return code.strip().upper()


def to_minor(amount: Decimal, currency: str, where: str) -> int:
    """The amount in minor units, exactly; more decimals than the currency has is an error, never a rounding."""
    minor = exact_minor(amount, currency)
    if minor is None:
        raise BankFileUnreadable(f"amount {amount} has more than {MINOR_UNITS[currency]} decimals for {currency}",
                                 where=where)
    return minor


def decimal_of(text: str | None, where: str, *, comma: bool = False) -> Decimal:
    raw = (text or "").strip()
    if comma:
        raw = raw.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d+(\.\d*)?", raw):
        raise BankFileUnreadable(f"amount {text!r} is not a number", where=where)
    try:
        return Decimal(raw)
    except InvalidOperation as error:  # pragma: no cover - the pattern above already refuses it
        raise BankFileUnreadable(f"amount {text!r} is not a number", where=where) from error


def money_of(amount: Decimal, currency: str, where: str) -> Money:
    """A non-negative amount as Money (statements carry the direction beside the amount)."""
    if amount < 0:
        raise BankFileUnreadable(f"amount {amount} is negative", where=where)
    try:
        return Money(to_minor(amount, currency, where), currency)
    except DomainRuleViolation as error:
        raise BankFileUnreadable(error.detail, where=where) from error


def foreign_money(amount: Decimal, currency: str | None) -> Money | None:
    """An instructed amount in another currency: informative, so an unsupported currency or an amount that is not
    exact in it is dropped rather than refusing the statement."""
    code = (currency or "").strip().upper()
    if code not in MINOR_UNITS or amount < 0:
        return None
    minor = exact_minor(amount, code)
    return None if minor is None else Money(minor, code)


def iso_date(text: str | None, where: str) -> date:
    """An ISO date, or the date part of an ISO date-time (camt's `Dt` or `DtTm`)."""
    raw = (text or "").strip()[:10]
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise BankFileUnreadable(f"date {text!r} is not an ISO date", where=where) from error


def valid_iban(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return str(IBAN(raw).compact)
    except (SchwiftyException, ValueError):
        return None


def valid_bic(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return str(BIC(raw.strip()).compact)
    except (SchwiftyException, ValueError):
        return None


def split_reference(raw: str | None) -> tuple[str | None, str | None]:
    """(structured reference, text to add to the remittance): a valid RF is structured; an RF that does not validate
    is text; a reference in another scheme (the bank's own) is kept as given."""
    if not raw or not raw.strip():
        return None, None
    text = raw.strip()
    compact = text.replace(" ", "").upper()
    if compact.startswith("RF"):
        return (str(iso11649.compact(compact)), None) if iso11649.is_valid(compact) else (None, text)
    return text, None


def rf_in_text(text: str | None) -> str | None:
    """The first valid RF reference written in free text, if any."""
    for match in _RF_IN_TEXT.finditer(text or ""):
        compact = match.group(0).replace(" ", "").upper()
        if iso11649.is_valid(compact):
            return str(compact)
    return None


def joined(*parts: str | None) -> str | None:
    text = " ".join(part.strip() for part in parts if part and part.strip())
    return text or None


def decode_text(content: bytes) -> str:
    """Bank text files are UTF-8, or Latin-1/Windows-1252 from older systems; a BOM is dropped."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")
