"""Exact money: integer minor units plus an ISO 4217 currency code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ar.domain.errors import CurrencyMismatch, DomainRuleViolation

# Minor-unit exponents of the currencies we accept (ISO 4217). Extending the list is a data change.
MINOR_UNITS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2,
    "RON": 2, "BGN": 2, "CAD": 2, "AUD": 2, "JPY": 0, "XOF": 0, "XPF": 0, "TND": 3, "MAD": 2,
}


def check_currency(code: str, field: str = "currency") -> str:
    if code not in MINOR_UNITS:
        raise DomainRuleViolation(f"unknown or unsupported ISO 4217 currency {code!r}", field=field)
    return code


@dataclass(frozen=True, order=False, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:
            raise TypeError(f"Money.minor must be an int, got {type(self.minor).__name__}")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}", field="currency")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.minor >= other.minor

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_positive(self) -> bool:
        return self.minor > 0

    def apply_rate(self, rate: Decimal) -> Money:
        """Multiply by a rate. With `proportional_parts`, one of the two places where a fraction of a minor unit is
        rounded: here a single product, half up."""
        exact = Decimal(self.minor) * rate
        return Money(int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.currency)

    def __str__(self) -> str:
        exp = MINOR_UNITS[self.currency]
        value = Decimal(self.minor).scaleb(-exp)
        return f"{value:.{exp}f} {self.currency}"


def exact_minor(amount: Decimal, currency: str) -> int | None:
    """A stated decimal amount (a bank line, an e-invoice total) in minor units of `currency`, or None when it has
    more decimals than the currency allows (or is not a finite number): a stated amount is never rounded."""
    if not amount.is_finite():
        return None
    scaled = amount.scaleb(MINOR_UNITS[currency])
    return int(scaled) if scaled == scaled.to_integral_value() else None


def proportional_parts(amount: Money, weights: Sequence[int], ties: Sequence[int] | None = None) -> list[Money]:
    """`amount` split in proportion to `weights`, to the minor unit, by the largest remainder method: each part
    rounded down, then the minor units left go one by one to the parts with the largest remainders, so that the
    parts add up to `amount` exactly (rounding each part half up would not: three thirds of 100 make 99). Equal
    remainders go to the larger `ties` value (default: the weight), then to the earlier part: the same inputs
    always give the same parts. Integer arithmetic throughout: no fraction of a minor unit is ever represented.

    The other place where money is rounded, with `Money.apply_rate`; a split that must add up comes here."""
    whole = sum(weights)
    if not weights or whole <= 0:
        raise DomainRuleViolation("an amount is split in proportion to weights adding up to more than zero")
    keys = ties if ties is not None else weights
    if len(keys) != len(weights):
        raise ValueError("one tie-break value per weight")
    floors = [amount.minor * w // whole for w in weights]
    remainders = [amount.minor * w % whole for w in weights]
    left = amount.minor - sum(floors)  # 0 <= left < len(weights): each floor loses less than one minor unit
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], -keys[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [Money(part, amount.currency) for part in floors]


def total(amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result += amount
    return result
