"""Late-payment penalties (DOMAIN.md "Late-payment penalties"): the worked examples to the cent, then the edges."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ar.adapters.rate_tables import load_rate_tables
from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money
from ar.domain.penalties import compute_penalty
from ar.domain.penalty_regime import PenaltyRegime, regime_for
from ar.domain.penalty_result import PenaltyComputation
from ar.domain.rate_tables import EuRule, MissingRate, StaticRateTables
from ar.domain.terms import CustomerKind

H2_2025, H1_2026, H2_2026 = date(2025, 7, 1), date(2026, 1, 1), date(2026, 7, 1)
RATES = StaticRateTables(
    ecb={H2_2025: Decimal("2.15"), H1_2026: Decimal("2.15"), H2_2026: Decimal("2.40")},
    legal={H2_2025: Decimal("2.76"), H1_2026: Decimal("2.62"), H2_2026: Decimal("2.62")},
    eu={"DE": EuRule(points=Decimal(9))},
    eu_default=EuRule(),
)
ISSUED_ON = date(2026, 3, 1)
DUE_ON = date(2026, 3, 31)
PAID_ON = date(2026, 5, 15)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def paid_in_full(amount: Money, paid_on: date = PAID_ON, issued_on: date = ISSUED_ON) -> list[tuple[date, Money]]:
    return [(issued_on, amount), (paid_on, Money.zero(amount.currency))]


def penalty(regime: PenaltyRegime = PenaltyRegime.PROFESSIONAL, *, due_on: date = DUE_ON, until: date = PAID_ON,
            balance: list[tuple[date, Money]] | None = None, rates: StaticRateTables = RATES,
            **options: object) -> PenaltyComputation:
    return compute_penalty(regime=regime, due_on=due_on, until=until,
                           balance=balance if balance is not None else paid_in_full(eur(1_000_000)),
                           rates=rates, **options)  # type: ignore[arg-type]


# --- the worked examples -------------------------------------------------------------------------------------------


def test_professional_worked_example_is_149_79_plus_the_40_euro_indemnity() -> None:
    result = penalty()
    [line] = result.lines
    assert (line.start, line.end, line.days) == (date(2026, 4, 1), PAID_ON, 45)
    assert line.rate == Decimal("12.15")
    assert result.interest == eur(14979)
    assert result.indemnity == eur(4000)
    assert result.total == eur(18979)
    assert "10000.00 EUR x 12.15% x 45/365 = 149.79" in result.explain()


def test_public_buyer_worked_example_is_125_14_plus_the_40_euro_indemnity() -> None:
    result = penalty(PenaltyRegime.PUBLIC)
    assert [line.rate for line in result.lines] == [Decimal("10.15")]
    assert result.interest == eur(12514)
    assert result.indemnity == eur(4000)
    assert result.total == eur(16514)


def test_worked_example_with_the_shipped_rate_tables() -> None:
    result = penalty(rates=load_rate_tables())
    assert (result.interest, result.indemnity) == (eur(14979), eur(4000))


# --- the base: partial payments, payment day, nothing late ---------------------------------------------------------


def test_partial_payment_gives_one_line_per_outstanding_amount() -> None:
    balance = [(ISSUED_ON, eur(1_000_000)), (date(2026, 4, 20), eur(600_000)), (PAID_ON, eur(0))]
    result = penalty(balance=balance)
    assert [(line.start, line.end, line.days, line.base) for line in result.lines] == [
        (date(2026, 4, 1), date(2026, 4, 20), 20, eur(1_000_000)),
        (date(2026, 4, 21), PAID_ON, 25, eur(600_000)),
    ]
    assert [line.amount for line in result.lines] == [eur(6658), eur(4993)]
    assert result.interest == eur(11651)
    assert result.indemnity == eur(4000)


def test_paid_on_the_due_date_owes_nothing() -> None:
    result = penalty(balance=paid_in_full(eur(1_000_000), paid_on=DUE_ON))
    assert result.lines == ()
    assert result.total == eur(0)


def test_paid_the_day_after_the_due_date_owes_one_day_and_the_indemnity() -> None:
    result = penalty(balance=paid_in_full(eur(1_000_000), paid_on=date(2026, 4, 1)))
    assert [line.days for line in result.lines] == [1]
    assert result.interest == eur(333)
    assert result.indemnity == eur(4000)


def test_nothing_is_owed_before_the_due_date_has_passed() -> None:
    result = penalty(until=DUE_ON, balance=[(ISSUED_ON, eur(1_000_000))])
    assert result.total == eur(0)
    assert result.as_of == DUE_ON


def test_interest_still_running_accrues_through_until() -> None:
    result = penalty(until=date(2026, 4, 30), balance=[(ISSUED_ON, eur(1_000_000))])
    assert [line.days for line in result.lines] == [30]


def test_a_due_date_on_a_weekend_is_not_moved() -> None:
    saturday = date(2026, 5, 30)
    assert saturday.weekday() == 5
    result = penalty(due_on=saturday, until=date(2026, 6, 1), balance=[(ISSUED_ON, eur(1_000_000))])
    [line] = result.lines
    assert (line.start, line.days) == (date(2026, 5, 31), 2)
    assert result.interest == eur(666)


def test_a_payment_returned_after_full_payment_restarts_interest() -> None:
    balance = [(ISSUED_ON, eur(1_000_000)), (date(2026, 4, 10), eur(0)), (date(2026, 4, 20), eur(1_000_000))]
    result = penalty(until=date(2026, 4, 30), balance=balance)
    assert [(line.start, line.end) for line in result.lines] == [
        (date(2026, 4, 1), date(2026, 4, 10)), (date(2026, 4, 21), date(2026, 4, 30)),
    ]


# --- half-years ----------------------------------------------------------------------------------------------------


def test_professional_delay_across_1_july_is_split_by_half_year() -> None:
    result = penalty(due_on=date(2026, 6, 15), until=date(2026, 7, 20),
                     balance=paid_in_full(eur(1_000_000), paid_on=date(2026, 7, 20)))
    assert [(line.start, line.end, line.days, line.rate) for line in result.lines] == [
        (date(2026, 6, 16), date(2026, 6, 30), 15, Decimal("12.15")),
        (date(2026, 7, 1), date(2026, 7, 20), 20, Decimal("12.40")),
    ]
    assert [line.amount for line in result.lines] == [eur(4993), eur(6795)]
    assert result.interest == eur(11788)


def test_professional_delay_across_1_july_keeps_the_first_rate_when_not_split() -> None:
    result = penalty(due_on=date(2026, 6, 15), until=date(2026, 7, 20), split_by_half_year=False,
                     balance=paid_in_full(eur(1_000_000), paid_on=date(2026, 7, 20)))
    assert [(line.days, line.rate) for line in result.lines] == [(35, Decimal("12.15"))]
    assert result.interest == eur(11651)


def test_public_buyer_rate_is_not_split_across_1_july() -> None:
    no_h2 = StaticRateTables(ecb={H1_2026: Decimal("2.15")})
    result = penalty(PenaltyRegime.PUBLIC, due_on=date(2026, 6, 15), until=date(2026, 7, 20), rates=no_h2,
                     balance=paid_in_full(eur(1_000_000), paid_on=date(2026, 7, 20)))
    assert [(line.days, line.rate) for line in result.lines] == [(35, Decimal("10.15"))]
    assert result.interest == eur(9733)


def test_same_rate_on_both_sides_of_1_january_is_one_line() -> None:
    result = penalty(due_on=date(2025, 12, 15), until=date(2026, 1, 15),
                     balance=[(date(2025, 11, 15), eur(1_000_000))])
    assert [(line.start, line.end, line.days) for line in result.lines] == [
        (date(2025, 12, 16), date(2026, 1, 15), 31),
    ]


def test_a_missing_rate_is_reported_by_the_tables_instead_of_guessed() -> None:
    only_2025 = StaticRateTables(ecb={H2_2025: Decimal("2.15")})
    with pytest.raises(MissingRate) as missing:
        only_2025.ecb_rate(H1_2026)
    assert missing.value.field == "rates"
    assert "H1-2026" in missing.value.detail
    assert "2026-01-01" in missing.value.detail
    assert missing.value.label == "ecb:2026-01-01"


def test_a_missing_rate_stops_the_interest_at_the_last_day_with_a_rate_and_says_so() -> None:
    h2_2026_only = StaticRateTables(ecb={H2_2026: Decimal("2.40")})
    result = penalty(due_on=date(2026, 12, 1), until=date(2027, 1, 15), rates=h2_2026_only,
                     balance=[(date(2026, 11, 1), eur(1_000_000))])
    [line] = result.lines
    assert (line.start, line.end, line.days, line.rate) == (date(2026, 12, 2), date(2026, 12, 31), 30,
                                                            Decimal("12.40"))
    assert result.interest == eur(10192)  # 10,000 x 12.40% x 30/365
    assert result.indemnity == eur(4000)  # the fixed indemnity needs no rate
    assert (result.complete, result.known_until, result.missing) == (False, date(2026, 12, 31),
                                                                     ("ecb:2027-01-01",))
    assert result.as_of == date(2027, 1, 15)
    explained = result.explain()
    assert "through 2026-12-31 only" in explained
    assert "ECB main refinancing rate for H1-2027" in explained
    assert "from 2027-01-01 will follow" in explained
    data = result.to_dict()
    assert (data["complete"], data["known_until"], data["missing"]) == (False, "2026-12-31", ["ecb:2027-01-01"])


def test_a_complete_computation_covers_through_until_and_says_nothing_is_missing() -> None:
    result = penalty()
    assert (result.complete, result.known_until, result.missing) == (True, PAID_ON, ())
    assert "Incomplete" not in result.explain()


def test_every_missing_half_year_is_named_once_even_past_the_first_gap() -> None:
    h2_2026_only = StaticRateTables(ecb={H2_2026: Decimal("2.40")})
    balance = [(date(2026, 11, 1), eur(1_000_000)), (date(2027, 3, 1), eur(500_000))]
    result = penalty(due_on=date(2026, 12, 1), until=date(2027, 8, 15), rates=h2_2026_only, balance=balance)
    assert result.missing == ("ecb:2027-01-01", "ecb:2027-07-01")
    assert result.known_until == date(2026, 12, 31)
    assert [line.end for line in result.lines] == [date(2026, 12, 31)]


def test_a_rate_known_after_a_gap_is_not_counted_before_the_gap_is_filled() -> None:
    gap = StaticRateTables(ecb={H2_2026: Decimal("2.40"), date(2027, 7, 1): Decimal("2.00")})
    result = penalty(due_on=date(2026, 12, 1), until=date(2027, 8, 15), rates=gap,
                     balance=[(date(2026, 11, 1), eur(1_000_000))])
    assert result.missing == ("ecb:2027-01-01",)
    assert sum(line.days for line in result.lines) == 30


def test_a_public_buyer_without_the_rate_of_the_half_year_the_delay_began_owes_only_the_indemnity_so_far() -> None:
    result = penalty(PenaltyRegime.PUBLIC, due_on=date(2027, 1, 10), until=date(2027, 2, 1),
                     rates=StaticRateTables(ecb={H2_2026: Decimal("2.40")}),
                     balance=[(date(2026, 12, 10), eur(1_000_000))])
    assert result.lines == ()
    assert (result.interest, result.indemnity) == (eur(0), eur(4000))
    assert (result.known_until, result.missing) == (date(2027, 1, 10), ("ecb:2027-01-01",))


def test_a_consumer_after_notice_waits_for_the_legal_rate_of_the_half_year() -> None:
    result = penalty(PenaltyRegime.CONSUMER, notice_on=date(2026, 6, 20), due_on=date(2026, 6, 1),
                     until=date(2026, 7, 10), balance=[(date(2026, 5, 1), eur(1_000_000))],
                     rates=StaticRateTables(legal={H1_2026: Decimal("2.62")}))
    assert [(line.start, line.end) for line in result.lines] == [(date(2026, 6, 21), date(2026, 6, 30))]
    assert result.missing == ("legal:2026-07-01",)


def test_a_half_year_with_nothing_owed_needs_no_rate() -> None:
    only_h1 = StaticRateTables(ecb={H1_2026: Decimal("2.15")})
    result = penalty(until=date(2026, 9, 1), rates=only_h1)
    assert result.interest == eur(14979)


# --- contract rate -------------------------------------------------------------------------------------------------


def test_contract_rate_above_three_times_the_legal_rate_replaces_the_default() -> None:
    result = penalty(contract_rate=Decimal("9"))
    assert [line.rate for line in result.lines] == [Decimal("9")]
    assert result.interest == eur(11096)
    assert result.notes == ()


def test_contract_rate_below_three_times_the_legal_rate_is_raised_to_the_floor() -> None:
    result = penalty(contract_rate=Decimal("5"))
    assert [line.rate for line in result.lines] == [Decimal("7.86")]
    assert result.interest == eur(9690)
    assert "3 x 2.62% = 7.86%" in result.explain()


def test_contract_rate_applies_to_professionals_only() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        penalty(PenaltyRegime.PUBLIC, contract_rate=Decimal("9"))
    assert refused.value.field == "contract_rate"


# --- consumers -----------------------------------------------------------------------------------------------------


def test_consumer_owes_nothing_without_a_formal_notice() -> None:
    result = penalty(PenaltyRegime.CONSUMER)
    assert result.lines == ()
    assert result.total == eur(0)
    assert "formal notice" in result.explain()


def test_consumer_owes_the_legal_rate_from_the_day_after_the_notice_and_no_indemnity() -> None:
    result = penalty(PenaltyRegime.CONSUMER, notice_on=date(2026, 4, 30))
    [line] = result.lines
    assert (line.start, line.end, line.days, line.rate) == (date(2026, 5, 1), PAID_ON, 15, Decimal("2.62"))
    assert result.interest == eur(1077)
    assert result.indemnity == eur(0)


def test_consumer_notice_before_the_due_date_runs_from_the_day_after_the_due_date() -> None:
    result = penalty(PenaltyRegime.CONSUMER, notice_on=date(2026, 3, 20))
    assert [(line.start, line.days) for line in result.lines] == [(date(2026, 4, 1), 45)]


def test_consumer_notice_after_until_owes_nothing_yet() -> None:
    result = penalty(PenaltyRegime.CONSUMER, notice_on=date(2026, 6, 1))
    assert result.total == eur(0)


# --- EU, currencies, indemnity -------------------------------------------------------------------------------------


def test_eu_debtor_uses_the_country_rule() -> None:
    result = penalty(PenaltyRegime.EU, country="DE")
    assert [line.rate for line in result.lines] == [Decimal("11.15")]
    assert result.interest == eur(13747)
    assert result.indemnity == eur(4000)


def test_eu_debtor_in_an_unlisted_country_gets_the_directive_default() -> None:
    result = penalty(PenaltyRegime.EU, country="FI")
    assert [line.rate for line in result.lines] == [Decimal("10.15")]
    assert result.interest == eur(12514)


def test_eu_debtor_in_an_unlisted_country_without_default_is_partial_and_names_the_country() -> None:
    result = penalty(PenaltyRegime.EU, country="FI", rates=StaticRateTables(ecb={H1_2026: Decimal("2.15")}))
    assert (result.interest, result.indemnity) == (eur(0), eur(0))
    assert result.missing == ("eu:FI",)
    assert "EU late-payment rule for FI" in result.explain()


def test_eu_regime_needs_a_country() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        penalty(PenaltyRegime.EU)
    assert refused.value.field == "country"


def test_non_euro_invoice_gets_interest_but_no_converted_indemnity() -> None:
    result = penalty(balance=paid_in_full(Money(1_000_000, "USD")))
    assert result.interest == Money(14979, "USD")
    assert result.indemnity == Money(0, "USD")
    assert result.total == Money(14979, "USD")
    assert "not converted" in result.explain()


def test_indemnity_can_be_switched_off_per_invoice() -> None:
    result = penalty(indemnity_per_invoice=False)
    assert result.indemnity == eur(0)
    assert result.interest == eur(14979)


@pytest.mark.parametrize(
    ("kind", "country", "regime"),
    [
        (CustomerKind.PROFESSIONAL, "FR", PenaltyRegime.PROFESSIONAL),
        (CustomerKind.PUBLIC, "FR", PenaltyRegime.PUBLIC),
        (CustomerKind.INDIVIDUAL, "FR", PenaltyRegime.CONSUMER),
        (CustomerKind.INDIVIDUAL, "DE", PenaltyRegime.CONSUMER),
        (CustomerKind.PROFESSIONAL, "DE", PenaltyRegime.EU),
        (CustomerKind.PUBLIC, "BE", PenaltyRegime.EU),
        (CustomerKind.PROFESSIONAL, "RE", PenaltyRegime.PROFESSIONAL),
    ],
)
def test_regime_follows_the_customer_kind_and_country(kind: CustomerKind, country: str,
                                                      regime: PenaltyRegime) -> None:
    assert regime_for(kind, country) is regime


# --- output --------------------------------------------------------------------------------------------------------


def test_to_dict_is_json_ready() -> None:
    data = penalty(balance=[(ISSUED_ON, eur(1_000_000)), (date(2026, 4, 20), eur(600_000)), (PAID_ON, eur(0))]
                   ).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["regime"] == "professional"
    assert data["total"] == {"minor": 15651, "currency": "EUR"}
    assert data["lines"][0] == {  # type: ignore[index]
        "start": "2026-04-01", "end": "2026-04-20", "days": 20, "base": {"minor": 1_000_000, "currency": "EUR"},
        "rate": "12.15", "amount": {"minor": 6658, "currency": "EUR"},
    }


@pytest.mark.parametrize(
    ("ecb", "minor", "days", "expected"),
    [
        (Decimal(0), 73, 25, 1),  # 73 x 10% x 25/365 = 0.5 exactly
        (Decimal("2.50"), 146, 30, 2),  # 146 x 12.50% x 30/365 = 1.5 exactly; a 28-digit 1/365 gave 1
        (Decimal("2.50"), 2044, 5, 4),  # 3.5 exactly
    ],
)
def test_an_exact_half_cent_rounds_up(ecb: Decimal, minor: int, days: int, expected: int) -> None:
    rates = StaticRateTables(ecb={H1_2026: ecb})
    result = penalty(until=DUE_ON + timedelta(days=days), rates=rates, balance=[(ISSUED_ON, eur(minor))])
    assert [line.days for line in result.lines] == [days]
    assert result.interest == eur(expected)


# --- rate tables data ----------------------------------------------------------------------------------------------


def test_shipped_tables_mark_the_h2_2026_ecb_rate_to_confirm() -> None:
    tables = load_rate_tables()
    assert tables.ecb_rate(H2_2026) == Decimal("2.40")
    assert tables.legal_rate(H1_2026) == Decimal("2.62")
    assert "ecb:2026-07-01" in tables.to_confirm
    assert tables.eu_rule("DE").points == Decimal(9)
    assert {"DE", "BE", "ES", "IT", "NL", "LU", "IE", "PT", "AT"} <= set(tables.eu)


def test_rate_tables_load_from_another_file(tmp_path: Path) -> None:
    path = tmp_path / "rates.json"
    path.write_text(json.dumps({
        "ecb_main_refinancing_rate": {"rates": [{"half_year_start": "2026-01-01", "rate": "3.00"}]},
        "fr_legal_interest_rate": {"rates": []},
    }))
    tables = load_rate_tables(path)
    assert tables.ecb_rate(date(2026, 3, 1)) == Decimal("3.00")
    with pytest.raises(MissingRate):
        tables.eu_rule("DE")


# --- properties ----------------------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**11)


@st.composite
def balances(draw: st.DrawFn) -> list[tuple[date, Money]]:
    gaps = draw(st.lists(st.integers(min_value=1, max_value=120), min_size=0, max_size=5))
    day, steps = date(2026, 1, 15), [(date(2026, 1, 15), eur(draw(amounts)))]
    for gap in gaps:
        day += timedelta(days=gap)
        steps.append((day, eur(draw(amounts))))
    return steps


@settings(max_examples=200, deadline=None)
@given(balance=balances(), due_in=st.integers(min_value=0, max_value=90), span=st.integers(min_value=0, max_value=500),
       regime=st.sampled_from([PenaltyRegime.PROFESSIONAL, PenaltyRegime.PUBLIC]), split=st.booleans())
def test_total_is_the_sum_of_the_lines_and_never_decreases_as_time_passes(
        balance: list[tuple[date, Money]], due_in: int, span: int, regime: PenaltyRegime, split: bool) -> None:
    rates = StaticRateTables(ecb={date(y, m, 1): Decimal("2.15") + Decimal(y - 2026 + m) / 10
                                  for y in (2026, 2027, 2028) for m in (1, 7)})
    due_on = date(2026, 1, 15) + timedelta(days=due_in)
    previous = eur(0)
    for until in (due_on + timedelta(days=span), due_on + timedelta(days=span + 1), due_on + timedelta(days=span + 30)):
        result = compute_penalty(regime=regime, due_on=due_on, until=until, balance=balance, rates=rates,
                                 split_by_half_year=split)
        assert result.interest == sum((line.amount for line in result.lines), eur(0))
        assert result.total == result.interest + result.indemnity
        assert sum(line.days for line in result.lines) <= (until - due_on).days
        assert result.total >= previous
        previous = result.total


@settings(max_examples=300, deadline=None)
@given(minor=amounts, days=st.integers(min_value=1, max_value=400),
       rate=st.decimals(min_value=0, max_value=30, places=2))
def test_each_line_is_the_exact_interest_rounded_half_up(minor: int, days: int, rate: Decimal) -> None:
    rates = StaticRateTables(ecb={date(y, m, 1): rate for y in (2026, 2027) for m in (1, 7)})
    result = penalty(until=DUE_ON + timedelta(days=days), balance=[(ISSUED_ON, eur(minor))], rates=rates,
                     split_by_half_year=False)
    exact = Fraction(minor) * Fraction(rate + 10) * days / 365 / 100
    assert result.interest == eur(_half_up(exact))


def _half_up(value: Fraction) -> int:
    whole, rest = divmod(value.numerator, value.denominator)
    return whole + (1 if 2 * rest >= value.denominator else 0)
