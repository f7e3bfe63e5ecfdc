"""What a projection is to the runner: a name, `apply` inside the runner's transaction, `reset` for a rebuild."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa


class Projection(Protocol):
    """What the runner needs. Optional members, read with getattr so that a projection without them works as is:
    `topics` (a sequence of event topics: the runner reads and decodes only those) and `rebuilding(conn)` (a context
    manager around a rebuild's batches, e.g. to keep rows in memory and write them once at the end)."""

    name: str

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        """Apply decoded events (position, event) in order, inside the caller's transaction."""
        ...

    def reset(self, conn: sa.Connection) -> None:
        """Delete every row, for a rebuild from event 1."""
        ...
