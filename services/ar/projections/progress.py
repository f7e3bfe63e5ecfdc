"""What the runner reports about its projections: each one's position, lag and stall (`ProjectionStatus`, for
operators), and every position at once (`Progress`, for reads that wait for a `min_position`)."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from ar.projections.stalls import Stall


class ProjectionStatus(NamedTuple):
    name: str
    position: int
    lag_events: int
    lag_seconds: float  # age of the oldest event not applied yet
    stall: Stall | None  # set while the projection is stopped at an event it cannot apply


@dataclasses.dataclass(frozen=True)
class Progress:
    """Every projection's position and stall as read at `read_at` (monotonic seconds), for reads that wait."""

    positions: dict[str, int]
    stalls: dict[str, Stall]
    read_at: float

    def reached(self, position: int) -> bool:
        return all(p >= position for p in self.positions.values())

    def stuck_before(self, position: int) -> Stall | None:
        """A stall that keeps some projection from ever reaching `position` until it is fixed."""
        return next((s for name, s in self.stalls.items()
                     if s.position <= position and self.positions[name] < position), None)
