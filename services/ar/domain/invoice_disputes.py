"""Disputes on an invoice: at most one open at a time; what is in dispute is not reminded.

The methods named for a fact (`_dispute_opened`, `_dispute_resolved`) are the bodies of the `@event` methods of
`Invoice`: bound in `ar.domain.invoice` to the events declared there, so that called on an invoice they record the
event and apply it, and replayed they only assign (no decision in them).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from uuid import UUID

from ar.domain.errors import Conflict, DomainRuleViolation
from ar.domain.invoice_figures import InvoiceFigures
from ar.domain.money import Money
from ar.domain.settlement import DisputePeriod


class InvoiceDisputes(InvoiceFigures):
    """Opening and resolving a dispute; resolving one restarts the dunning schedule from that day."""

    def open_dispute(self, dispute_id: UUID, amount: Money, reason: str, opened_on: date, at: datetime) -> None:
        if dispute_id in self.disputes or dispute_id in self.resolved_disputes:
            return
        if self.disputes:
            raise Conflict(f"invoice {self.number} already has an open dispute", field="invoice_id")
        self.check_something_open("dispute")
        self.check_open_for(amount, "amount_minor")
        self._dispute_opened(dispute_id=dispute_id, amount=amount, reason=reason, opened_on=opened_on, at=at)

    def _dispute_opened(self, dispute_id: UUID, amount: Money, reason: str, opened_on: date, at: datetime) -> None:
        self.disputes[dispute_id] = amount
        self.dispute_periods[dispute_id] = DisputePeriod(opened_on, None, amount.minor)

    def resolve_dispute(self, dispute_id: UUID, outcome: str, resolved_on: date, at: datetime) -> None:
        if dispute_id in self.resolved_disputes:
            return
        if dispute_id not in self.disputes:
            raise DomainRuleViolation(f"invoice {self.number} has no open dispute {dispute_id}", field="dispute_id")
        self._dispute_resolved(dispute_id=dispute_id, amount=self.disputes[dispute_id], outcome=outcome,
                               resolved_on=resolved_on, at=at)

    def _dispute_resolved(self, dispute_id: UUID, amount: Money, outcome: str, resolved_on: date,
                          at: datetime) -> None:
        del self.disputes[dispute_id]
        self.resolved_disputes.add(dispute_id)
        self.dunning = replace(self.dunning, anchor_on=resolved_on)
        self.dispute_periods[dispute_id] = self.dispute_periods[dispute_id]._replace(resolved_on=resolved_on)
