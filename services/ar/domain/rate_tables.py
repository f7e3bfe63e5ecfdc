"""Rate tables for late-payment penalties: half-years, the tables' protocol, and `MissingRate`.

The ECB and French legal rates change every half-year (1 January / 1 July) and are entered at run time by the people
who read the Journal officiel (`ar.domain.rate_book`); this module only says how a computation reads them, and what
it says when one is not there yet. Never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money

# The rate tables a computation may wait for, by the key used in `MissingRate` labels and in the rate book.
RATE_TABLE_NAMES: dict[str, str] = {
    "ecb": "ECB main refinancing rate",
    "legal": "French legal interest rate",
    "legal_individual": "French legal interest rate (creditor who is a private individual)",
    "eu": "EU late-payment rule",
}


# --- half-years ------------------------------------------------------------------------------------------------------


def half_year_start(day: date) -> date:
    """1 January or 1 July: the reference dates of the ECB and legal rates (L441-10, R2192-31, L313-2 CMF)."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def next_half_year_start(day: date) -> date:
    start = half_year_start(day)
    return date(start.year, 7, 1) if start.month == 1 else date(start.year + 1, 1, 1)


def half_year_label(day: date) -> str:
    start = half_year_start(day)
    return f"H{1 if start.month == 1 else 2}-{start.year}"


# --- rate tables -----------------------------------------------------------------------------------------------------


class MissingRate(DomainRuleViolation):
    """A rate the computation needs is not in the tables; add it to the data rather than guess."""

    rule = "missing-rate"

    @classmethod
    def for_half_year(cls, key: str, start: date) -> MissingRate:
        return cls(
            f"no {RATE_TABLE_NAMES[key]} for {half_year_label(start)} (half-year starting {start.isoformat()}) in "
            "the rate tables; record it (`ar rates add`, POST /v1/rates) once published",
            field="rates", figures={"table": key, "half_year_start": start.isoformat()},
        )

    @property
    def label(self) -> str:
        """`ecb:2027-01-01` or `eu:FI`: the same labels as the tables' *to confirm* marks."""
        return f"{self.figures.get('table')}:{self.figures.get('half_year_start') or self.figures.get('country')}"


def describe_rate(label: str) -> str:
    """`ecb:2027-01-01` -> `ECB main refinancing rate for H1-2027`, for people."""
    key, _, where = label.partition(":")
    name = RATE_TABLE_NAMES.get(key, key)
    try:
        return f"{name} for {half_year_label(date.fromisoformat(where))}"
    except ValueError:
        return f"{name} for {where}"


@dataclass(frozen=True, slots=True)
class EuRule:
    """One member state's transposition of Directive 2011/7/EU: points over the ECB rate (art. 2(6), at least 8)
    and the fixed recovery indemnity (art. 6, at least EUR 40)."""

    points: Decimal = Decimal(8)
    indemnity_minor: int = 4000
    currency: str = "EUR"

    @property
    def indemnity(self) -> Money:
        return Money(self.indemnity_minor, self.currency)


class RateTables(Protocol):
    def ecb_rate(self, half_year_start: date) -> Decimal:
        """ECB main refinancing rate in force on 1 January / 1 July, in percent points."""
        ...

    def legal_rate(self, half_year_start: date) -> Decimal:
        """French legal interest rate for a creditor who is not a private individual, in percent points."""
        ...

    def eu_rule(self, country: str) -> EuRule: ...


def _rate_in(table: Mapping[date, Decimal], day: date, key: str) -> Decimal:
    start = half_year_start(day)
    if start not in table:
        raise MissingRate.for_half_year(key, start)
    return table[start]


@dataclass(frozen=True)
class StaticRateTables:
    """In-memory rate tables keyed by half-year start; `eu_default` (if any) serves countries not listed."""

    ecb: Mapping[date, Decimal] = field(default_factory=dict)
    legal: Mapping[date, Decimal] = field(default_factory=dict)
    eu: Mapping[str, EuRule] = field(default_factory=dict)
    eu_default: EuRule | None = None
    to_confirm: frozenset[str] = frozenset()  # labels of values the data marks as not yet confirmed

    def __post_init__(self) -> None:
        for table in (self.ecb, self.legal):
            for start, rate in table.items():
                if start != half_year_start(start):
                    raise DomainRuleViolation(f"{start.isoformat()} is not 1 January or 1 July", field="rates")
                if not isinstance(rate, Decimal) or rate < 0:
                    raise DomainRuleViolation(f"rate {rate!r} must be a non-negative Decimal", field="rates")

    def ecb_rate(self, half_year_start: date) -> Decimal:
        return _rate_in(self.ecb, half_year_start, "ecb")

    def legal_rate(self, half_year_start: date) -> Decimal:
        return _rate_in(self.legal, half_year_start, "legal")

    def eu_rule(self, country: str) -> EuRule:
        rule = self.eu.get(country.upper(), self.eu_default)
        if rule is None:
            raise MissingRate(f"no late-payment rule for country {country!r} in the EU table", field="rates",
                              figures={"table": "eu", "country": country})
        return rule
