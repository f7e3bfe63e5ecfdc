"""How our value objects are written into stored events. Every application that decodes events registers them."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from ar.domain.money import Money
from ar.domain.postal_address import PostalAddress
from ar.domain.terms import PaymentTerms


class MoneyAsDict(Transcoding):
    type = Money
    name = "money"

    def encode(self, obj: Money) -> dict[str, Any]:
        return {"minor": obj.minor, "currency": obj.currency}

    def decode(self, data: dict[str, Any]) -> Money:
        return Money(int(data["minor"]), str(data["currency"]))


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class PaymentTermsAsDict(Transcoding):
    type = PaymentTerms
    name = "payment_terms"

    def encode(self, obj: PaymentTerms) -> dict[str, object]:
        return obj.to_dict()

    def decode(self, data: dict[str, object]) -> PaymentTerms:
        return PaymentTerms.from_dict(data)


class PostalAddressAsDict(Transcoding):
    type = PostalAddress
    name = "postal_address"

    def encode(self, obj: PostalAddress) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> PostalAddress:
        return PostalAddress.from_dict(data)


def register(transcoder: JSONTranscoder) -> None:
    for transcoding in (MoneyAsDict(), DateAsISO(), PaymentTermsAsDict(), PostalAddressAsDict()):
        transcoder.register(transcoding)
