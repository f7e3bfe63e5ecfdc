"""Payment terms and the French legal ceilings on them (Code de commerce L441-10)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from ar.domain.errors import DomainRuleViolation, TermsBeyondLegalMaximum


class CustomerKind(StrEnum):
    PUBLIC = "public"
    PROFESSIONAL = "professional"
    INDIVIDUAL = "individual"


class TermsKind(StrEnum):
    NET = "net"
    END_OF_MONTH_45 = "end_of_month_45"


class EndOfMonthReading(StrEnum):
    """The two readings of "45 days end of month" found in practice."""

    PLUS_45_THEN_END_OF_MONTH = "plus_45_then_end_of_month"
    END_OF_MONTH_THEN_PLUS_45 = "end_of_month_then_plus_45"


# L441-10: at most 60 days from the invoice date (net) for professionals; public buyers are bound by
# R2192-10/11 to 30 to 60 days depending on the buyer, of which 60 is the widest.
MAX_NET_DAYS = 60
DEFAULT_NET_DAYS = 30
PROFESSIONAL_BASIS = "Code de commerce L441-10"
PUBLIC_BASIS = "Code de la commande publique R2192-10"


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


MAX_DISCOUNT_RATE = Decimal(10)  # percent: beyond, it is a price reduction, not an early-payment discount
MAX_DISCOUNT_DAYS = 90


@dataclass(frozen=True, slots=True)
class EarlyPaymentDiscount:
    """An escompte: `rate` percent off the total when paid within `days` of the issue date (L441-9 requires its
    conditions on the invoice; see `ar.domain.early_payment`)."""

    rate: Decimal
    days: int

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() \
                or not Decimal(0) < self.rate <= MAX_DISCOUNT_RATE:
            raise DomainRuleViolation(f"an early-payment discount rate is a percentage above 0 and at most "
                                      f"{MAX_DISCOUNT_RATE}", field="terms.discount.rate")
        if type(self.days) is not int or not 1 <= self.days <= MAX_DISCOUNT_DAYS:
            raise DomainRuleViolation(f"an early-payment discount window is 1 to {MAX_DISCOUNT_DAYS} days from the "
                                      "issue date", field="terms.discount.days")

    def until(self, issued_on: date) -> date:
        """The last day of the window: a payment whose value date is on or before it takes the discount."""
        return issued_on + timedelta(days=self.days)

    def to_dict(self) -> dict[str, object]:
        return {"rate": str(self.rate), "days": self.days}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> EarlyPaymentDiscount:
        try:
            rate = Decimal(str(data["rate"]))
        except InvalidOperation:
            raise DomainRuleViolation("the discount rate is a decimal number", field="terms.discount.rate") from None
        return cls(rate=rate, days=int(str(data["days"])))


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    kind: TermsKind = TermsKind.NET
    days: int = DEFAULT_NET_DAYS
    reading: EndOfMonthReading | None = None
    discount: EarlyPaymentDiscount | None = None

    def __post_init__(self) -> None:
        if self.kind is TermsKind.NET:
            if not 0 <= self.days <= 365:
                raise DomainRuleViolation("net terms must be between 0 and 365 days", field="terms.days")
            if self.reading is not None:
                raise DomainRuleViolation("a reading applies to end-of-month terms only", field="terms.reading")
        elif self.reading is None:
            raise DomainRuleViolation(
                "45 days end of month needs a reading: plus_45_then_end_of_month or end_of_month_then_plus_45",
                field="terms.reading",
            )

    def due_on(self, issued_on: date) -> date:
        if self.kind is TermsKind.NET:
            return issued_on + timedelta(days=self.days)
        if self.reading is EndOfMonthReading.PLUS_45_THEN_END_OF_MONTH:
            return end_of_month(issued_on + timedelta(days=45))
        return end_of_month(issued_on) + timedelta(days=45)

    def check_legal_for(self, kind: CustomerKind) -> None:
        """Refuse terms beyond the legal maximum for business and public debtors."""
        if kind is CustomerKind.INDIVIDUAL:
            return
        if self.kind is TermsKind.END_OF_MONTH_45:
            if kind is CustomerKind.PUBLIC:
                raise TermsBeyondLegalMaximum(
                    "a public buyer pays within 30 to 60 days net of receipt (Code de la commande publique "
                    "R2192-10); 45 days end of month can run to 75 days",
                    field="terms.kind",
                )
            return
        if self.days > MAX_NET_DAYS:
            raise TermsBeyondLegalMaximum(
                f"{self.days} days exceeds the legal maximum of {MAX_NET_DAYS} days from the invoice date for a "
                f"{kind.value} debtor (Code de commerce L441-10); use at most {MAX_NET_DAYS} days or 45 days end "
                "of month",
                field="terms.days",
            )

    def legal_ceiling(self, kind: CustomerKind, issued_on: date) -> LegalCeiling | None:
        """The latest due date the law allows this debtor for an invoice issued on `issued_on` (see `legal_ceiling`)."""
        return legal_ceiling(kind, issued_on, self.reading)

    def to_dict(self) -> dict[str, object]:
        """Terms without a discount are written as they were before discounts existed (no `discount` key), so
        that terms already stored and terms stored today without one read and encode alike."""
        data: dict[str, object] = {"kind": self.kind.value, "days": self.days,
                                   "reading": self.reading.value if self.reading else None}
        if self.discount is not None:
            data["discount"] = self.discount.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> PaymentTerms:
        reading = data.get("reading")
        discount = data.get("discount")  # absent from terms stored before discounts: none
        return cls(
            kind=TermsKind(str(data["kind"])),
            days=int(str(data.get("days", DEFAULT_NET_DAYS))),
            reading=EndOfMonthReading(str(reading)) if reading else None,
            discount=EarlyPaymentDiscount.from_dict(discount) if isinstance(discount, dict) else None,
        )


@dataclass(frozen=True, slots=True)
class LegalCeiling:
    """The latest due date an agreed term may set, and the rule that sets it."""

    latest_due_on: date
    days: int  # from the invoice date
    basis: str


def legal_ceiling(kind: CustomerKind, issued_on: date, reading: EndOfMonthReading | None) -> LegalCeiling | None:
    """The legal maximum of an explicit due date, or None where the law sets none.

    - Professional (L441-10): 60 days from the invoice date or 45 days end of month, whichever is later; the end of
      month is read as the customer's terms read it, and both readings are allowed for a customer on net terms
      (refusing needs certainty).
    - Public buyer (R2192-10): 30 days for the State and local authorities, 50 for public hospitals, 60 for public
      companies. The buyer's category is not recorded, so the widest (60) applies; the clock starts at receipt of the
      invoice, taken as its issue date (e-invoices are deposited the day they are issued).
    - Consumer: L441-10 governs dealings between professionals; nothing caps the term agreed with a private
      individual, so no ceiling.
    """
    if kind is CustomerKind.INDIVIDUAL:
        return None
    net = issued_on + timedelta(days=MAX_NET_DAYS)
    if kind is CustomerKind.PUBLIC:
        return LegalCeiling(net, MAX_NET_DAYS, PUBLIC_BASIS)
    readings = [reading] if reading is not None else list(EndOfMonthReading)
    end_of_month_45 = max(PaymentTerms(TermsKind.END_OF_MONTH_45, reading=r).due_on(issued_on) for r in readings)
    latest = max(net, end_of_month_45)
    return LegalCeiling(latest, (latest - issued_on).days, PROFESSIONAL_BASIS)


def check_due_on(ceiling: LegalCeiling | None, issued_on: date, due_on: date, derogation: str | None) -> None:
    """An explicit due date beyond the legal maximum is refused unless the request states a derogation (a reason,
    recorded on the invoice): the law is the default, an exception is a decision someone owns."""
    if derogation is not None and not derogation.strip():
        raise DomainRuleViolation("a derogation needs a reason", field="due_on_derogation")
    if ceiling is None or due_on <= ceiling.latest_due_on or derogation is not None:
        return
    days = (due_on - issued_on).days
    raise TermsBeyondLegalMaximum(
        f"a due date {days} days after the invoice date exceeds the legal maximum for this debtor "
        f"({ceiling.basis}): at the latest {ceiling.latest_due_on.isoformat()}, {ceiling.days} days; state a "
        "reason in due_on_derogation to issue it anyway",
        field="due_on",
        figures={"maximum_due_on": ceiling.latest_due_on.isoformat(), "maximum_days": ceiling.days,
                 "days": days, "legal_basis": ceiling.basis})
