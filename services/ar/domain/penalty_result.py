"""What a penalty computation answers: its lines, interest, indemnity and total, the rates it still waits for,
and the same as data (`to_dict`, recorded on `LatePenaltyClaimed`) and as text (`explain`) for the person who will
question it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import MINOR_UNITS, Money
from ar.domain.penalty_regime import SOURCES, PenaltyRegime
from ar.domain.rate_tables import describe_rate

DAYS_PER_YEAR = 365  # the usual convention for L441-10 penalties (DOMAIN.md)


def _amount(money: Money) -> str:
    exp = MINOR_UNITS[money.currency]
    return f"{Decimal(money.minor).scaleb(-exp):.{exp}f}"


def percent(rate: Decimal) -> str:
    exponent = rate.as_tuple().exponent
    return f"{rate:.2f}" if isinstance(exponent, int) and exponent > -2 else str(rate)


def _money_dict(money: Money) -> dict[str, object]:
    return {"minor": money.minor, "currency": money.currency}


@dataclass(frozen=True, slots=True)
class PenaltyLine:
    """Interest on `base` at `rate` percent for the days from `start` to `end`, both included."""

    start: date
    end: date
    days: int
    base: Money
    rate: Decimal
    amount: Money

    def to_dict(self) -> dict[str, object]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days,
                "base": _money_dict(self.base), "rate": str(self.rate), "amount": _money_dict(self.amount)}

    def explain(self) -> str:
        return (f"{self.base} x {percent(self.rate)}% x {self.days}/{DAYS_PER_YEAR} = {_amount(self.amount)}"
                f" ({self.start.isoformat()} to {self.end.isoformat()})")


@dataclass(frozen=True, slots=True)
class PenaltyComputation:
    """Penalties through `as_of`. When a rate is not yet recorded, `missing` names it and the interest covers only
    the days through `known_until`: what is known is stated, the rest follows once the rate is published."""

    regime: PenaltyRegime
    lines: tuple[PenaltyLine, ...]
    interest: Money
    indemnity: Money
    total: Money
    as_of: date
    notes: tuple[str, ...] = ()
    known_until: date | None = None  # None: through `as_of`
    missing: tuple[str, ...] = ()  # labels of the rates waited for, e.g. `ecb:2027-01-01`

    def __post_init__(self) -> None:
        lines_sum = Money.zero(self.interest.currency)
        for line in self.lines:
            lines_sum += line.amount
        if lines_sum != self.interest or self.interest + self.indemnity != self.total:
            raise DomainRuleViolation("penalty lines, interest, indemnity and total do not add up", field="penalty")
        if self.known_until is None:
            object.__setattr__(self, "known_until", self.as_of)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def covered_until(self) -> date:
        """The last day the interest covers (`as_of` when complete)."""
        return self.as_of if self.known_until is None else self.known_until

    def to_dict(self) -> dict[str, object]:
        return {"regime": self.regime.value, "source": SOURCES[self.regime], "as_of": self.as_of.isoformat(),
                "lines": [line.to_dict() for line in self.lines], "interest": _money_dict(self.interest),
                "indemnity": _money_dict(self.indemnity), "total": _money_dict(self.total),
                "notes": list(self.notes), "complete": self.complete,
                "known_until": self.covered_until.isoformat(), "missing": list(self.missing)}

    def explain(self) -> str:
        text = [f"Late-payment penalties ({self.regime.value}, {SOURCES[self.regime]}) as of {self.as_of.isoformat()}"]
        text += [f"  {line.explain()}" for line in self.lines]
        text += [f"Interest: {self.interest}", f"Recovery indemnity: {self.indemnity}", f"Total: {self.total}"]
        if self.missing:
            waited = ", ".join(describe_rate(label) for label in self.missing)
            text.append(f"Incomplete: interest counted through {self.covered_until.isoformat()} only; not yet "
                        f"recorded: {waited}. The interest from "
                        f"{(self.covered_until + timedelta(days=1)).isoformat()} will follow once it is published.")
        text += [f"Note: {note}" for note in self.notes]
        return "\n".join(text)
