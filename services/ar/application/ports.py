"""What the application needs from the outside, as protocols."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


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
