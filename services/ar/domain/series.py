"""Numbering series: chronological, continuous, no gap (one aggregate per series).

A series is numbered either by `ar` (the next number, gapless) or by the issuer, the invoicing system (an ERP)
that gave each invoice its legal number before `ar` records it; never both, so that `ar`'s gapless sequence and the
issuer's numbers cannot interleave. Who numbers a series is decided when it is opened, at its first use. An
issuer-numbered series keeps no number in its state: the invoice's id, derived from (series, number), is what makes
a number unique (see `Receivables.issue_invoice`); a gap in the issuer's numbers is reported
(`number_gaps`), not refused. Credit notes keep ar's numbering, in their own series (`issue_credit_note`): an
issuer's series refuses to number one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import Conflict, DomainRuleViolation

SERIES_NAME = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,15}")
ISSUER_NUMBER = re.compile(r"[A-Za-z0-9_/.-]{1,40}")
ALPHANUMERIC = re.compile(r"[A-Za-z0-9]")  # what its structured reference (ISO 11649) is made of
NAMESPACE = uuid5(NAMESPACE_URL, "https://ar.invalid/numbering-series")
BY_AR = "ar"
BY_ISSUER = "issuer"


class SeriesNumberedElsewhere(DomainRuleViolation):
    """An issuer's number in a series `ar` numbers, or `ar` asked to number a series holding issuer numbers."""

    rule = "series-numbered-elsewhere"


class NumberTaken(Conflict):
    """Another invoice already holds this number in this series."""

    rule = "number-taken"


def check_series_name(name: str, field: str = "series") -> str:
    if not SERIES_NAME.fullmatch(name):
        raise DomainRuleViolation(
            "a series name is 1 to 16 characters: capital letters, digits, '-' or '_', starting with a letter "
            "or digit",
            field=field,
        )
    return name


def check_issuer_number(number: str, field: str = "number") -> str:
    """An invoice number given by the issuer: a chronological, continuous sequence that may carry a prefix (a
    French invoice number, CGI art. 242 nonies A), kept as given."""
    if not ISSUER_NUMBER.fullmatch(number) or not ALPHANUMERIC.search(number):
        raise DomainRuleViolation(
            "an invoice number is 1 to 40 characters: letters, digits, '-', '_', '/' or '.', with at least one "
            "letter or digit", field=field)
    return number


class NumberingSeries(Aggregate):
    """Saved in the same transaction as the document it numbers, so a lost race leaves no gap."""

    numbered_by: str = BY_AR  # a snapshot taken before Opened v2 carries no `numbered_by`: those series are ar's

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE, name)

    class Opened(Aggregate.Created):
        """v2 records who numbers the series: "ar" (gapless, `next_number`) or "issuer" (numbers given)."""

        class_version = 2
        name: str
        numbered_by: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["numbered_by"] = BY_AR  # before issuer numbers, ar numbered every series

    @event(Opened)
    def __init__(self, name: str, numbered_by: str = BY_AR) -> None:
        self.name = name
        self.numbered_by = numbered_by
        self.last_sequence = 0

    def next_number(self, document_id: UUID, at: datetime) -> str:
        if self.numbered_by != BY_AR:
            raise SeriesNumberedElsewhere(
                f"series {self.name} holds the issuer's numbers: give the invoice's `number`, or use another series",
                field="series", figures={"series": self.name, "numbered_by": self.numbered_by})
        self._assigned(sequence=self.last_sequence + 1, document_id=document_id, at=at)
        return self.format(self.last_sequence)

    def check_issuer_may_number(self, number: str) -> None:
        """Nothing is recorded per number: the series only says the issuer numbers it."""
        if self.numbered_by != BY_ISSUER:
            raise SeriesNumberedElsewhere(
                f"series {self.name} is numbered by ar (gapless); an invoice numbered by its issuer ({number}) "
                "belongs in a series of the issuer's", field="number",
                figures={"series": self.name, "numbered_by": self.numbered_by})

    def format(self, sequence: int) -> str:
        return f"{self.name}-{sequence:06d}"

    class NumberAssigned(Aggregate.Event):
        sequence: int
        document_id: UUID
        at: datetime

    @event(NumberAssigned)
    def _assigned(self, sequence: int, document_id: UUID, at: datetime) -> None:
        self.last_sequence = sequence
