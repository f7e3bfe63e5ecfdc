"""What the application needs from the outside, as protocols."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent


class InvoiceFinder(Protocol):
    """Finds candidate invoices for automatic allocation; the aggregates then decide."""

    def by_reference(self, reference: str) -> list[UUID]: ...

    def by_numbers(self, numbers: list[str]) -> list[UUID]: ...

    def open_for_customer(self, customer_id: UUID, currency: str) -> list[UUID]:
        """Open invoices of a customer, oldest due date first."""
        ...


class ExposureReader(Protocol):
    def open_amount(self, customer_id: UUID, currency: str) -> int:
        """What the customer owes on open invoices now, in minor units."""
        ...


class NoFinder:
    def by_reference(self, reference: str) -> list[UUID]:
        return []

    def by_numbers(self, numbers: list[str]) -> list[UUID]:
        return []

    def open_for_customer(self, customer_id: UUID, currency: str) -> list[UUID]:
        return []

    def open_amount(self, customer_id: UUID, currency: str) -> int:
        return 0

    def open_invoices(self, customer_id: UUID) -> list[UUID]:
        return []

    def invoices_of(self, customer_ids: list[UUID] | None, limit: int) -> list[UUID]:
        return []


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    template_version: str
    content_hash: str  # sha256 hex of subject, text and html: the evidence kept in ReminderSent


class ReminderRenderer(Protocol):
    def knows(self, template: str) -> bool:
        """Whether a policy step may name this template."""
        ...

    def render(self, template: str, language: str, content: dict[str, Any]) -> RenderedMessage:
        """Render a reminder deterministically: the same content and template version give the same hash."""
        ...


class ContentOnlyRenderer:
    """Stands in when no templates are wired (unit tests): the 'message' is the canonical JSON of its content."""

    def knows(self, template: str) -> bool:
        return True

    def render(self, template: str, language: str, content: dict[str, Any]) -> RenderedMessage:
        text = json.dumps(content, sort_keys=True, default=str)
        digest = hashlib.sha256(f"{template}\n{language}\n{text}".encode()).hexdigest()
        return RenderedMessage(subject=template, text=text, html="", template_version="content-only",
                               content_hash=digest)


class DunningCandidates(Protocol):
    def open_invoices(self, customer_id: UUID) -> list[UUID]:
        """Every open invoice of a customer (any currency), oldest due date first."""
        ...

    def invoices_of(self, customer_ids: list[UUID] | None, limit: int) -> list[UUID]:
        """Every invoice, open or not, of these customers (of all customers: None)."""
        ...


class ManyAggregateReads(Protocol):
    """Every stored event of each aggregate in `ids`, in version order, in a few queries: the library reads one
    aggregate per query, and a sweep loading thousands of invoices spent most of its time in round trips. The
    recorder is the application's own (it exists only once the application is built)."""

    def __call__(self, recorder: AggregateRecorder, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]: ...
