from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from ar.domain.customer import Customer, Language
from ar.domain.errors import DomainRuleViolation, TermsBeyondLegalMaximum
from ar.domain.terms import (
    CustomerKind,
    EndOfMonthReading,
    LegalCeiling,
    PaymentTerms,
    TermsKind,
    check_due_on,
    legal_ceiling,
)

AT = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)
PLUS_45_THEN_EOM = PaymentTerms(TermsKind.END_OF_MONTH_45, reading=EndOfMonthReading.PLUS_45_THEN_END_OF_MONTH)
EOM_THEN_PLUS_45 = PaymentTerms(TermsKind.END_OF_MONTH_45, reading=EndOfMonthReading.END_OF_MONTH_THEN_PLUS_45)


def register(kind: CustomerKind, terms: PaymentTerms) -> Customer:
    return Customer.register(id=uuid4(), name="Dupont SARL", kind=kind, country="FR", language=Language.FR,
                             emails=["compta@dupont.example"], terms=terms, credit_limit=None, external_id=None, at=AT)


@pytest.mark.parametrize(
    ("days", "issued_on", "due_on"),
    [
        (30, date(2026, 1, 20), date(2026, 2, 19)),
        (60, date(2026, 1, 20), date(2026, 3, 21)),
        (0, date(2026, 1, 20), date(2026, 1, 20)),
        (30, date(2026, 12, 15), date(2027, 1, 14)),
        (30, date(2028, 2, 1), date(2028, 3, 2)),  # leap year
    ],
)
def test_net_terms_fall_due_n_days_after_issue(days: int, issued_on: date, due_on: date) -> None:
    assert PaymentTerms(TermsKind.NET, days).due_on(issued_on) == due_on


def test_default_terms_are_net_30_days() -> None:
    assert PaymentTerms().due_on(date(2026, 1, 20)) == date(2026, 2, 19)


def test_45_days_end_of_month_read_as_plus_45_then_end_of_month() -> None:
    assert PLUS_45_THEN_EOM.due_on(date(2026, 1, 20)) == date(2026, 3, 31)


def test_45_days_end_of_month_read_as_end_of_month_then_plus_45() -> None:
    assert EOM_THEN_PLUS_45.due_on(date(2026, 1, 20)) == date(2026, 3, 17)


@pytest.mark.parametrize(
    ("terms", "issued_on", "due_on"),
    [
        (PLUS_45_THEN_EOM, date(2026, 1, 1), date(2026, 2, 28)),  # Feb 15 -> end of February
        (PLUS_45_THEN_EOM, date(2026, 12, 20), date(2027, 2, 28)),  # crosses the year
        (EOM_THEN_PLUS_45, date(2026, 1, 31), date(2026, 3, 17)),
        (EOM_THEN_PLUS_45, date(2026, 2, 1), date(2026, 4, 14)),  # Feb 28 + 45
    ],
)
def test_both_end_of_month_readings_across_month_lengths(terms: PaymentTerms, issued_on: date, due_on: date) -> None:
    assert terms.due_on(issued_on) == due_on


def test_45_days_end_of_month_without_a_reading_is_refused() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        PaymentTerms(TermsKind.END_OF_MONTH_45)
    assert refused.value.field == "terms.reading"


def test_net_terms_refuse_a_reading() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        PaymentTerms(TermsKind.NET, 30, EndOfMonthReading.PLUS_45_THEN_END_OF_MONTH)
    assert refused.value.field == "terms.reading"


@pytest.mark.parametrize("days", [-1, 366])
def test_net_terms_stay_between_0_and_365_days(days: int) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        PaymentTerms(TermsKind.NET, days)
    assert refused.value.field == "terms.days"


@pytest.mark.parametrize("kind", [CustomerKind.PROFESSIONAL, CustomerKind.PUBLIC])
def test_net_terms_beyond_60_days_are_refused_for_business_and_public_debtors(kind: CustomerKind) -> None:
    with pytest.raises(TermsBeyondLegalMaximum) as refused:
        PaymentTerms(TermsKind.NET, 61).check_legal_for(kind)
    assert refused.value.field == "terms.days"
    assert refused.value.rule == "terms-beyond-legal-maximum"


@pytest.mark.parametrize("kind", [CustomerKind.PROFESSIONAL, CustomerKind.PUBLIC])
def test_net_60_days_is_the_legal_maximum_and_allowed(kind: CustomerKind) -> None:
    PaymentTerms(TermsKind.NET, 60).check_legal_for(kind)


def test_net_terms_beyond_60_days_are_allowed_for_individuals() -> None:
    PaymentTerms(TermsKind.NET, 90).check_legal_for(CustomerKind.INDIVIDUAL)
    customer = register(CustomerKind.INDIVIDUAL, PaymentTerms(TermsKind.NET, 90))
    assert customer.terms.days == 90


def test_45_days_end_of_month_is_allowed_for_professionals() -> None:
    customer = register(CustomerKind.PROFESSIONAL, EOM_THEN_PLUS_45)
    assert customer.terms == EOM_THEN_PLUS_45


def test_public_buyer_cannot_be_given_45_days_end_of_month_beyond_60_days() -> None:
    assert (EOM_THEN_PLUS_45.due_on(date(2026, 1, 1)) - date(2026, 1, 1)).days > 60
    with pytest.raises(TermsBeyondLegalMaximum):
        EOM_THEN_PLUS_45.check_legal_for(CustomerKind.PUBLIC)


