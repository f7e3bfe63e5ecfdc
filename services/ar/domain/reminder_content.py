"""What a reminder shows: one line per invoice (its stage, amounts and penalties) and the totals per currency.

The content is the evidence recorded in `ReminderSent`, and rendering it again with the same template version
gives the same hash, so its shape (keys, order, ISO dates, minor units) is a contract: change it only on purpose.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from ar.domain.dunning_policy import PolicyRules, Step
from ar.domain.invoice import Invoice
from ar.domain.penalty_result import PenaltyComputation
from ar.domain.rate_tables import describe_rate, half_year_label


@dataclass(frozen=True)
class ReminderLine:
    """One invoice in a reminder, with the figures as they stood on the run day."""

    invoice_id: UUID
    number: str
    issued_on: date
    due_on: date
    days_late: int
    step_key: str
    step_kind: str
    stage: str  # "2/5": the step's place in the policy
    currency: str
    total_minor: int
    open_minor: int
    disputed_minor: int
    remindable_minor: int
    structured_reference: str
    penalty: PenaltyComputation | None

    @classmethod
    def of(cls, invoice: Invoice, step: Step, rules: PolicyRules, today: date,
           penalty: PenaltyComputation | None) -> ReminderLine:
        position = [s.key for s in rules.steps].index(step.key) + 1
        return cls(invoice_id=invoice.id, number=invoice.number, issued_on=invoice.issued_on, due_on=invoice.due_on,
                   days_late=(today - invoice.due_on).days, step_key=step.key, step_kind=step.kind.value,
                   stage=f"{position}/{len(rules.steps)}", currency=invoice.currency,
                   total_minor=invoice.total.minor, open_minor=invoice.open_amount.minor,
                   disputed_minor=invoice.disputed.minor, remindable_minor=invoice.remindable.minor,
                   structured_reference=invoice.structured_reference, penalty=penalty)

    @property
    def penalty_minor(self) -> int:
        return 0 if self.penalty is None else self.penalty.total.minor

    def to_dict(self) -> dict[str, Any]:
        penalty = self.penalty
        return {
            "invoice_id": str(self.invoice_id), "number": self.number, "issued_on": self.issued_on.isoformat(),
            "due_on": self.due_on.isoformat(), "days_late": self.days_late, "step_key": self.step_key,
            "step_kind": self.step_kind, "stage": self.stage, "currency": self.currency,
            "total_minor": self.total_minor, "open_minor": self.open_minor, "disputed_minor": self.disputed_minor,
            "remindable_minor": self.remindable_minor, "structured_reference": self.structured_reference,
            "penalty": None if penalty is None else {
                "regime": penalty.regime.value, "interest_minor": penalty.interest.minor,
                "indemnity_minor": penalty.indemnity.minor, "total_minor": penalty.total.minor,
                "currency": penalty.total.currency, "as_of": penalty.as_of.isoformat(),
                "explain": penalty.explain(), **coverage(penalty)},
        }


def coverage(penalty: PenaltyComputation) -> dict[str, Any]:
    """What the reminder's penalty part covers: complete, or known through a day while rates are awaited."""
    half_years = sorted({where for label in penalty.missing
                         if (where := label.partition(":")[2])[:2] in ("19", "20")})
    return {"complete": penalty.complete, "known_until": penalty.covered_until.isoformat(),
            "pending_from": (penalty.covered_until + timedelta(days=1)).isoformat(),
            "missing": list(penalty.missing), "missing_rates": [describe_rate(m) for m in penalty.missing],
            "missing_half_years": [half_year_label(date.fromisoformat(day)) for day in half_years]}


def totals(lines: tuple[ReminderLine, ...]) -> list[dict[str, Any]]:
    """Per currency: what the reminder asks for (remindable amounts plus the penalties it states)."""
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"remindable_minor": 0, "penalties_minor": 0})
    for line in lines:
        total = found[line.currency]
        total["remindable_minor"] += line.remindable_minor
        total["penalties_minor"] += line.penalty_minor
    return [{"currency": c, **t, "total_minor": t["remindable_minor"] + t["penalties_minor"]}
            for c, t in sorted(found.items())]
