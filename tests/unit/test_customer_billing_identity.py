"""A customer's billing address and SIREN: the rules a letter and INSEE impose, recorded only where they differ,
replayed by assignment; a customer registered before them (Registered v1) reads with neither."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fr import siren as stdnum_siren

from ar.domain.customer import Customer, Language
from ar.domain.errors import DomainRuleViolation
from ar.domain.postal_address import PostalAddress
from ar.domain.siren import check_siren, is_siren, luhn_valid
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.runtime import Runtime

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LYON = PostalAddress.of(["12 rue des Lilas"], "69003", "Lyon", "FR")


def register(*, kind: CustomerKind = CustomerKind.PROFESSIONAL, country: str = "FR", siren: str | None = None,
             address: PostalAddress | None = None) -> Customer:
    return Customer.register(id=uuid4(), name="Dupont SARL", kind=kind, country=country, language=Language.FR,
                             emails=[], terms=PaymentTerms(), credit_limit=None, external_id=None, at=AT,
                             billing_address=address, siren=siren)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_the_siren_check_agrees_with_python_stdnum(number: str) -> None:
    assert is_siren(number) == stdnum_siren.is_valid(number)
    assert luhn_valid(number) == stdnum_siren.is_valid(number)


@pytest.mark.parametrize(("given_siren", "words"), [
    ("44306184100029", "is a SIRET"), ("443061842", "check digit"), ("4430618", "nine digits"),
    ("44306184A", "nine digits")])
def test_a_french_companys_siren_must_be_valid_and_a_siret_is_named(given_siren: str, words: str) -> None:
    with pytest.raises(DomainRuleViolation, match=words) as refused:
        register(siren=given_siren)
    assert refused.value.field == "siren"


def test_a_siret_refusal_gives_the_siren_it_holds() -> None:
    with pytest.raises(DomainRuleViolation, match=r"\(443061841\)"):
        check_siren("443 061 841 00029")


def test_a_siren_is_kept_without_spaces_and_a_foreign_or_private_customers_number_as_given() -> None:
    assert register(siren="443 061 841").siren == "443061841"
    assert register(country="BE", siren="0123.456.789").siren == "0123.456.789"
    assert register(kind=CustomerKind.INDIVIDUAL, siren="123").siren == "123"
    assert register(siren="  ").siren is None


@pytest.mark.parametrize(("lines", "postcode", "city", "country", "field"), [
    ([], "69003", "Lyon", "FR", "billing_address.lines"),
    (["12 rue des Lilas", " "], "69003", "Lyon", "FR", "billing_address.lines[1]"),
    (["a", "b", "c", "d", "e"], "69003", "Lyon", "FR", "billing_address.lines"),
    (["12 rue des Lilas"], "6903", "Lyon", "FR", "billing_address.postcode"),
    (["12 rue des Lilas"], "69003", " ", "FR", "billing_address.city"),
    (["12 rue des Lilas"], "69003", "Lyon", "fr", "billing_address.country"),
])
def test_an_address_a_letter_would_bounce_on_is_refused_naming_its_field(
        lines: list[str], postcode: str, city: str, country: str, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        PostalAddress.of(lines, postcode, city, country)
    assert refused.value.field == field


def test_the_recipient_block_prints_the_city_in_capitals_in_france_and_the_country_abroad() -> None:
    assert LYON.block() == ["12 rue des Lilas", "69003 LYON"]
    assert PostalAddress.of(["Hauptstraße 5"], "10115", "Berlin", "DE").block() == ["Hauptstraße 5", "10115 Berlin",
                                                                                   "DE"]


def test_changes_are_recorded_only_where_they_differ_and_replay_to_the_same_customer() -> None:
    c = register(address=LYON, siren="443061841")
    c.change_billing_address(PostalAddress.of(["12 rue des Lilas"], "69003", "lyon", "FR"), AT)  # the same
    c.record_siren("443061841", AT)
    moved = PostalAddress.of(["3 quai Perrache"], "69002", "Lyon", "FR")
    c.change_billing_address(moved, AT)
    c.record_siren(None, AT)
    events = c.collect_events()
    assert [type(e).__name__ for e in events] == ["Registered", "BillingAddressChanged", "SirenRecorded"]
    replayed: Any = None
    for e in events:
        replayed = e.mutate(replayed)
    assert (replayed.billing_address, replayed.siren, replayed.version) == (moved, None, 3)


def test_a_refused_siren_change_records_nothing() -> None:
    c = register(siren="443061841")
    c.collect_events()
    with pytest.raises(DomainRuleViolation):
        c.record_siren("44306184100029", AT)
    assert (c.siren, c.collect_events()) == ("443061841", [])


def test_a_customer_registered_before_addresses_reads_with_neither(runtime: Runtime) -> None:
    c = register(address=LYON, siren="443061841")
    stored = runtime.app.mapper.to_stored_event(c.collect_events()[0])
    state = json.loads(stored.state)
    for key in ("billing_address", "siren", "class_version"):
        del state[key]  # as Registered v1 stored it
    old = runtime.app.mapper.to_domain_event(stored.__class__(
        originator_id=stored.originator_id, originator_version=1, topic=stored.topic,
        state=json.dumps(state).encode()))
    customer: Any = old.mutate(None)  # type: ignore[attr-defined]
    assert (customer.name, customer.billing_address, customer.siren) == ("Dupont SARL", None, None)
