"""An invoice's status, derived from its amounts: one rule shared by the aggregate and the read models."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"
    DISPUTED = "disputed"
    CREDITED = "credited"
    WRITTEN_OFF = "written_off"
    REFUSED = "refused"  # e-invoice status 210: the buyer refused it
    INVALID = "invalid"  # e-invoice status 213: the platform rejected it


def derive_status(
    *, open_minor: int, allocated_minor: int, credited_minor: int, written_off_minor: int, disputed: bool,
    verdict: str | None = None,
) -> InvoiceStatus:
    """`verdict`: what an e-invoice platform said of the invoice ("refused", "invalid"); it stands while the
    invoice is open (the read models, which do not follow lifecycle statuses, pass none)."""
    if open_minor == 0:
        if written_off_minor:
            return InvoiceStatus.WRITTEN_OFF
        return InvoiceStatus.PAID if allocated_minor else InvoiceStatus.CREDITED
    if verdict is not None:
        return InvoiceStatus(verdict)
    if disputed:
        return InvoiceStatus.DISPUTED
    if allocated_minor:
        return InvoiceStatus.PARTLY_PAID
    return InvoiceStatus.ISSUED


def is_overdue(*, open_minor: int, due_on: date, as_of: date) -> bool:
    """Overdue is a question asked on a date, not a stored state."""
    return open_minor > 0 and as_of > due_on
