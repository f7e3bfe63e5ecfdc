"""VAT breakdown of an invoice total: one line per rate; an amount paid or taken off, split the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money, proportional_parts

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class VatLine:
    rate: Decimal  # percent, e.g. Decimal("20.0")
    base: Money
    vat: Money

    def to_dict(self) -> dict[str, object]:
        return {"rate": str(self.rate), "base_minor": self.base.minor, "vat_minor": self.vat.minor}

    @classmethod
    def from_dict(cls, data: dict[str, object], currency: str) -> VatLine:
        return cls(
            rate=Decimal(str(data["rate"])),
            base=Money(int(str(data["base_minor"])), currency),
            vat=Money(int(str(data["vat_minor"])), currency),
        )


def check_breakdown(lines: list[VatLine], total: Money) -> None:
    """The lines add up to the total to the cent, and each line's VAT is its base times its rate."""
    if not lines:
        raise DomainRuleViolation("an invoice needs at least one VAT line (rate 0 for exempt sales)", field="vat")
    gross = Money.zero(total.currency)
    for i, line in enumerate(lines):
        if line.base.currency != total.currency or line.vat.currency != total.currency:
            raise DomainRuleViolation("VAT lines are in the invoice currency", field=f"vat[{i}]")
        if not Decimal(0) <= line.rate <= HUNDRED:
            raise DomainRuleViolation("a VAT rate is a percentage between 0 and 100", field=f"vat[{i}].rate")
        expected = line.base.apply_rate(line.rate / HUNDRED)
        if abs(expected.minor - line.vat.minor) > 1:
            raise DomainRuleViolation(
                f"VAT at {line.rate}% on {line.base} is {expected}, not {line.vat}", field=f"vat[{i}].vat_minor"
            )
        gross += line.base + line.vat
    if gross != total:
        raise DomainRuleViolation(
            f"the VAT lines add up to {gross}, not to the total {total}", field="total_minor"
        )


def split_amount(amount: Money, lines: Sequence[VatLine]) -> list[VatLine]:
    """`amount` (VAT included: cash received, a discount taken) split over an invoice's VAT lines in proportion to
    each line's gross (base + VAT), one part per line in their order, then each part into its base and its VAT at
    the line's rate. The parts add up to `amount` exactly, to the minor unit: the largest remainder method
    (`money.proportional_parts`), equal remainders to the larger base. Status 212 reports it by rate, an
    early-payment discount records it: one split, so both say the same of the same payment."""
    if not lines:
        raise DomainRuleViolation("the invoice has no VAT breakdown to split by", field="vat")
    grosses = [line.base.minor + line.vat.minor for line in lines]
    if sum(grosses) <= 0:
        raise DomainRuleViolation("the VAT breakdown has no positive total to split by", field="vat")
    parts = proportional_parts(amount, grosses, ties=[line.base.minor for line in lines])
    split = []
    for line, part in zip(lines, parts, strict=True):
        vat = part.apply_rate(line.rate / (HUNDRED + line.rate))
        split.append(VatLine(line.rate, part - vat, vat))
    return split
