"""A projection stopped at an event it cannot apply: what it is stuck on, and when it tries again.

Read models stay exact, so the failing event is never skipped: the projection stays just before it, retries after a
back-off that doubles from 1 s to a minute (one log line per attempt, not a hot loop), and the others go on. The
state lives in its `projection_positions` row, so that an API process shows what a worker process is stuck on, and a
restart (the fix deployed) picks up from that event; it is cleared by the batch that gets past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.projections.sql import aware
from ar.projections.tables import projection_positions

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
MAX_ERROR_CHARS = 500


def backoff_s(attempts: int) -> float:
    """1 s after the first failure, doubling up to a minute."""
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2.0 ** max(0, attempts - 1))


def describe(exc: BaseException) -> str:
    """The error as an operator reads it: type and first line only (a driver's message goes on with the SQL and its
    parameters, i.e. customer data), without NUL (PostgreSQL could not store the text that explains a NUL)."""
    cause = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    lines = str(cause).strip().splitlines()
    text = f"{type(cause).__name__}: {lines[0] if lines else ''}".replace("\x00", "\\x00")
    return text[:MAX_ERROR_CHARS]


@dataclass(frozen=True)
class FailingEvent:
    """The stored event a projection cannot apply, as the event store names it."""

    topic: str
    originator_id: UUID | str
    originator_version: int


@dataclass(frozen=True)
class Stall:
    """A projection stopped just before `position` (the notification id of the event it cannot apply)."""

    name: str
    position: int
    error: str
    first_failed_at: datetime
    attempts: int
    next_retry_at: datetime
    event: FailingEvent | None = None

    def retry_after_s(self, now: datetime) -> int:
        """Whole seconds until the next attempt, at least 1 (an HTTP Retry-After)."""
        return max(1, int((self.next_retry_at - now).total_seconds() + 0.999))


class BatchFailed(Exception):
    """Applying (or decoding) the events after `start` failed; `first` and `last` are the positions of the events
    the batch held, `event` names the first when it was alone. Its transaction was rolled back."""

    def __init__(self, start: int, first: int, last: int, cause: BaseException,
                 event: FailingEvent | None = None) -> None:
        super().__init__(describe(cause))
        self.start, self.first, self.last, self.cause, self.event = start, first, last, cause, event


def record(engine: sa.Engine, name: str, failed: BatchFailed, now: datetime) -> Stall | None:
    """Keep the projection just before the one event it could not apply, and say so; None when another runner
    moved the position meanwhile (it will be tried again from there). The events between `start` and the failing
    one are not of this projection's topics (they were not read), so the position may rest just before it."""
    row = projection_positions.c.name == name
    with engine.begin() as conn:
        conn.execute(projection_positions.update().where(row).values(position=projection_positions.c.position))
        current = conn.execute(sa.select(projection_positions).where(row)).mappings().one()
        if current["position"] != failed.start:
            return None
        again = current["failed_position"] == failed.first
        attempts = (current["attempts"] or 0) + 1 if again else 1
        first_failed_at = aware(current["first_failed_at"]) if again else now
        stall = Stall(name=name, position=failed.first, error=describe(failed.cause),
                      first_failed_at=first_failed_at or now, attempts=attempts,
                      next_retry_at=now + timedelta(seconds=backoff_s(attempts)))
        conn.execute(projection_positions.update().where(row).values(
            position=max(failed.start, failed.first - 1), failed_position=stall.position, error=stall.error,
            first_failed_at=stall.first_failed_at, attempts=stall.attempts, next_retry_at=stall.next_retry_at))
    return stall


CLEARED: dict[str, Any] = {"failed_position": None, "error": None, "first_failed_at": None, "attempts": None,
                           "next_retry_at": None}


def read(conn: sa.Connection, names: list[str]) -> dict[str, tuple[int, Stall | None]]:
    """Each named projection's position and its stall, if any, in one query."""
    out: dict[str, tuple[int, Stall | None]] = {}
    for r in conn.execute(sa.select(projection_positions).where(projection_positions.c.name.in_(names))).mappings():
        stall = None
        if r["failed_position"] is not None:
            stall = Stall(name=r["name"], position=int(r["failed_position"]), error=r["error"] or "",
                          first_failed_at=aware(r["first_failed_at"]) or datetime.now(UTC),
                          attempts=int(r["attempts"] or 0),
                          next_retry_at=aware(r["next_retry_at"]) or datetime.now(UTC))
        out[r["name"]] = (int(r["position"]), stall)
    return out
