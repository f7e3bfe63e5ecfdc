"""A customer's details (name, country, language, emails) change as its system of record says: recorded where they
differ, refused where the profile rules refuse them, replayed by assignment only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from ar.domain.customer import Customer, Language
from ar.domain.errors import DomainRuleViolation
from ar.domain.terms import CustomerKind, PaymentTerms

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def customer(*, collected: bool = True) -> Customer:
    c = Customer.register(id=uuid4(), name="Dupont SARL", kind=CustomerKind.PROFESSIONAL, country="FR",
                          language=Language.FR, emails=["compta@dupont.example"], terms=PaymentTerms(),
                          credit_limit=None, external_id="C-1", at=AT)
    if collected:
        c.collect_events()
    return c


def test_changed_details_are_recorded_in_one_event_and_replay_to_the_same_customer() -> None:
    c = customer(collected=False)
    c.change_details(name="  Dupont & Fils SARL ", country="BE", language=Language.EN,
                     emails=["ar@dupont.example"], at=AT)
    events = c.collect_events()
    assert [type(e).__name__ for e in events] == ["Registered", "DetailsChanged"]
    assert (c.name, c.country, c.language, c.emails) == ("Dupont & Fils SARL", "BE", Language.EN,
                                                         ["ar@dupont.example"])
    replayed: Any = None
    for e in events:
        replayed = e.mutate(replayed)
    assert (replayed.name, replayed.country, replayed.language, replayed.version) == (
        "Dupont & Fils SARL", "BE", Language.EN, 2)


def test_the_same_details_record_nothing() -> None:
    c = customer()
    c.change_details(name="Dupont SARL", country="FR", language=Language.FR, emails=["compta@dupont.example"], at=AT)
    assert c.collect_events() == []


@pytest.mark.parametrize(("name", "country", "emails", "field"), [
    ("  ", "FR", [], "name"), ("Dupont", "fr", [], "country"), ("Dupont", "FR", ["nope"], "emails[0]")])
def test_details_the_profile_rules_refuse_are_refused_naming_the_field(name: str, country: str, emails: list[str],
                                                                       field: str) -> None:
    c = customer()
    with pytest.raises(DomainRuleViolation) as refused:
        c.change_details(name=name, country=country, language=Language.FR, emails=emails, at=AT)
    assert refused.value.field == field
    assert c.collect_events() == []
