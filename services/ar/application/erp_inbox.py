"""The inbox of ERP deliveries: each verified delivery kept once with its outcome, answered again as it was to the
same delivery sent twice, until a replay runs it again (after a fix: the missing customer now exists, or a newer
version knows the type). The commands run as the source (`caused_by = "webhook:<source>"`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

from ar.application import actor
from ar.application.erp_webhooks import ErpCommand, Result, execute
from ar.application.receivables import Receivables
from ar.domain.errors import DomainError, NotFound

State = Literal["processed", "failed"]
FILED_TYPE = re.compile(r"[\x21-\x7E]{1,100}")  # what an inbox row files a delivery under; else ""


@dataclass(frozen=True)
class Outcome:
    state: State
    result: Result | None = None
    error: dict[str, Any] | None = None  # the problem+json answered


@dataclass(frozen=True)
class Delivery:
    inbox_id: UUID
    source: str
    webhook_id: str
    type: str
    payload: str
    received_at: datetime
    processed_at: datetime
    state: str
    error: dict[str, Any] | None
    result: Result | None
    attempts: int


class Inbox(Protocol):
    def find(self, source: str, webhook_id: str, now: datetime) -> Delivery | None: ...

    def get(self, inbox_id: UUID, now: datetime) -> Delivery | None: ...

    def add(self, *, source: str, webhook_id: str, type: str, payload: str, outcome: Outcome,
            now: datetime) -> Delivery: ...

    def record(self, inbox_id: UUID, outcome: Outcome, now: datetime) -> Delivery: ...


def envelope_type(body: str) -> str:
    """The delivery's `type`, if it can be read ("" otherwise), to file it by."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    kind = parsed.get("type") if isinstance(parsed, dict) else None
    return kind if isinstance(kind, str) and FILED_TYPE.fullmatch(kind) else ""


class ErpDeliveries:
    """`parse` reads a delivery's body into its command (raising a `DomainError` for an unknown type or an invalid
    payload); `problem_of` renders an error as the problem+json the sender is answered with."""

    def __init__(self, app: Receivables, inbox: Inbox, parse: Callable[[str], ErpCommand],
                 problem_of: Callable[[DomainError], dict[str, Any]]) -> None:
        self.app, self.inbox, self.parse, self.problem_of = app, inbox, parse, problem_of

    def receive(self, source: str, webhook_id: str, body: str) -> Delivery:
        """A verified delivery: its first outcome if it came before, else run and kept with its outcome."""
        now = self.app.clock.now()
        kept = self.inbox.find(source, webhook_id, now)
        if kept is not None:
            return kept
        outcome = self._run(source, body)
        return self.inbox.add(source=source, webhook_id=webhook_id, type=envelope_type(body), payload=body,
                              outcome=outcome, now=self.app.clock.now())

    def replay(self, inbox_id: UUID) -> Delivery:
        """Run a failed delivery again (after a fix); a processed one is left as it is."""
        kept = self.inbox.get(inbox_id, self.app.clock.now())
        if kept is None:
            raise NotFound(f"no delivery {inbox_id} in the inbox", field="inbox_id")
        if kept.state == "processed":
            return kept
        return self.inbox.record(inbox_id, self._run(kept.source, kept.payload), self.app.clock.now())

    def _run(self, source: str, body: str) -> Outcome:
        with actor.acting_as(actor.webhook_source(source)):
            try:
                return Outcome("processed", result=execute(self.app, self.parse(body)))
            except DomainError as e:
                return Outcome("failed", error=self.problem_of(e))
