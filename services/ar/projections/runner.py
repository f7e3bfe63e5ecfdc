"""Runs projections over the notification log, exactly once: rows and position commit together.

Each projection keeps its position in `projection_positions`. A batch reads the position, applies the next
events and moves the position with a compare-and-set in the same transaction; a runner that lost the race
(another process moved the position first) rolls its batch back. PostgreSQL's event-store insert takes a table
lock, so notification ids become visible in order and a position never skips a late commit.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import sqlalchemy as sa
from eventsourcing.application import Application

from ar.projections.tables import projection_positions

log = logging.getLogger(__name__)


class Projection(Protocol):
    name: str

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        """Apply decoded events (position, event) in order, inside the caller's transaction."""
        ...

    def reset(self, conn: sa.Connection) -> None:
        """Delete every row, for a rebuild from event 1."""
        ...


class ProjectionRunner:
    def __init__(self, app: Application[Any], engine: sa.Engine, projections: list[Projection],
                 batch_size: int = 1000) -> None:
        self.app, self.engine, self.projections, self.batch_size = app, engine, projections, batch_size
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def position(self, name: str) -> int:
        with self.engine.connect() as conn:
            found = conn.scalar(sa.select(projection_positions.c.position).where(projection_positions.c.name == name))
        return int(found or 0)

    def _ensure_row(self, name: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(projection_positions.insert().values(name=name, position=0))
        except sa.exc.IntegrityError:
            pass

    def _batch(self, projection: Projection) -> int:
        start = self.position(projection.name)
        notifications = self.app.recorder.select_notifications(start, self.batch_size, inclusive_of_start=False)
        if not notifications:
            return 0
        events = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
        end = notifications[-1].id
        with self.engine.begin() as conn:
            projection.apply(conn, events)
            moved = conn.execute(
                projection_positions.update()
                .where(projection_positions.c.name == projection.name, projection_positions.c.position == start)
                .values(position=end)
            ).rowcount
            if moved != 1:
                conn.rollback()
                return 0
        return len(events)

    def catch_up(self) -> int:
        """Apply every event recorded so far; returns how many were applied by this call."""
        applied = 0
        with self._lock:
            for projection in self.projections:
                self._ensure_row(projection.name)
                while n := self._batch(projection):
                    applied += n
        return applied

    def rebuild(self, name: str) -> int:
        projection = next(p for p in self.projections if p.name == name)
        with self._lock, self.engine.begin() as conn:
            projection.reset(conn)
            conn.execute(projection_positions.update().where(projection_positions.c.name == name).values(position=0))
        return self.catch_up()

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    # Background loop ------------------------------------------------------------------------------------------
    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    def start(self, interval_s: float) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.catch_up()
                except Exception:
                    log.exception("projection catch-up failed; retrying")
                self._wake.wait(interval_s)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
