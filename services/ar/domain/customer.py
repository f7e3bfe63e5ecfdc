"""Customers (debtors): who owes, on what terms, up to what limit."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money
from ar.domain.postal_address import PostalAddress
from ar.domain.siren import check_siren
from ar.domain.terms import CustomerKind, PaymentTerms

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRY = re.compile(r"[A-Z]{2}")


class Language(StrEnum):
    FR = "fr"
    EN = "en"


class CreditLimitPolicy(StrEnum):
    """What issuing an invoice over the limit does. Flag by default: the goods are usually delivered already."""

    FLAG = "flag"
    REFUSE = "refuse"


class Unchanged(Enum):
    """A part of an update its sender did not send: left as it is (where None would clear it)."""

    TOKEN = "unchanged"


UNCHANGED = Unchanged.TOKEN


def check_profile(name: str, country: str, emails: list[str]) -> None:
    if not name.strip():
        raise DomainRuleViolation("a customer needs a name", field="name")
    if not COUNTRY.fullmatch(country):
        raise DomainRuleViolation("country is an ISO 3166-1 alpha-2 code such as FR", field="country")
    for i, email in enumerate(emails):
        if not EMAIL.fullmatch(email):
            raise DomainRuleViolation(f"{email!r} is not an email address", field=f"emails[{i}]")


def checked_siren(siren: str | None, kind: CustomerKind, country: str) -> str | None:
    """Optional; a French company's or public body's must be a valid SIREN (a SIRET is refused, saying so). A
    foreign or private customer's is kept as given: the number is INSEE's, we check only the ones it issues to
    those it registers."""
    if siren is None or not siren.strip():
        return None
    if country == "FR" and kind is not CustomerKind.INDIVIDUAL:
        return check_siren(siren)
    return siren.strip()


class Customer(Aggregate):
    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        name: str,
        kind: CustomerKind,
        country: str,
        language: Language,
        emails: list[str],
        terms: PaymentTerms,
        credit_limit: Money | None,
        credit_limit_policy: CreditLimitPolicy = CreditLimitPolicy.FLAG,
        external_id: str | None,
        at: datetime,
        billing_address: PostalAddress | None = None,
        siren: str | None = None,
    ) -> Customer:
        check_profile(name, country, emails)
        siren = checked_siren(siren, kind, country)
        terms.check_legal_for(kind)
        if credit_limit is not None and credit_limit.minor < 0:
            raise DomainRuleViolation("a credit limit cannot be negative", field="credit_limit_minor")
        return cls(
            id=id,
            name=name.strip(),
            kind=kind.value,
            country=country,
            language=language.value,
            emails=list(emails),
            terms=terms,
            credit_limit=credit_limit,
            credit_limit_policy=credit_limit_policy.value,
            external_id=external_id,
            at=at,
            billing_address=billing_address,
            siren=siren,
        )

    class Registered(Aggregate.Created):
        """v2 adds the billing address and SIREN (None both before them)."""

        class_version = 2
        name: str
        kind: str
        country: str
        language: str
        emails: list[str]
        terms: PaymentTerms
        credit_limit: Money | None
        credit_limit_policy: str
        external_id: str | None
        at: datetime
        billing_address: PostalAddress | None
        siren: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["billing_address"] = None
            state["siren"] = None

    @event(Registered)
    def __init__(
        self,
        id: UUID,
        name: str,
        kind: str,
        country: str,
        language: str,
        emails: list[str],
        terms: PaymentTerms,
        credit_limit: Money | None,
        credit_limit_policy: str,
        external_id: str | None,
        at: datetime,
        billing_address: PostalAddress | None = None,
        siren: str | None = None,
    ) -> None:
        self.name = name
        self.kind = CustomerKind(kind)
        self.country = country
        self.language = Language(language)
        self.emails = emails
        self.terms = terms
        self.credit_limit = credit_limit
        self.credit_limit_policy = CreditLimitPolicy(credit_limit_policy)
        self.external_id = external_id
        self.registered_at = at
        self.billing_address = billing_address
        self.siren = siren
        self.dunning_policy_id: UUID | None = None  # None: the default policy of its kind
        self.payer_accounts: list[str] = []  # IBANs its credits come from (PayerAccountLearned)

    def change_details(self, *, name: str, country: str, language: Language, emails: list[str],
                       at: datetime) -> None:
        """The profile as the customer's system of record now has it (an ERP): recorded only where it differs."""
        check_profile(name, country, emails)
        if (name.strip(), country, language, list(emails)) == (self.name, self.country, self.language, self.emails):
            return
        self._details_changed(name=name.strip(), country=country, language=language.value, emails=list(emails),
                              at=at)

    class DetailsChanged(Aggregate.Event):
        name: str
        country: str
        language: str
        emails: list[str]
        at: datetime

    @event(DetailsChanged)
    def _details_changed(self, name: str, country: str, language: str, emails: list[str], at: datetime) -> None:
        self.name = name
        self.country = country
        self.language = Language(language)
        self.emails = emails

    def change_billing_address(self, address: PostalAddress | None, at: datetime) -> None:
        """Where letters and statements go (None: no postal address known); recorded only where it differs."""
        if address != self.billing_address:
            self._billing_address_changed(address=address, at=at)

    class BillingAddressChanged(Aggregate.Event):
        """`address` None: no postal address known any more."""

        address: PostalAddress | None
        at: datetime

    @event(BillingAddressChanged)
    def _billing_address_changed(self, address: PostalAddress | None, at: datetime) -> None:
        self.billing_address = address

    def record_siren(self, siren: str | None, at: datetime) -> None:
        """The customer's SIREN (None: none known), checked as at registration; recorded only where it differs."""
        siren = checked_siren(siren, self.kind, self.country)
        if siren != self.siren:
            self._siren_recorded(siren=siren, at=at)

    class SirenRecorded(Aggregate.Event):
        """`siren` None: the number recorded before was withdrawn."""

        siren: str | None
        at: datetime

    @event(SirenRecorded)
    def _siren_recorded(self, siren: str | None, at: datetime) -> None:
        self.siren = siren

    def change_terms(self, terms: PaymentTerms, at: datetime) -> None:
        terms.check_legal_for(self.kind)
        if terms == self.terms:
            return
        self._terms_changed(terms=terms, at=at)

    class TermsChanged(Aggregate.Event):
        terms: PaymentTerms
        at: datetime

    @event(TermsChanged)
    def _terms_changed(self, terms: PaymentTerms, at: datetime) -> None:
        self.terms = terms

    def change_credit_limit(self, credit_limit: Money | None, at: datetime,
                            policy: CreditLimitPolicy | None = None) -> None:
        """Set the limit (None: no limit) and, when given, what exceeding it does."""
        policy = policy or self.credit_limit_policy
        if credit_limit is not None and credit_limit.minor < 0:
            raise DomainRuleViolation("a credit limit cannot be negative", field="credit_limit_minor")
        if credit_limit == self.credit_limit and policy is self.credit_limit_policy:
            return
        self._credit_limit_changed(credit_limit=credit_limit, policy=policy.value, at=at)

    class CreditLimitChanged(Aggregate.Event):
        """`credit_limit` None: no limit; `policy` what exceeding it does (a `CreditLimitPolicy` value)."""

        credit_limit: Money | None
        policy: str
        at: datetime

    @event(CreditLimitChanged)
    def _credit_limit_changed(self, credit_limit: Money | None, policy: str, at: datetime) -> None:
        self.credit_limit = credit_limit
        self.credit_limit_policy = CreditLimitPolicy(policy)

    def credit_excess(self, exposure: Money, amount: Money) -> Money | None:
        """How far `amount` on top of the current `exposure` goes over the limit, if it does."""
        if self.credit_limit is None or self.credit_limit.currency != amount.currency:
            return None
        excess = exposure + amount - self.credit_limit
        return excess if excess.is_positive else None

    def assign_dunning_policy(self, policy_id: UUID | None, at: datetime) -> None:
        """Override the default policy of the customer's kind (None: back to the default)."""
        if policy_id != self.dunning_policy_id:
            self._dunning_policy_assigned(policy_id=policy_id, at=at)

    class DunningPolicyAssigned(Aggregate.Event):
        """`policy_id` None: back to the default policy of the customer's kind."""

        policy_id: UUID | None
        at: datetime

    @event(DunningPolicyAssigned)
    def _dunning_policy_assigned(self, policy_id: UUID | None, at: datetime) -> None:
        self.dunning_policy_id = policy_id

    def learn_payer_account(self, iban: str, at: datetime) -> None:
        """A confirmed bank match: credits from this IBAN are this customer's (recorded once per IBAN)."""
        iban = iban.replace(" ", "").upper()
        if iban in self.payer_accounts:
            return
        self._payer_account_learned(iban=iban, at=at)

    class PayerAccountLearned(Aggregate.Event):
        iban: str
        at: datetime

    @event(PayerAccountLearned)
    def _payer_account_learned(self, iban: str, at: datetime) -> None:
        self.payer_accounts = [*self.payer_accounts, iban]
