"""Where an invoice stands in its collection (steps taken, anchor, pause, opt-out, promise, penalties claimed):
a frozen value the invoice's events replace, kept apart from the aggregate so that the dunning schedule and the
dunning decision read it, and derive the state a decision would lead to, without touching the invoice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from ar.domain.money import Money

SKIPPED = "skipped"  # the kind recorded for a step whose moment passed


@dataclass(frozen=True)
class TakenStep:
    """A step of the policy taken on `on` by a reminder, or skipped (kind `skipped`, no channel, no reminder)."""

    key: str
    kind: str
    channel: str | None
    on: date
    reminder_id: UUID | None


@dataclass(frozen=True)
class Promise:
    """A promise to pay `amount` by `promised_on`; kept once `amount` more than `baseline_minor` (what was settled
    when it was made) is settled."""

    promise_id: UUID
    promised_on: date
    amount: Money
    baseline_minor: int

    def kept_by(self, settled_minor: int) -> bool:
        return settled_minor - self.baseline_minor >= self.amount.minor


@dataclass(frozen=True)
class DunningState:
    """Where an invoice stands in its collection; replaced (never changed in place) only by the invoice's events,
    so the dunning decision can also derive the state a decision would lead to without touching the invoice."""

    steps: tuple[TakenStep, ...] = ()
    anchor_on: date | None = None  # last partial settlement, dispute resolution or resumption
    escalate_on: date | None = None  # a broken promise: the next step is due at once
    paused: str | None = None
    opted_out: str | None = None
    promise: Promise | None = None
    claimed_interest: Money | None = None
    indemnity_claimed: bool = False

    def done(self, key: str) -> bool:
        return any(s.key == key for s in self.steps)

    @property
    def formal_notice_on(self) -> date | None:
        """When the formal notice went out (a consumer's interest runs from it)."""
        return next((s.on for s in self.steps if s.kind == "formal_notice"), None)

    def with_step_taken(self, taken: TakenStep) -> DunningState:
        return replace(self, steps=(*self.steps, taken), escalate_on=None)

    def with_step_skipped(self, step_key: str, on: date) -> DunningState:
        return replace(self, steps=(*self.steps, TakenStep(step_key, SKIPPED, None, on, None)))

    def with_promise_broken(self, broken_on: date) -> DunningState:
        return replace(self, promise=None, escalate_on=broken_on)  # the next step goes out at once: one step firmer
