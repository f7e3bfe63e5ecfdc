"""What an invoice is (standard, deposit, final) and what it bills (goods, services): fixed at issue, read by the
rules on deposits and payment terms, the bodies of the API and the read models."""

from __future__ import annotations

from enum import StrEnum


class InvoiceKind(StrEnum):
    STANDARD = "standard"
    DEPOSIT = "deposit"  # acompte
    FINAL = "final"  # deducts the deposits invoiced before it


class Category(StrEnum):
    GOODS = "goods"
    SERVICES = "services"
    MIXED = "mixed"
