"""Bodies of dunning operations: the ops task queue, the sweep report and the simulated clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from ar.api.schemas.common import In, Instant, MultilineText, Text
from ar.domain.reminder import Reminder


# Tasks ------------------------------------------------------------------------------------------------------------
class TaskOut(BaseModel):
    """A phone call or a hand-off to collections, decided by a dunning run, waiting for someone in ops."""

    id: UUID = Field(description="the reminder that decided it (a rate task: derived from its table and half-year)")
    customer_id: UUID | None = Field(description="none for a rate task")
    kind: str = Field(examples=["call"], description="call, handoff, or rate (record a rate the penalties need; "
                                                     "done when the rate is recorded)")
    step_key: str
    due_on: date
    state: str = Field(description="open or done")
    summary: str
    outcome: str | None
    done_by: str | None
    created_at: datetime
    done_at: datetime | None

    @classmethod
    def of_reminder(cls, r: Reminder) -> TaskOut:
        """The same figures as the ops task queue (the read model), from the reminder itself."""
        done = r.task_done
        summary = ", ".join(f"{line['number']} ({line['step_key']})" for line in r.lines)
        return cls(id=r.id, customer_id=r.customer_id, kind="handoff" if r.step_kind == "handoff" else "call",
                   step_key=r.lines[0]["step_key"], due_on=r.run_on, state="done" if done else "open",
                   summary=f"{r.content['customer']['name']}: {summary}", outcome=done.outcome if done else None,
                   done_by=done.by if done else None, created_at=r.sent_at, done_at=done.at if done else None)


class TaskDoneIn(In):
    outcome: Annotated[MultilineText, Field(examples=["promised to pay on Friday"])]
    by: Annotated[Text, Field(max_length=128, examples=["marie@ops"])]

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "outcome": "M. Martin promet un virement vendredi pour F2026-000001", "by": "marie@ops"}]})


# Operations -------------------------------------------------------------------------------------------------------
class SweepOut(BaseModel):
    today: date
    customers: int = Field(description="customers whose dunning run was decided")
    reminders: int = Field(description="reminders (and ops tasks) decided")
    invoices: int = Field(description="invoice lines on those reminders")
    skipped_locked: int = Field(description="customers another sweeper was deciding at the same time")
    failures: dict[str, str] = Field(description="customer id -> why its run was refused (retried next sweep)")


class ClockIn(In):
    now: Instant | None = Field(None, description="the new instant (with its offset); never earlier")
    advance_days: Annotated[StrictInt, Field(ge=0, le=3650)] | None = Field(
        None, description="move forward by this many days")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"now": "2026-04-01T09:00:00+02:00"}, {"advance_days": 7}]})

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.now is None) == (self.advance_days is None):
            raise ValueError("give either `now` or `advance_days`")
        return self


class ClockOut(BaseModel):
    now: datetime
    today: date = Field(description="the business date (Europe/Paris)")
