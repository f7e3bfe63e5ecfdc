from __future__ import annotations

from decimal import Decimal

import pytest

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money
from ar.domain.vat import VatLine, check_breakdown


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def line(rate: str, base: int, vat: int, currency: str = "EUR") -> VatLine:
    return VatLine(Decimal(rate), Money(base, currency), Money(vat, currency))


def test_a_single_line_that_adds_up_is_accepted() -> None:
    check_breakdown([line("20", 10_000, 2_000)], eur(12_000))


def test_several_rates_adding_up_to_the_total_are_accepted() -> None:
    # 100.00 at 20% + 50.00 at 5.5% + 10.00 exempt = 120.00 + 52.75 + 10.00
    check_breakdown([line("20", 10_000, 2_000), line("5.5", 5_000, 275), line("0", 1_000, 0)], eur(18_275))


def test_a_breakdown_needs_at_least_one_line() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_breakdown([], eur(12_000))
    assert refused.value.field == "vat"


@pytest.mark.parametrize("total", [11_999, 12_001, 10_000])
def test_lines_must_add_up_to_the_total_to_the_cent(total: int) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_breakdown([line("20", 10_000, 2_000)], eur(total))
    assert refused.value.field == "total_minor"


@pytest.mark.parametrize("vat", [1_999, 2_001])
def test_vat_may_differ_from_base_times_rate_by_one_minor_unit(vat: int) -> None:
    check_breakdown([line("20", 10_000, vat)], eur(10_000 + vat))


@pytest.mark.parametrize("vat", [1_998, 2_002, 0])
def test_vat_more_than_one_minor_unit_off_base_times_rate_is_refused(vat: int) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_breakdown([line("20", 10_000, vat)], eur(10_000 + vat))
    assert refused.value.field == "vat[0].vat_minor"


def test_the_faulty_line_is_named_by_its_index() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_breakdown([line("20", 10_000, 2_000), line("10", 1_000, 200)], eur(13_200))
    assert refused.value.field == "vat[1].vat_minor"


def test_vat_is_rounded_half_up_before_the_tolerance() -> None:
    # 5.5% of 0.10 EUR = 0.55 cent -> 1 cent expected; 0 and 2 are within one minor unit, 3 is not
    check_breakdown([line("5.5", 10, 1)], eur(11))
    with pytest.raises(DomainRuleViolation):
        check_breakdown([line("5.5", 10, 3)], eur(13))


@pytest.mark.parametrize("rate", ["-1", "100.01", "120"])
def test_a_vat_rate_is_a_percentage_between_0_and_100(rate: str) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_breakdown([line(rate, 10_000, 0)], eur(10_000))
    assert refused.value.field == "vat[0].rate"


def test_vat_lines_are_in_the_invoice_currency() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_breakdown([line("20", 10_000, 2_000, currency="USD")], eur(12_000))
    assert refused.value.field == "vat[0]"


def test_a_vat_line_survives_a_round_trip_through_a_dict() -> None:
    original = line("5.5", 5_000, 275)
    assert VatLine.from_dict(original.to_dict(), "EUR") == original
