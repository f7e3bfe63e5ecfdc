"""A reminder: one consolidated message to one customer, decided by a dunning run, then delivered.

Its first event, `ReminderSent`, is the decision with its evidence (the invoices, amounts and penalties shown, the
template and its version, the hash of the rendered message). Delivery happens afterwards, outside the decision, and
records `ReminderDelivered` or `ReminderDeliveryFailed`; a phone call or a hand-off is a task in the ops queue,
closed by `TaskCompleted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import DomainRuleViolation

REMINDER_IDS = uuid5(NAMESPACE_URL, "https://ar.invalid/reminders")


def reminder_id(customer_id: UUID, run_on: date, channel: str, taken: list[tuple[UUID, str]]) -> UUID:
    """The same decision gives the same id: two sweepers deciding it at once collide instead of doubling it."""
    steps = ",".join(f"{i}:{k}" for i, k in sorted((str(i), k) for i, k in taken))
    return uuid5(REMINDER_IDS, f"{customer_id}|{run_on.isoformat()}|{channel}|{steps}")


@dataclass(frozen=True)
class Delivery:
    """The channel accepted the message at `attempt`; `detail` is what it answered."""

    attempt: int
    detail: str
    at: datetime


@dataclass(frozen=True)
class DeliveryFailure:
    """One failed attempt; `final`: no more attempts, otherwise the next one is at `retry_at`."""

    attempt: int
    error: str
    final: bool
    retry_at: datetime | None
    at: datetime


@dataclass(frozen=True)
class TaskDone:
    """What came of a phone call or a hand-off, said by `by`."""

    outcome: str
    by: str
    at: datetime


class Reminder(Aggregate):
    class ReminderSent(Aggregate.Created):
        """The decision and its evidence; `content` is rendered by `template` at `template_version` into the
        message whose hash is `content_hash`."""

        customer_id: UUID
        run_on: date
        channel: str
        step_kind: str
        template: str
        template_version: str
        language: str
        recipients: list[str]
        content: dict[str, Any]
        policy_id: UUID
        policy_version: int
        content_hash: str
        at: datetime

    @event(ReminderSent)
    def __init__(self, id: UUID, customer_id: UUID, run_on: date, channel: str, step_kind: str, template: str,
                 template_version: str, language: str, recipients: list[str], content: dict[str, Any],
                 policy_id: UUID, policy_version: int, content_hash: str, at: datetime) -> None:
        """`content` is everything the message shows (invoices, stages, amounts, penalties, deadline): rendering
        it again with the same template version gives the same `content_hash`."""
        self.customer_id, self.run_on, self.channel = customer_id, run_on, channel
        self.step_kind, self.template, self.template_version = step_kind, template, template_version
        self.language, self.recipients, self.content = language, recipients, content
        self.policy_id, self.policy_version, self.content_hash = policy_id, policy_version, content_hash
        self.sent_at = at
        self.delivered: Delivery | None = None
        self.failures: list[DeliveryFailure] = []
        self.abandoned = False
        self.task_done: TaskDone | None = None

    @property
    def lines(self) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = self.content["lines"]
        return lines

    @property
    def state(self) -> str:
        if self.delivered is not None:
            return "delivered"
        return "failed" if self.abandoned else "pending"

    def mark_delivered(self, *, attempt: int, detail: str, at: datetime) -> None:
        if self.delivered is None:
            self._delivered(attempt=attempt, detail=detail, at=at)

    class ReminderDelivered(Aggregate.Event):
        attempt: int
        detail: str
        at: datetime

    @event(ReminderDelivered)
    def _delivered(self, attempt: int, detail: str, at: datetime) -> None:
        self.delivered = Delivery(attempt=attempt, detail=detail, at=at)

    def mark_delivery_failed(self, *, attempt: int, error: str, final: bool, retry_at: datetime | None,
                             at: datetime) -> None:
        if self.delivered is not None or self.abandoned:
            return
        self._delivery_failed(attempt=attempt, error=error[:2000], final=final, retry_at=retry_at, at=at)

    class ReminderDeliveryFailed(Aggregate.Event):
        """`final`: no more attempts (the reminder is abandoned); otherwise the next one is at `retry_at`."""

        attempt: int
        error: str
        final: bool
        retry_at: datetime | None
        at: datetime

    @event(ReminderDeliveryFailed)
    def _delivery_failed(self, attempt: int, error: str, final: bool, retry_at: datetime | None,
                         at: datetime) -> None:
        self.failures.append(DeliveryFailure(attempt=attempt, error=error, final=final, retry_at=retry_at, at=at))
        self.abandoned = final

    def complete_task(self, *, outcome: str, by: str, at: datetime) -> None:
        if self.channel != "phone":
            raise DomainRuleViolation("only a phone or hand-off reminder is a task", field="task_id")
        if not outcome.strip():
            raise DomainRuleViolation("say what came of the task", field="outcome")
        if self.task_done is None:
            self._task_completed(outcome=outcome.strip(), by=by, at=at)

    class TaskCompleted(Aggregate.Event):
        outcome: str
        by: str
        at: datetime

    @event(TaskCompleted)
    def _task_completed(self, outcome: str, by: str, at: datetime) -> None:
        self.task_done = TaskDone(outcome=outcome, by=by, at=at)
