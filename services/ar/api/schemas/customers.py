from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ar.api.schemas.common import (
    PATTERN_WORDS,
    Currency,
    Email,
    ExternalId,
    In,
    MinorUnits,
    MoneyOut,
    Percent,
    Text,
)
from ar.domain.customer import CreditLimitPolicy, Customer, Language
from ar.domain.money import Money
from ar.domain.postal_address import MAX_LINES, PostalAddress
from ar.domain.terms import CustomerKind, EarlyPaymentDiscount, EndOfMonthReading, PaymentTerms, TermsKind

COUNTRY_PATTERN = r"^[A-Z]{2}$"
PATTERN_WORDS[COUNTRY_PATTERN] = "an ISO 3166 country code in capitals, such as FR"


class DiscountIn(In):
    """An early-payment discount (escompte): `rate` percent off when paid within `days` of the issue date."""

    rate: Percent = Field(description="percent off the total, above 0 and at most 10", examples=["2"])
    days: StrictInt = Field(description="the window, 1 to 90 days from the issue date", examples=[10])

    def to_domain(self) -> EarlyPaymentDiscount:
        return EarlyPaymentDiscount(self.rate, self.days)


class DiscountOut(BaseModel):
    rate: Decimal
    days: int


class TermsIn(In):
    kind: TermsKind = TermsKind.NET
    days: Annotated[StrictInt, Field(ge=0, le=365)] = 30
    reading: EndOfMonthReading | None = Field(None, description="required for end_of_month_45")
    discount: DiscountIn | None = Field(None, description="an early-payment discount; none if absent (L441-9)")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"kind": "end_of_month_45", "reading": "end_of_month_then_plus_45"}, {"kind": "net", "days": 60}]})

    def to_domain(self) -> PaymentTerms:
        days = 45 if self.kind is TermsKind.END_OF_MONTH_45 else self.days
        discount = self.discount.to_domain() if self.discount else None
        return PaymentTerms(kind=self.kind, days=days, reading=self.reading, discount=discount)


class TermsOut(BaseModel):
    kind: TermsKind
    days: int
    reading: EndOfMonthReading | None
    discount: DiscountOut | None = Field(None, description="the early-payment discount, if any")

    @classmethod
    def of(cls, terms: PaymentTerms) -> TermsOut:
        d = terms.discount
        return cls(kind=terms.kind, days=terms.days, reading=terms.reading,
                   discount=DiscountOut(rate=d.rate, days=d.days) if d else None)


class CreditLimitIn(In):
    credit_limit_minor: MinorUnits | None = Field(None, ge=0, description="null: no limit")
    currency: Currency = "EUR"
    credit_limit_policy: CreditLimitPolicy = Field(
        CreditLimitPolicy.FLAG, description="flag: issue and record that the limit was exceeded; refuse: 422")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"credit_limit_minor": 5000000, "currency": "EUR", "credit_limit_policy": "refuse"}]})

    def to_domain(self) -> Money | None:
        return None if self.credit_limit_minor is None else Money(self.credit_limit_minor, self.currency)


AddressLine = Annotated[Text, Field(max_length=100, examples=["12 rue des Lilas"])]
Siren = Annotated[str, Field(min_length=1, max_length=20, examples=["443061841"], description=(
    "the company's SIREN, nine digits (spaces allowed); checked for French companies and public bodies, where a "
    "SIRET (14 digits) is refused"))]


class AddressIn(In):
    """The billing address, as the recipient block of a letter prints it under the customer's name."""

    lines: list[AddressLine] = Field(min_length=1, max_length=MAX_LINES,
                                     description="building, street, PO box: top down, without name, postcode or city",
                                     examples=[["Bâtiment B", "12 rue des Lilas"]])
    postcode: Annotated[str, Field(max_length=16, examples=["69003"])] = Field(
        description="five digits in France")
    city: Annotated[Text, Field(max_length=100, examples=["Lyon"])]
    country: Annotated[str | None, Field(pattern=COUNTRY_PATTERN, examples=["FR"])] = Field(
        None, description="ISO 3166 alpha-2; the customer's country when absent")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"lines": ["12 rue des Lilas"], "postcode": "69003", "city": "Lyon", "country": "FR"}]})

    def to_domain(self, customer_country: str) -> PostalAddress:
        return PostalAddress.of(self.lines, self.postcode, self.city, self.country or customer_country)


