"""The early-payment discount (escompte) on an invoice: offered with the issue, taken by a payment in time,
withdrawn when that payment is reversed (`ar.domain.early_payment` decides).

The methods named for a fact (`_discount_offered`, `_discount_taken`, `_discount_withdrawn`) are the bodies of the
`@event` methods of `Invoice`: bound in `ar.domain.invoice` to the events declared there, so that called on an
invoice they record the event and apply it, and replayed they only assign (no decision in them).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ar.domain.early_payment import DiscountOffer, DiscountTaken, discount_taken
from ar.domain.invoice_figures import InvoiceFigures
from ar.domain.money import Money
from ar.domain.settlement import Settlement
from ar.domain.terms import EarlyPaymentDiscount
from ar.domain.vat import VatLine, split_amount


class InvoiceDiscount(InvoiceFigures):
    """The discount an invoice offers and the one a payment took, with its VAT split as recorded."""

    def offer_early_payment_discount(self, discount: EarlyPaymentDiscount, at: datetime) -> None:
        """Record, with the issue, the discount the customer's terms offer: its rate and the last day to pay."""
        if self.discount_offer is None:
            offer = DiscountOffer.of(discount, self.issued_on)
            self._discount_offered(rate=offer.rate, until=offer.until, at=at)

    def _discount_offered(self, rate: Decimal, until: date, at: datetime) -> None:
        self.discount_offer = DiscountOffer(rate, until)

    def _take_discount_if_due(self, payment_id: UUID, value_on: date, at: datetime) -> None:
        """Decided when a payment is allocated (`early_payment.discount_taken`), recorded with its VAT split."""
        amount = discount_taken(self.discount_offer, total=self.total, open_after=self.open_amount, value_on=value_on)
        if amount is not None:
            self._discount_taken(payment_id=payment_id, amount=amount, on=value_on,
                                 vat_split=[line.to_dict() for line in split_amount(amount, self.vat)], at=at)

    def _discount_taken(self, payment_id: UUID, amount: Money, vat_split: list[dict[str, Any]], on: date,
                        at: datetime) -> None:
        lines = [VatLine.from_dict(line, self.currency) for line in vat_split]
        self.discount_taken = DiscountTaken(payment_id, amount, on, lines)
        self.settlements[f"discount:{payment_id}"] = Settlement(on, amount.minor)

    def _discount_withdrawn(self, payment_id: UUID, amount: Money, reason: str, at: datetime) -> None:
        self.discount_taken = None
        self.settlements.pop(f"discount:{payment_id}", None)
