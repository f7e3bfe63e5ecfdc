"""The demo's story: three debtors, one of each kind, and eight invoices falling due in March and April 2026.

Data only, so that the story can be read (and changed) apart from the machinery that tells it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ar.domain.clock import BUSINESS_TZ

START = datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ)
FIRST_DAY = START.date()
SERIES = "F2026"


@dataclass(frozen=True)
class CustomerSpec:
    key: str
    name: str
    kind: str
    email: str
    terms_days: int


@dataclass(frozen=True)
class InvoiceSpec:
    """An invoice incl. 20% VAT, issued on `issued_on` (before the start: issued on the first day, back-dated);
    its due date follows from the customer's terms."""

    key: str
    customer: str
    net_minor: int
    issued_on: date
    label: str

    @property
    def vat_minor(self) -> int:
        return self.net_minor // 5

    @property
    def total_minor(self) -> int:
        return self.net_minor + self.vat_minor


CUSTOMERS = (
    CustomerSpec("mairie", "Mairie de Lyon", "public", "factures@mairie-lyon.example", 30),
    CustomerSpec("martin", "Boulangerie Martin SARL", "professional", "compta@boulangerie-martin.example", 45),
    CustomerSpec("dupont", "Jean Dupont", "individual", "jean.dupont@example.org", 30),
)

INVOICES = (
    InvoiceSpec("A", "mairie", 1_000_000, date(2026, 3, 2), "road works, phase 1"),
    InvoiceSpec("B", "mairie", 150_000, date(2026, 2, 9), "signage"),
    InvoiceSpec("C", "martin", 450_000, date(2026, 1, 30), "oven maintenance contract"),
    InvoiceSpec("D", "martin", 180_000, date(2026, 2, 13), "spare parts"),
    InvoiceSpec("E", "martin", 80_000, date(2026, 3, 16), "emergency call-out"),
    InvoiceSpec("F", "dupont", 70_000, date(2026, 2, 18), "kitchen repair"),
    InvoiceSpec("G", "dupont", 15_000, date(2026, 3, 16), "annual boiler check"),
    InvoiceSpec("H", "mairie", 350_000, date(2026, 3, 30), "road works, phase 2"),
)
