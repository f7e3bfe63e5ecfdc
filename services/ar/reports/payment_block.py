"""How to pay: the creditor's account, the amount, the structured reference, and an EPC QR code a banking app reads.

The QR code follows EPC069-12 ("Quick Response Code: guidelines to enable data capture for the initiation of a SEPA
credit transfer"), version 002, UTF-8 (character set 1), drawn by `segno.helpers.make_epc_qr`: `BCD`, `002`, `1`,
`SCT`, the BIC (optional in version 002), the beneficiary (at most 70 characters), the IBAN, the amount as
`EUR123.45`, no purpose, and the ISO 11649 structured reference in the reference field (never the free text, so a
bank statement carries it back unchanged for matching). Only euro amounts of at least EUR 0.01 get a code.

References: an invoice is paid with its own `structured_reference`. An open balance over several invoices (a
statement, a reminder naming several) is paid with the customer's reference: RF built from the customer's account
number (`account_number`: the customer id's first ten hex digits, upper case, the same wherever it is printed).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from uuid import UUID

import segno
import segno.helpers

from ar.domain import reference
from ar.domain.money import MINOR_UNITS

QR_SCALE = 4  # pixels per module in the PNG: a version 6-8 code is about 200 px, legible printed at 30 mm


def account_number(customer_id: UUID | str) -> str:
    """A customer's account number as documents print it: ten hex digits of its id (about 10^12 values)."""
    return UUID(str(customer_id)).hex[:10].upper()


def customer_reference(customer_id: UUID | str) -> str:
    """The ISO 11649 reference for paying a customer's balance (built in the domain, where matching reads it)."""
    return reference.customer_reference(customer_id)


@dataclass(frozen=True)
class Creditor:
    """Who is paid: the identity from the settings (`Settings.creditor()`), as recorded in a reminder's content."""

    name: str
    legal_name: str = ""
    address: tuple[str, ...] = ()
    postcode: str = ""
    city: str = ""
    country: str = ""
    siren: str = ""
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    phone: str = ""
    email: str = ""

    @classmethod
    def of(cls, values: Mapping[str, object]) -> Creditor:
        """Reminders recorded before the identity was in their content carry only name and email."""
        def text(key: str) -> str:
            return str(values.get(key) or "")
        return cls(name=text("name"), legal_name=text("legal_name") or text("name"),
                   address=tuple(line for line in text("address").split("\n") if line),
                   postcode=text("postcode"), city=text("city"), country=text("country"), siren=text("siren"),
                   vat_id=text("vat_id"), iban=text("iban"), bic=text("bic"), phone=text("phone"),
                   email=text("email"))

    @property
    def address_lines(self) -> list[str]:
        town = " ".join(p for p in (self.postcode, self.city) if p)
        country = self.country if self.country and self.country != "FR" else ""
        return [*self.address, *(line for line in (town, country) if line)]


def iban_grouped(iban: str) -> str:
    """`FR76 3000 6000 0112 3456 7890 189`: groups of four, as printed on a RIB."""
    compact = iban.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def reference_grouped(reference: str) -> str:
    return iban_grouped(reference)


@dataclass(frozen=True)
class PaymentBlock:
    beneficiary: str
    iban: str
    bic: str
    amount_minor: int
    currency: str
    reference: str

    @classmethod
    def of(cls, creditor: Creditor, amount_minor: int, currency: str, reference: str) -> PaymentBlock | None:
        """None when the creditor has no IBAN (nothing to pay to)."""
        if not creditor.iban:
            return None
        return cls(beneficiary=(creditor.legal_name or creditor.name)[:70], iban=creditor.iban.replace(" ", ""),
                   bic=creditor.bic.replace(" ", ""), amount_minor=amount_minor, currency=currency,
                   reference=reference.replace(" ", ""))

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-MINOR_UNITS[self.currency])

    @property
    def has_qr(self) -> bool:
        return self.currency == "EUR" and 1 <= self.amount_minor <= 99_999_999_999

    def epc_payload(self) -> str:
        """The EPC069-12 text, as the QR code holds it (what `segno` encodes; a test compares the two)."""
        amount = f"EUR{self.amount:.2f}".rstrip("0").rstrip(".")
        return "\n".join(("BCD", "002", "1", "SCT", self.bic, self.beneficiary, self.iban, amount, "",
                          self.reference))

    @cached_property
    def qr(self) -> segno.QRCode:
        if not self.has_qr:
            raise ValueError("an EPC QR code is for a euro amount from 0.01 to 999,999,999.99")
        return segno.helpers.make_epc_qr(name=self.beneficiary, iban=self.iban, amount=self.amount,
                                         reference=self.reference, bic=self.bic or None, encoding="utf-8")

    def qr_png(self, scale: int = QR_SCALE) -> bytes:
        out = io.BytesIO()
        self.qr.save(out, kind="png", scale=scale, border=4)
        return out.getvalue()

    def qr_svg(self, scale: int = QR_SCALE) -> str:
        out = io.BytesIO()
        self.qr.save(out, kind="svg", scale=scale, border=4, xmldecl=False)
        return out.getvalue().decode()

    def qr_data_uri(self, scale: int = QR_SCALE) -> str:
        """A PNG as a data URI, for an HTML e-mail (`<img src=...>`): no remote image for a mail client to block."""
        return "data:image/png;base64," + base64.b64encode(self.qr_png(scale)).decode()

    def to_dict(self, *, qr: bool = True) -> dict[str, object]:
        """For JSON answers and templates: the block's fields, the payload, and the QR code as a data URI (None
        without `qr`: drawing it is the costly part)."""
        return {"beneficiary": self.beneficiary, "iban": self.iban, "iban_grouped": iban_grouped(self.iban),
                "bic": self.bic, "amount_minor": self.amount_minor, "currency": self.currency,
                "reference": self.reference, "reference_grouped": reference_grouped(self.reference),
                "epc_qr": self.epc_payload() if self.has_qr else None,
                "qr_png_data_uri": self.qr_data_uri() if self.has_qr and qr else None}
