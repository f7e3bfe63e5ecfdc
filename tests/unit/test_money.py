from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ar.domain.errors import CurrencyMismatch, DomainRuleViolation
from ar.domain.money import Money, total


@pytest.mark.parametrize("minor", [1.0, 10.5, Decimal("1"), "100", True, None])
def test_money_refuses_anything_but_an_integer_amount(minor: Any) -> None:
    with pytest.raises(TypeError):
        Money(minor, "EUR")


@pytest.mark.parametrize("currency", ["XXX", "eur", "", "EURO", "BTC"])
def test_money_refuses_an_unknown_currency(currency: str) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        Money(100, currency)
    assert refused.value.field == "currency"


def test_money_adds_and_subtracts_in_minor_units() -> None:
    assert Money(1050, "EUR") + Money(250, "EUR") == Money(1300, "EUR")
    assert Money(1050, "EUR") - Money(2000, "EUR") == Money(-950, "EUR")
    assert -Money(5, "EUR") == Money(-5, "EUR")


@pytest.mark.parametrize(
    "combine", [operator.add, operator.sub, operator.lt, operator.le, operator.gt, operator.ge],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_money_refuses_to_combine_or_compare_different_currencies(combine: Callable[[Money, Money], object]) -> None:
    with pytest.raises(CurrencyMismatch) as refused:
        combine(Money(100, "EUR"), Money(100, "USD"))
    assert refused.value.field == "currency"


def test_money_compares_amounts_of_the_same_currency() -> None:
    small, large = Money(99, "EUR"), Money(100, "EUR")
    assert small < large
    assert small <= large
    assert large > small
    assert large >= small
    assert small <= Money(99, "EUR")
    assert not large < small


def test_same_amount_in_another_currency_is_not_equal() -> None:
    assert Money(100, "EUR") != Money(100, "USD")


def test_total_refuses_a_foreign_amount() -> None:
    assert total([Money(1, "EUR"), Money(2, "EUR")], "EUR") == Money(3, "EUR")
    with pytest.raises(CurrencyMismatch):
        total([Money(1, "EUR"), Money(2, "USD")], "EUR")


def test_late_penalty_worked_example_rounds_to_149_79_eur() -> None:
    # EUR 10,000.00 x 12.15% x 45/365 = 149.7945... -> EUR 149.79 (DOMAIN.md worked example)
    penalty = Money(1_000_000, "EUR").apply_rate(Decimal("0.1215") * 45 / 365)
    assert penalty == Money(14979, "EUR")
    assert str(penalty) == "149.79 EUR"


def test_public_buyer_worked_example_rounds_to_125_14_eur() -> None:
    assert Money(1_000_000, "EUR").apply_rate(Decimal("0.1015") * 45 / 365) == Money(12514, "EUR")


@pytest.mark.parametrize(
    ("minor", "rate", "expected"),
    [
        (5, Decimal("0.5"), 3),  # 2.5 rounds up, not to even
        (1, Decimal("0.5"), 1),  # 0.5 rounds up, not to even
        (7, Decimal("0.5"), 4),  # 3.5
        (149, Decimal("0.01"), 1),  # 1.49 rounds down
        (150, Decimal("0.01"), 2),  # 1.50 rounds up
        (10_000, Decimal("0.20"), 2_000),
    ],
)
def test_apply_rate_rounds_half_up_once(minor: int, rate: Decimal, expected: int) -> None:
    assert Money(minor, "EUR").apply_rate(rate) == Money(expected, "EUR")


def test_apply_rate_keeps_the_currency_and_an_integer_amount() -> None:
    result = Money(333, "JPY").apply_rate(Decimal(1) / 3)
    assert result == Money(111, "JPY")
    assert type(result.minor) is int


@settings(max_examples=100, deadline=None)
@given(minor=st.integers(min_value=0, max_value=10**12), basis_points=st.integers(min_value=0, max_value=100_000))
def test_apply_rate_is_within_half_a_minor_unit_of_the_exact_product(minor: int, basis_points: int) -> None:
    rate = Decimal(basis_points) / 10_000
    exact = Decimal(minor) * rate
    assert abs(Decimal(Money(minor, "EUR").apply_rate(rate).minor) - exact) <= Decimal("0.5")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(14979, "EUR"), "149.79 EUR"),
        (Money(5, "EUR"), "0.05 EUR"),
        (Money(-5, "EUR"), "-0.05 EUR"),
        (Money(0, "USD"), "0.00 USD"),
        (Money(123456789, "EUR"), "1234567.89 EUR"),
        (Money(500, "JPY"), "500 JPY"),
        (Money(1234, "TND"), "1.234 TND"),
    ],
)
def test_str_shows_major_units_with_the_currency_exponent(money: Money, text: str) -> None:
    assert str(money) == text


def test_money_is_immutable() -> None:
    money = Money(100, "EUR")
    with pytest.raises(AttributeError):
        money.minor = 200  # type: ignore[misc]


def test_a_stated_decimal_amount_is_taken_exactly_or_not_at_all() -> None:
    from ar.domain.money import exact_minor

    assert exact_minor(Decimal("1234.50"), "EUR") == 123450
    assert exact_minor(Decimal("1234.505"), "EUR") is None  # never rounded
    assert exact_minor(Decimal("1500"), "JPY") == 1500
    assert exact_minor(Decimal("1500.5"), "JPY") is None
    assert exact_minor(Decimal("NaN"), "EUR") is None