def test_registering_a_professional_on_terms_beyond_the_legal_maximum_is_refused() -> None:
    with pytest.raises(TermsBeyondLegalMaximum) as refused:
        register(CustomerKind.PROFESSIONAL, PaymentTerms(TermsKind.NET, 90))
    assert refused.value.field == "terms.days"


def test_changing_a_professional_to_illegal_terms_is_refused_and_records_nothing() -> None:
    customer = register(CustomerKind.PROFESSIONAL, PaymentTerms())
    customer.collect_events()
    with pytest.raises(TermsBeyondLegalMaximum):
        customer.change_terms(PaymentTerms(TermsKind.NET, 75), AT)
    assert customer.terms == PaymentTerms()
    assert customer.collect_events() == []


def test_changing_terms_to_the_same_terms_records_nothing() -> None:
    customer = register(CustomerKind.PROFESSIONAL, PaymentTerms(TermsKind.NET, 45))
    customer.collect_events()
    customer.change_terms(PaymentTerms(TermsKind.NET, 45), AT)
    assert customer.collect_events() == []
    customer.change_terms(PLUS_45_THEN_EOM, AT)
    assert [type(e).__name__ for e in customer.collect_events()] == ["TermsChanged"]
    assert customer.terms == PLUS_45_THEN_EOM


@pytest.mark.parametrize("terms", [PaymentTerms(), PaymentTerms(TermsKind.NET, 60), PLUS_45_THEN_EOM, EOM_THEN_PLUS_45])
def test_terms_survive_a_round_trip_through_a_dict(terms: PaymentTerms) -> None:
    assert PaymentTerms.from_dict(terms.to_dict()) == terms


# An explicit due date and the legal maximum (L441-10, R2192-10) --------------------------------------------------
ISSUED = date(2026, 1, 20)  # + 60 days: 21 March; 45 days end of month: 31 March (+45 then EOM) or 17 March


@pytest.mark.parametrize(("reading", "latest"), [
    (EndOfMonthReading.PLUS_45_THEN_END_OF_MONTH, date(2026, 3, 31)),  # later than 60 days: 70 days
    (EndOfMonthReading.END_OF_MONTH_THEN_PLUS_45, date(2026, 3, 21)),  # 17 March: 60 days is later
    (None, date(2026, 3, 31)),  # net terms agree no reading: the later of the two (refusing needs certainty)
])
def test_a_professionals_latest_due_date_is_60_days_or_45_days_end_of_month_in_the_customers_reading(
        reading: EndOfMonthReading | None, latest: date) -> None:
    ceiling = legal_ceiling(CustomerKind.PROFESSIONAL, ISSUED, reading)
    assert ceiling is not None
    assert (ceiling.latest_due_on, ceiling.days, ceiling.basis) == (latest, (latest - ISSUED).days,
                                                                    "Code de commerce L441-10")


def test_a_public_buyers_latest_due_date_is_60_days_and_never_45_days_end_of_month() -> None:
    ceiling = legal_ceiling(CustomerKind.PUBLIC, ISSUED, EndOfMonthReading.PLUS_45_THEN_END_OF_MONTH)
    assert ceiling == LegalCeiling(date(2026, 3, 21), 60, "Code de la commande publique R2192-10")


def test_a_consumer_has_no_legal_maximum_due_date() -> None:
    assert legal_ceiling(CustomerKind.INDIVIDUAL, ISSUED, None) is None
    check_due_on(None, ISSUED, date(2028, 1, 20), None)  # two years: nothing caps a consumer's agreed term


@pytest.mark.parametrize("kind", [CustomerKind.PROFESSIONAL, CustomerKind.PUBLIC])
def test_a_due_date_one_day_beyond_the_maximum_is_refused_naming_the_rule_and_the_maximum(kind: CustomerKind) -> None:
    ceiling = legal_ceiling(kind, ISSUED, EndOfMonthReading.END_OF_MONTH_THEN_PLUS_45)
    assert ceiling is not None and ceiling.latest_due_on == date(2026, 3, 21)
    check_due_on(ceiling, ISSUED, ceiling.latest_due_on, None)  # at the maximum: accepted
    with pytest.raises(TermsBeyondLegalMaximum) as refused:
        check_due_on(ceiling, ISSUED, date(2026, 3, 22), None)
    assert (refused.value.rule, refused.value.field) == ("terms-beyond-legal-maximum", "due_on")
    assert refused.value.figures == {"maximum_due_on": "2026-03-21", "maximum_days": 60, "days": 61,
                                     "legal_basis": ceiling.basis}
    assert "2026-03-21" in refused.value.detail and "due_on_derogation" in refused.value.detail


def test_a_stated_derogation_lets_a_due_date_beyond_the_maximum_through_but_a_blank_one_does_not() -> None:
    ceiling = legal_ceiling(CustomerKind.PROFESSIONAL, ISSUED, None)
    check_due_on(ceiling, ISSUED, date(2028, 1, 20), "accord-cadre 2026-07, clause 4: 90 jours")
    with pytest.raises(DomainRuleViolation) as refused:
        check_due_on(ceiling, ISSUED, date(2028, 1, 20), "   ")
    assert refused.value.field == "due_on_derogation"


def test_terms_give_the_ceiling_of_their_own_reading() -> None:
    assert PLUS_45_THEN_EOM.legal_ceiling(CustomerKind.PROFESSIONAL, ISSUED) == legal_ceiling(
        CustomerKind.PROFESSIONAL, ISSUED, EndOfMonthReading.PLUS_45_THEN_END_OF_MONTH)
    assert PaymentTerms().legal_ceiling(CustomerKind.INDIVIDUAL, ISSUED) is None
