from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from ar.domain.customer import Customer, Language
from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money
from ar.domain.terms import CustomerKind, PaymentTerms

AT = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)


def register(**overrides: Any) -> Customer:
    fields: dict[str, Any] = {
        "id": uuid4(), "name": "Dupont SARL", "kind": CustomerKind.PROFESSIONAL, "country": "FR",
        "language": Language.FR, "emails": ["compta@dupont.example"], "terms": PaymentTerms(),
        "credit_limit": Money(500_000, "EUR"), "external_id": None, "at": AT,
    }
    return Customer.register(**(fields | overrides))


def test_registering_records_one_event_with_the_profile() -> None:
    customer = register(name="  Dupont SARL  ")
    assert [type(e).__name__ for e in customer.collect_events()] == ["Registered"]
    assert customer.name == "Dupont SARL"
    assert customer.kind is CustomerKind.PROFESSIONAL
    assert customer.language is Language.FR
    assert customer.credit_limit == Money(500_000, "EUR")
    assert customer.registered_at == AT


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "   "}, "name"),
        ({"country": "fr"}, "country"),
        ({"country": "FRA"}, "country"),
        ({"emails": ["ok@dupont.example", "not-an-email"]}, "emails[1]"),
        ({"credit_limit": Money(-1, "EUR")}, "credit_limit_minor"),
    ],
)
def test_an_invalid_profile_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        register(**overrides)
    assert refused.value.field == field


def test_a_customer_may_have_no_credit_limit_and_no_email() -> None:
    customer = register(credit_limit=None, emails=[])
    assert customer.credit_limit is None
    assert customer.emails == []


def test_changing_the_credit_limit_records_an_event_only_when_it_changes() -> None:
    customer = register()
    customer.collect_events()
    customer.change_credit_limit(Money(500_000, "EUR"), AT)
    assert customer.collect_events() == []
    customer.change_credit_limit(Money(100_000, "EUR"), AT)
    assert [type(e).__name__ for e in customer.collect_events()] == ["CreditLimitChanged"]
    assert customer.credit_limit == Money(100_000, "EUR")


def test_a_negative_credit_limit_is_refused_and_the_old_one_kept() -> None:
    customer = register()
    customer.collect_events()
    with pytest.raises(DomainRuleViolation):
        customer.change_credit_limit(Money(-100, "EUR"), AT)
    assert customer.credit_limit == Money(500_000, "EUR")
    assert customer.collect_events() == []
