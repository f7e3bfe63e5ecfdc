"""The rate book (DOMAIN.md "Rates over time"): rates recorded at run time with their source and author, corrected
by new entries, and the half-years still waiting for a rate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ar.adapters.rate_tables import load_rate_seed
from ar.domain.errors import DomainRuleViolation
from ar.domain.rate_book import RateBook, RateFact, RateTable, parse_half_year, parse_rate

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
H1_2027 = date(2027, 1, 1)


def book_with(*facts: RateFact) -> RateBook:
    book = RateBook.open(AT)
    for fact in facts:
        book.record(fact, recorded_by="marie@finance", at=AT)
    return book


def ecb(start: date, value: str, source: str = "ECB press release", to_confirm: bool = False) -> RateFact:
    return RateFact(RateTable.ECB, start, Decimal(value), source, to_confirm=to_confirm)


def test_a_correction_is_a_new_entry_and_the_latest_wins() -> None:
    book = book_with(ecb(H1_2027, "2.15", to_confirm=True))
    book.record(ecb(H1_2027, "2.00", "ECB decision of 17 December 2026"), recorded_by="paul@finance", at=AT)
    assert [e.fact.value for e in book.entries] == [Decimal("2.15"), Decimal("2.00")]
    assert book.tables().ecb_rate(H1_2027) == Decimal("2.00")
    assert book.corrections(RateTable.ECB, H1_2027) == 1
    assert book.to_confirm() == []
    assert [type(e).__name__ for e in book.collect_events()] == ["Opened", "RateRecorded", "RateRecorded"]


def test_the_same_statement_again_records_nothing() -> None:
    book = book_with(ecb(H1_2027, "2.15"))
    assert book.record(ecb(H1_2027, "2.150"), recorded_by="marie@finance", at=AT) is False
    assert len(book.entries) == 1


def test_to_confirm_marks_are_listed_with_their_labels() -> None:
    book = book_with(ecb(H1_2027, "2.15", to_confirm=True))
    assert book.to_confirm() == ["ecb:2027-01-01"]
    assert "ecb:2027-01-01" in book.tables().to_confirm


@pytest.mark.parametrize(("fact", "field"), [
    (ecb(date(2027, 2, 1), "2.15"), "half_year"),
    (ecb(date(2100, 1, 1), "2.15"), "half_year"),
    (ecb(H1_2027, "-0.5"), "value"),
    (ecb(H1_2027, "101"), "value"),
    (ecb(H1_2027, "2.123456"), "value"),
    (ecb(H1_2027, "NaN"), "value"),
    (ecb(H1_2027, "2.15", source="  "), "source"),
])
def test_a_rate_outside_the_rules_is_refused_naming_the_field(fact: RateFact, field: str) -> None:
    book = RateBook.open(AT)
    with pytest.raises(DomainRuleViolation) as refused:
        book.record(fact, recorded_by="marie", at=AT)
    assert refused.value.field == field
    assert book.entries == []


def test_a_rate_needs_its_author() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        RateBook.open(AT).record(ecb(H1_2027, "2.15"), recorded_by=" ", at=AT)
    assert refused.value.field == "recorded_by"


def test_a_half_year_without_its_rate_is_needed_from_30_days_before_it_starts() -> None:
    book = book_with(ecb(date(2026, 7, 1), "2.40"),
                     RateFact(RateTable.LEGAL, date(2026, 7, 1), Decimal("2.50"), "JO"))
    assert book.needs(date(2026, 12, 1)) == []
    [ecb_need, legal_need] = book.needs(date(2026, 12, 2))
    assert (ecb_need.label, ecb_need.due_on, ecb_need.needed_from) == ("ecb:2027-01-01", H1_2027,
                                                                       date(2026, 12, 2))
    assert ecb_need.summary.startswith("record the ECB rate for H1-2027")
    assert legal_need.label == "legal:2027-01-01"
    book.record(ecb(H1_2027, "2.15"), recorded_by="marie", at=AT)
    assert [n.label for n in book.needs(date(2027, 1, 15))] == ["legal:2027-01-01"]


def test_a_gap_in_the_past_is_still_needed() -> None:
    book = book_with(ecb(date(2026, 1, 1), "2.15"), ecb(H1_2027, "2.15"),
                     RateFact(RateTable.LEGAL, H1_2027, Decimal("2.50"), "JO"))
    assert [n.label for n in book.needs(date(2027, 1, 15))] == ["ecb:2026-07-01"]


@pytest.mark.parametrize("text", ["2027-H1", "H1-2027", "2027-h1", "2027-01-01"])
def test_a_half_year_is_written_as_people_write_it(text: str) -> None:
    assert parse_half_year(text) == H1_2027


@pytest.mark.parametrize("text", ["2027-H3", "2027", "H1 2027", "2027-13-01"])
def test_anything_else_is_not_a_half_year(text: str) -> None:
    with pytest.raises(DomainRuleViolation):
        parse_half_year(text)


def test_a_rate_is_a_decimal_string() -> None:
    assert parse_rate(" 2.15 ") == Decimal("2.15")
    with pytest.raises(DomainRuleViolation):
        parse_rate("2,15")


def test_the_shipped_seed_gives_the_same_tables_as_the_shipped_file() -> None:
    facts, tables = load_rate_seed()
    book = book_with(*facts)
    seeded = book.tables(tables)
    assert seeded.ecb == tables.ecb and seeded.legal == tables.legal
    assert seeded.to_confirm == tables.to_confirm
    assert seeded.eu_rule("DE").points == Decimal(9)
    h2 = book.current[(RateTable.ECB, date(2026, 7, 1))]
    assert h2.fact.to_confirm and h2.fact.source.startswith("European Central Bank")
    assert book.current[(RateTable.LEGAL_INDIVIDUAL, date(2026, 1, 1))].fact.value == Decimal("6.67")
