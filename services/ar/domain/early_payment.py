"""Early-payment discount (escompte): what an invoice offers, when a payment takes it, its VAT split, its mention.

L441-9 of the Code de commerce requires every invoice to state the conditions of a discount for early payment, or
that there is none. A discount is a reduction of the price, so the VAT it carries is reduced in proportion: the
amount taken is split over the invoice's VAT lines (`vat.split_amount`), to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from ar.domain.money import Money
from ar.domain.terms import EarlyPaymentDiscount, PaymentTerms
from ar.domain.vat import HUNDRED, VatLine


@dataclass(frozen=True, slots=True)
class DiscountOffer:
    """What an invoice offers from its issue: `rate` percent off when paid on or before `until` (value date)."""

    rate: Decimal
    until: date

    @classmethod
    def of(cls, discount: EarlyPaymentDiscount, issued_on: date) -> DiscountOffer:
        return cls(discount.rate, discount.until(issued_on))

    def amount(self, total: Money) -> Money:
        """The discount on `total`, rounded half up where money is rounded (`Money.apply_rate`)."""
        return total.apply_rate(self.rate / HUNDRED)

    def discounted(self, total: Money) -> Money:
        """What settles the invoice within the window: the total less the discount."""
        return total - self.amount(total)


class DiscountTaken(NamedTuple):
    """The early-payment discount a payment took: how much, on what day (its value date), its VAT split."""

    payment_id: UUID
    amount: Money
    on: date
    vat_split: list[VatLine]


def discount_taken(offer: DiscountOffer | None, *, total: Money, open_after: Money, value_on: date) -> Money | None:
    """The discount a payment allocated with value date `value_on` takes, leaving `open_after` open: None when it
    takes none.

    Taken when the payment is in time (`value_on` on or before `offer.until`, the boundary day included) and what it
    leaves open is no more than the discount, that is when at least the discounted amount has been paid; the
    discount is then what is left open (a payer who paid a little more than the discounted amount takes a little
    less). Late, or short of the discounted amount: none, the invoice stays partly paid."""
    if offer is None or value_on > offer.until:
        return None
    if not open_after.is_positive or open_after > offer.amount(total):
        return None
    return open_after


def _rate(rate: Decimal, language: str) -> str:
    text = format(rate.normalize(), "f")
    return text.replace(".", ",") if language == "fr" else text


def mention(terms_or_discount: PaymentTerms | EarlyPaymentDiscount | DiscountOffer | None, language: str) -> str:
    """The L441-9 mention of a document: the discount an invoice offers (with its last day), the one terms carry
    (with its days), or that there is none. `language`: "fr" or "en" (anything else reads as English)."""
    discount: EarlyPaymentDiscount | DiscountOffer | None = (
        terms_or_discount.discount if isinstance(terms_or_discount, PaymentTerms) else terms_or_discount)
    fr = language == "fr"
    if discount is None:
        return "Escompte pour paiement anticipé : néant" if fr else "Early payment discount: none"
    rate = _rate(discount.rate, language)
    if isinstance(discount, DiscountOffer):
        if fr:
            return f"Escompte pour paiement anticipé : {rate} % si paiement avant le {discount.until:%d/%m/%Y}"
        return f"Early payment discount: {rate}% if paid by {discount.until:%d/%m/%Y}"
    if fr:
        return f"Escompte pour paiement anticipé : {rate} % si paiement sous {discount.days} jours"
    return f"Early payment discount: {rate}% if paid within {discount.days} days of the invoice date"
