"""Late-payment penalties as a statement shows them: one row per invoice paid or owed late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ar.domain.invoice import Invoice
from ar.domain.penalty_result import PenaltyComputation


@dataclass(frozen=True)
class PenaltyRow:
    invoice_id: str
    number: str
    due_on: date
    currency: str
    regime: str
    interest_minor: int
    indemnity_minor: int
    total_minor: int
    claimed: bool
    explain: str

    @classmethod
    def of(cls, invoice: Invoice, computed: PenaltyComputation) -> PenaltyRow:
        return cls(invoice_id=str(invoice.id), number=invoice.number, due_on=invoice.due_on,
                   currency=invoice.currency, regime=computed.regime.value, interest_minor=computed.interest.minor,
                   indemnity_minor=computed.indemnity.minor, total_minor=computed.total.minor,
                   claimed=invoice.dunning.claimed_interest is not None, explain=computed.explain())
