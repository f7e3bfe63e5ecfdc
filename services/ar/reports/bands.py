"""Aging bands: which band a due date falls in, as of a business date. One rule, in one function (`band`), spelled
in Python for a few thousand cells and in SQL (a CASE comparing dates only, index-friendly, no date arithmetic in
SQL) for the rest, so that the totals, the customer lines and the aging as known at an instant cannot disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, overload

import sqlalchemy as sa

from ar.domain.errors import DomainRuleViolation

DEFAULT_EDGES = (30, 60, 90)
MAX_EDGE = 9999  # days: beyond any claim's life, and far from the calendar's ends when subtracted from a date
BANDS_PATTERN = r"^[1-9][0-9]{0,3}(,[1-9][0-9]{0,3}){0,11}$"


@dataclass(frozen=True)
class Bands:
    """Upper edges in days past due: (30, 60, 90) -> not_due, 1-30, 31-60, 61-90, over_90."""

    edges: tuple[int, ...] = DEFAULT_EDGES

    def __post_init__(self) -> None:
        edges = self.edges
        if not edges or list(edges) != sorted(set(edges)) or edges[0] < 1 or edges[-1] > MAX_EDGE or len(edges) > 12:
            raise DomainRuleViolation(f"bands are 1 to 12 increasing whole numbers of days from 1 to {MAX_EDGE}, "
                                      "e.g. 30,60,90", field="bands")

    @property
    def labels(self) -> list[str]:
        lows = [1, *(e + 1 for e in self.edges[:-1])]
        return ["not_due", *(f"{lo}-{hi}" for lo, hi in zip(lows, self.edges, strict=True)),
                f"over_{self.edges[-1]}"]

    def thresholds(self, as_of: date) -> list[date]:
        """The earliest due date of each band but the last, youngest first: `as_of` (not due), then `as_of` minus
        each edge."""
        return [as_of, *(as_of - timedelta(days=edge) for edge in self.edges)]


@overload
def band(due_on: date, thresholds: Sequence[date]) -> int: ...
@overload
def band(due_on: sa.ColumnElement[date], thresholds: Sequence[Any]) -> sa.ColumnElement[int]: ...
def band(due_on: Any, thresholds: Sequence[Any]) -> Any:
    """The band index of a due date: the first threshold (see `Bands.thresholds`) it is on or after, or the last
    band when it is before all of them. For a SQL column, the same rule as a CASE; its thresholds are dates or bind
    parameters (a statement built once and run with each date)."""
    if isinstance(due_on, date):
        return next((i for i, low in enumerate(thresholds) if due_on >= low), len(thresholds))
    return sa.case(*[(due_on >= low, i) for i, low in enumerate(thresholds)], else_=len(thresholds))