class AddressOut(BaseModel):
    lines: list[str]
    postcode: str
    city: str
    country: str

    @classmethod
    def of(cls, a: PostalAddress) -> AddressOut:
        return cls(lines=list(a.lines), postcode=a.postcode, city=a.city, country=a.country)


class BillingIdentityIn(In):
    """Where letters and statements go, and the SIREN e-invoices name the customer by; null or absent clears."""

    billing_address: AddressIn | None = Field(None, description="null: no postal address")
    siren: Siren | None = Field(None, description="null: no SIREN")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "billing_address": {"lines": ["Bâtiment B", "3 quai Perrache"], "postcode": "69002", "city": "Lyon",
                            "country": "FR"},
        "siren": "443061841"}]})


class RegisterCustomerIn(CreditLimitIn):
    name: Annotated[Text, Field(max_length=200, examples=["Boulangerie Martin SARL"])]
    kind: CustomerKind = Field(examples=["professional"])
    country: Annotated[str, Field(pattern=COUNTRY_PATTERN, examples=["FR"])] = "FR"
    language: Language = Language.FR
    emails: list[Email] = Field(default_factory=list, max_length=20, examples=[["compta@martin.fr"]])
    terms: TermsIn = Field(default_factory=TermsIn)
    external_id: ExternalId | None = Field(
        None, description="id in your ERP; a retry with the same external_id returns the same customer")
    billing_address: AddressIn | None = Field(None, description="where letters and statements go")
    siren: Siren | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Boulangerie Martin SARL", "kind": "professional", "country": "FR", "language": "fr",
        "emails": ["compta@martin.fr"], "terms": {"kind": "net", "days": 30}, "credit_limit_minor": 5000000,
        "currency": "EUR", "external_id": "ERP-10442",
        "billing_address": {"lines": ["12 rue des Lilas"], "postcode": "69003", "city": "Lyon", "country": "FR"},
        "siren": "443061841",
    }]})


class CustomerOut(BaseModel):
    id: UUID
    version: int
    name: str
    kind: CustomerKind
    country: str
    language: Language
    emails: list[str]
    terms: TermsOut
    credit_limit: MoneyOut | None
    credit_limit_policy: CreditLimitPolicy
    external_id: str | None
    registered_at: datetime
    billing_address: AddressOut | None = Field(description="null: no postal address known")
    siren: str | None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c", "version": 1, "name": "Boulangerie Martin SARL",
        "kind": "professional", "country": "FR", "language": "fr", "emails": ["compta@martin.fr"],
        "terms": {"kind": "end_of_month_45", "days": 45, "reading": "end_of_month_then_plus_45"},
        "credit_limit": {"minor": 5000000, "currency": "EUR", "formatted": "50000.00 EUR"},
        "credit_limit_policy": "flag", "external_id": "ERP-10442", "registered_at": "2026-03-01T09:12:00Z",
        "billing_address": {"lines": ["12 rue des Lilas"], "postcode": "69003", "city": "LYON", "country": "FR"},
        "siren": "443061841",
    }]})

    @classmethod
    def of(cls, c: Customer) -> CustomerOut:
        return cls(id=c.id, version=c.version, name=c.name, kind=c.kind, country=c.country, language=c.language,
                   emails=c.emails, terms=TermsOut.of(c.terms),
                   credit_limit=MoneyOut.of(c.credit_limit) if c.credit_limit else None,
                   credit_limit_policy=c.credit_limit_policy, external_id=c.external_id,
                   registered_at=c.registered_at,
                   billing_address=AddressOut.of(c.billing_address) if c.billing_address else None, siren=c.siren)
