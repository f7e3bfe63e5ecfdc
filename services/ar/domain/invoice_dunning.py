"""Dunning on an invoice: the steps taken or skipped, penalties claimed, pauses, opt-outs and promises to pay
(`ar.domain.dunning_state` holds what they leave).

The methods named for a fact (`_dunning_step_taken`, `_dunning_step_skipped`, `_penalty_claimed`, `_dunning_paused`,
`_dunning_resumed`, `_dunning_opted_out`, `_dunning_opted_in`, `_payment_promised`, `_promise_broken`) are the
bodies of the `@event` methods of `Invoice`: bound in `ar.domain.invoice` to the events declared there, so that
called on an invoice they record the event and apply it, and replayed they only assign (no decision in them).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ar.domain.dunning_state import Promise, TakenStep
from ar.domain.errors import DomainRuleViolation
from ar.domain.invoice_figures import InvoiceFigures
from ar.domain.money import Money


class InvoiceDunning(InvoiceFigures):
    """What the dunning of one invoice records; the policy and the sweep decide elsewhere (`dunning_decision`)."""

    def take_dunning_step(self, *, reminder_id: UUID, step_key: str, step_kind: str, channel: str, on: date,
                          policy_id: UUID, policy_version: int, at: datetime) -> bool:
        """Record that a step was taken; False (no event) when it was taken already: a re-run is a no-op."""
        if self.dunning.done(step_key):
            return False
        self._dunning_step_taken(reminder_id=reminder_id, step_key=step_key, step_kind=step_kind, channel=channel,
                                 on=on, policy_id=policy_id, policy_version=policy_version,
                                 open=self.open_amount, remindable=self.remindable, at=at)
        return True

    def _dunning_step_taken(self, reminder_id: UUID, step_key: str, step_kind: str, channel: str, on: date,
                            policy_id: UUID, policy_version: int, open: Money, remindable: Money,
                            at: datetime) -> None:
        self.dunning = self.dunning.with_step_taken(TakenStep(step_key, step_kind, channel, on, reminder_id))

    def skip_dunning_step(self, *, step_key: str, reason: str, on: date, at: datetime) -> None:
        """A step whose moment has passed (a courtesy note after the due date) is skipped, not sent late."""
        if not self.dunning.done(step_key):
            self._dunning_step_skipped(step_key=step_key, reason=reason, on=on, at=at)

    def _dunning_step_skipped(self, step_key: str, reason: str, on: date, at: datetime) -> None:
        self.dunning = self.dunning.with_step_skipped(step_key, on)

    def claim_penalty(self, *, reminder_id: UUID, interest: Money, indemnity: Money, as_of: date,
                      computation: dict[str, Any], at: datetime) -> None:
        """Claim the penalties accrued up to `as_of` (each claim restates the total; the indemnity once)."""
        if self.dunning.indemnity_claimed:
            indemnity = Money.zero(indemnity.currency)
        self._penalty_claimed(reminder_id=reminder_id, interest=interest, indemnity=indemnity, as_of=as_of,
                              computation=computation, at=at)

    def _penalty_claimed(self, reminder_id: UUID, interest: Money, indemnity: Money, as_of: date,
                         computation: dict[str, Any], at: datetime) -> None:
        self.dunning = replace(self.dunning, claimed_interest=interest,
                               indemnity_claimed=self.dunning.indemnity_claimed or indemnity.is_positive)

    def pause_dunning(self, reason: str, at: datetime) -> None:
        if self.dunning.paused is None:
            self._dunning_paused(reason=reason, at=at)

    def _dunning_paused(self, reason: str, at: datetime) -> None:
        self.dunning = replace(self.dunning, paused=reason)

    def resume_dunning(self, on: date, at: datetime) -> None:
        if self.dunning.paused is not None:
            self._dunning_resumed(resumed_on=on, at=at)

    def _dunning_resumed(self, resumed_on: date, at: datetime) -> None:
        self.dunning = replace(self.dunning, paused=None, anchor_on=resumed_on)

    def opt_out_of_dunning(self, reason: str, at: datetime) -> None:
        if not reason.strip():
            raise DomainRuleViolation("an opt-out needs a reason", field="reason")
        if self.dunning.opted_out is None:
            self._dunning_opted_out(reason=reason.strip(), at=at)

    def _dunning_opted_out(self, reason: str, at: datetime) -> None:
        self.dunning = replace(self.dunning, opted_out=reason)

    def opt_in_to_dunning(self, on: date, at: datetime) -> None:
        if self.dunning.opted_out is not None:
            self._dunning_opted_in(opted_in_on=on, at=at)

    def _dunning_opted_in(self, opted_in_on: date, at: datetime) -> None:
        self.dunning = replace(self.dunning, opted_out=None, anchor_on=opted_in_on)

    # Promises to pay ------------------------------------------------------------------------------------------------
    def promise_payment(self, *, promise_id: UUID, promised_on: date, amount: Money, made_on: date,
                        at: datetime) -> None:
        """A promise to pay `amount` by `promised_on` snoozes the reminders until that date."""
        current = self.dunning.promise
        if current is not None and current.promise_id == promise_id:
            return
        self.check_something_open("promise")
        self.check_open_for(amount, "amount_minor")
        if promised_on < made_on:
            raise DomainRuleViolation("a promise to pay is for a date to come", field="promised_on")
        self._payment_promised(promise_id=promise_id, promised_on=promised_on, amount=amount, made_on=made_on,
                               at=at)

    def _payment_promised(self, promise_id: UUID, promised_on: date, amount: Money, made_on: date,
                          at: datetime) -> None:
        self.dunning = replace(self.dunning, promise=Promise(promise_id, promised_on, amount, self._settled_minor()))

    def break_promise(self, on: date, at: datetime) -> None:
        promise = self.dunning.promise
        if promise is None or on <= promise.promised_on:
            return
        self._promise_broken(promise_id=promise.promise_id, broken_on=on, at=at)

    def _promise_broken(self, promise_id: UUID, broken_on: date, at: datetime) -> None:
        self.dunning = self.dunning.with_promise_broken(broken_on)
