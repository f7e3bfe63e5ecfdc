"""212 (Encaissée): the amount received split by VAT rate in proportion to the invoice's breakdown, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ar.domain.errors import DomainRuleViolation
from ar.domain.lifecycle import split_by_rate
from ar.domain.money import Money
from ar.domain.vat import VatLine


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def line(rate: str, base: int) -> VatLine:
    return VatLine(Decimal(rate), eur(base), eur(eur(base).apply_rate(Decimal(rate) / 100).minor))


def minors(split: dict[str, Money]) -> dict[str, int]:
    return {rate: m.minor for rate, m in split.items()}


def test_a_single_rate_takes_the_whole_amount() -> None:
    assert minors(split_by_rate(eur(12345), [line("20", 100000)])) == {"20": 12345}


def test_the_whole_invoice_paid_splits_as_its_gross_lines() -> None:
    vat = [line("20.00", 100000), line("5.50", 20000)]  # gross 120000 and 21100
    assert minors(split_by_rate(eur(141100), vat)) == {"20.00": 120000, "5.50": 21100}


def test_a_part_payment_gives_the_cents_left_to_the_largest_remainders() -> None:
    vat = [line("20", 100000), line("10", 100000), line("5.5", 100000)]  # gross 120000, 110000, 105500
    split = minors(split_by_rate(eur(10000), vat))
    # exact shares 3576.75, 3278.69, 3144.56: rounded down 9998, the two cents to .75 (20 %) and .69 (10 %)
    assert split == {"20": 3577, "10": 3279, "5.5": 3144}


def test_an_equal_remainder_goes_to_the_larger_base() -> None:
    vat = [line("0", 100), line("0", 300)]  # the same rate twice is summed under one key
    assert minors(split_by_rate(eur(1), vat)) == {"0": 1}
    tied = [VatLine(Decimal("10"), eur(50), eur(5)), VatLine(Decimal("0"), eur(55), eur(0))]  # gross 55 and 55
    assert minors(split_by_rate(eur(1), tied)) == {"10": 0, "0": 1}


def test_no_breakdown_cannot_be_split() -> None:
    with pytest.raises(DomainRuleViolation):
        split_by_rate(eur(100), [])


@given(amount=st.integers(min_value=0, max_value=10**9),
       bases=st.lists(st.integers(min_value=1, max_value=10**8), min_size=1, max_size=5),
       rates=st.lists(st.sampled_from(["0", "2.1", "5.5", "10", "20"]), min_size=5, max_size=5, unique=True))
def test_the_shares_add_up_to_the_amount_each_within_a_cent_of_its_exact_share(
    amount: int, bases: list[int], rates: list[str],
) -> None:
    vat = [line(rate, base) for rate, base in zip(rates, bases, strict=False)]
    split = split_by_rate(eur(amount), vat)
    assert sum(m.minor for m in split.values()) == amount
    whole = sum(v.base.minor + v.vat.minor for v in vat)
    for v in vat:
        exact = Decimal(amount) * (v.base.minor + v.vat.minor) / whole
        assert abs(split[str(v.rate)].minor - exact) < 1
