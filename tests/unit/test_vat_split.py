"""One VAT split (`vat.split_amount`): 212 (Encaissée) reports cash by rate with it, an early-payment discount records
its VAT with it; in proportion to the invoice's breakdown, adding up to the amount exactly."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from fractions import Fraction
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.conftest import AT

from ar.domain.errors import DomainRuleViolation
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.lifecycle import split_by_rate
from ar.domain.money import Money, proportional_parts
from ar.domain.vat import VatLine, split_amount


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


# One split for both: status 212 (cash by rate) and an early-payment discount (its VAT) -------------------------
def by_rate(parts: list[VatLine]) -> dict[str, int]:
    summed: dict[str, int] = {}
    for part in parts:
        summed[str(part.rate)] = summed.get(str(part.rate), 0) + part.base.minor + part.vat.minor
    return summed


breakdowns = st.lists(
    st.tuples(st.sampled_from(["0", "2.1", "5.5", "10", "20"]), st.integers(min_value=1, max_value=10**8)),
    min_size=1, max_size=6,
).map(lambda lines: [line(rate, base) for rate, base in lines])


@given(amount=st.integers(min_value=0, max_value=10**10), vat=breakdowns)
def test_the_212_split_and_the_discount_split_agree_and_add_up_exactly(amount: int, vat: list[VatLine]) -> None:
    parts = split_amount(eur(amount), vat)
    assert [p.rate for p in parts] == [v.rate for v in vat]
    assert sum(p.base.minor + p.vat.minor for p in parts) == amount
    assert minors(split_by_rate(eur(amount), vat)) == by_rate(parts)
    whole = sum(v.base.minor + v.vat.minor for v in vat)
    for part, v in zip(parts, vat, strict=True):
        assert abs(part.base.minor + part.vat.minor - Fraction(amount * (v.base.minor + v.vat.minor), whole)) < 1
        assert part.vat == (part.base + part.vat).apply_rate(v.rate / (100 + v.rate))


def test_the_same_amount_and_breakdown_always_split_the_same_way() -> None:
    vat = [line("20", 500), line("10", 545), line("0", 600)]  # gross 600 each: every remainder equal
    first = split_amount(eur(100), vat)
    assert [p.base.minor + p.vat.minor for p in first] == [33, 33, 34]  # the cent left to the larger base
    assert all(split_amount(eur(100), vat) == first for _ in range(10))


@given(amount=st.integers(min_value=-10**12, max_value=10**12),
       weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8).filter(lambda w: sum(w) > 0))
def test_proportional_parts_add_up_to_the_amount_each_within_a_minor_unit(amount: int, weights: list[int]) -> None:
    parts = proportional_parts(eur(amount), weights)
    assert sum(p.minor for p in parts) == amount
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part.minor - Fraction(amount * weight, whole)) < 1


def test_proportional_parts_without_a_positive_weight_are_refused() -> None:
    for weights in ([], [0, 0], [5, -5]):
        with pytest.raises(DomainRuleViolation):
            proportional_parts(eur(100), weights)


# Events are facts: a split once recorded replays as recorded, whatever the rule now computes -------------------
def test_a_recorded_split_replays_as_recorded() -> None:
    vat = [line("20", 50_000), line("5.5", 50_000)]  # gross 60,000 and 52,750
    invoice = Invoice.issue(
        id=uuid4(), number="F2026-000001", series="F2026", customer_id=uuid4(), kind=InvoiceKind.STANDARD,
        total=eur(112_750), vat=vat, issued_on=date(2026, 3, 5), due_on=date(2026, 4, 4),
        category=Category.SERVICES, purchase_order=None, external_id=None, structured_reference="RF00",
        deposits=[], at=AT)
    issued = copy.deepcopy(invoice)
    payment_id = uuid4()
    recorded = [{"rate": "20", "base_minor": 999, "vat_minor": 200},  # not what `split_amount` gives today
                {"rate": "5.5", "base_minor": 1_001, "vat_minor": 55}]
    assert [p.to_dict() for p in split_amount(eur(2_255), vat)] != recorded
    invoice._discount_taken(payment_id=payment_id, amount=eur(2_255), vat_split=recorded, on=date(2026, 3, 10),
                            at=AT)
    invoice._lifecycle_status_sent(code="212", payment_id=payment_id, amount=eur(2_255),
                                   amounts_by_rate={"20": eur(1_300), "5.5": eur(955)}, at=AT)
    replayed: Invoice | None = issued
    for e in invoice.collect_events()[1:]:
        replayed = e.mutate(replayed)
    assert isinstance(replayed, Invoice) and replayed.discount_taken is not None
    assert [p.to_dict() for p in replayed.discount_taken.vat_split] == recorded
    assert replayed.lifecycle.entries[-1].amounts_by_rate == {"20": eur(1_300), "5.5": eur(955)}
