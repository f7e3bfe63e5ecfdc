"""Numbering series: chronological, continuous, no gap (one aggregate per series)."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import DomainRuleViolation

SERIES_NAME = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")
NAMESPACE = uuid5(NAMESPACE_URL, "https://ar.invalid/numbering-series")


def check_series_name(name: str, field: str = "series") -> str:
    if not SERIES_NAME.fullmatch(name):
        raise DomainRuleViolation(
            "a series name is 1 to 16 characters: capital letters, digits, '-' or '_', starting with a letter "
            "or digit",
            field=field,
        )
    return name


class NumberingSeries(Aggregate):
    """Saved in the same transaction as the document it numbers, so a lost race leaves no gap."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE, name)

    class Opened(Aggregate.Created):
        name: str

    @event(Opened)
    def __init__(self, name: str) -> None:
        self.name = name
        self.last_sequence = 0

    def next_number(self, document_id: UUID, at: datetime) -> str:
        self._assigned(sequence=self.last_sequence + 1, document_id=document_id, at=at)
        return self.format(self.last_sequence)

    def format(self, sequence: int) -> str:
        return f"{self.name}-{sequence:06d}"

    class NumberAssigned(Aggregate.Event):
        sequence: int
        document_id: UUID
        at: datetime

    @event(NumberAssigned)
    def _assigned(self, sequence: int, document_id: UUID, at: datetime) -> None:
        self.last_sequence = sequence
