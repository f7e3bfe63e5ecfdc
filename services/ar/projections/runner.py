"""Runs projections over the notification log, exactly once: rows and position commit together.

Each projection keeps its position in `projection_positions`. A batch first locks that row (a no-op UPDATE: a row
lock on PostgreSQL, the write lock on SQLite), reads the position under the lock, applies the next events and
moves the position, all in one transaction; a second runner waits for the lock and then sees the new position, so
no event is applied twice. PostgreSQL's event-store insert takes a table lock, so notification ids become visible
in order and a position never skips a late commit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from eventsourcing.application import Application

from ar.projections.tables import projection_positions

log = logging.getLogger(__name__)


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


class ProjectionRunner:
    def __init__(self, app: Application[Any], engine: sa.Engine, projections: list[Projection],
                 batch_size: int = 1000, rebuild_batch_size: int = 5000) -> None:
        self.app, self.engine, self.projections, self.batch_size = app, engine, projections, batch_size
        self.rebuild_batch_size = rebuild_batch_size
        self._lock = threading.Lock()
        self._ensured: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def position(self, name: str) -> int:
        with self.engine.connect() as conn:
            found = conn.scalar(sa.select(projection_positions.c.position).where(projection_positions.c.name == name))
        return int(found or 0)

    def _ensure_row(self, name: str) -> None:
        """Create the position row once per process (not on every catch-up: each failed INSERT is a logged error)."""
        if name in self._ensured:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(projection_positions.insert().values(name=name, position=0))
        except sa.exc.IntegrityError:
            pass
        self._ensured.add(name)

    def _batch(self, projection: Projection, head: int) -> int:
        if self.position(projection.name) >= head:  # cheap check without taking the lock
            return 0
        row = projection_positions.c.name == projection.name
        with self.engine.begin() as conn:
            conn.execute(projection_positions.update().where(row).values(position=projection_positions.c.position))
            start = int(conn.scalar(sa.select(projection_positions.c.position).where(row)) or 0)
            if start >= head:
                return 0
            notifications, end = self._read(projection, start, head, self.batch_size)
            if notifications:
                projection.apply(conn, [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications])
            conn.execute(projection_positions.update().where(row).values(position=end))
        return end - start

    def _read(self, projection: Projection, start: int, head: int, limit: int) -> tuple[list[Any], int]:
        """The next notifications after `start` up to `head` (only the projection's topics, if it names them), and
        the position they take it to: the last one read, or `head` when fewer than `limit` remain (the events in
        between are not for this projection). `head` was read first: on PostgreSQL the event-store insert takes a
        table lock, so every id up to it is committed."""
        topics = tuple(getattr(projection, "topics", None) or ())
        notifications = list(self.app.recorder.select_notifications(start, limit, stop=head, topics=topics,
                                                                    inclusive_of_start=False))
        if len(notifications) < limit:
            return notifications, head
        return notifications, notifications[-1].id

    def catch_up(self) -> int:
        """Apply every event recorded so far; returns how many events the furthest-behind projection went through."""
        most = 0
        with self._lock:
            head = self.head()
            for projection in self.projections:
                self._ensure_row(projection.name)
                applied = 0
                while n := self._batch(projection, head):
                    applied += n
                most = max(most, applied)
        return most

    def rebuild(self, name: str) -> int:
        """Rebuild one read model from event 1 in a single transaction: readers keep seeing the old rows until it
        commits, and other runners wait on the position row meanwhile. Returns the number of events gone through
        (the position reached; events of topics the projection does not name are skipped, not decoded)."""
        projection = next((p for p in self.projections if p.name == name), None)
        if projection is None:
            raise KeyError(f"no projection {name!r}; there are {[p.name for p in self.projections]}")
        self._ensure_row(name)
        row = projection_positions.c.name == name
        applied = position = 0
        limit = max(self.batch_size, self.rebuild_batch_size)
        rebuilding = getattr(projection, "rebuilding", None)
        with self._lock, self.engine.begin() as conn:
            conn.execute(projection_positions.update().where(row).values(position=projection_positions.c.position))
            head = self.head()  # under the position row's lock: no other runner moves it meanwhile
            projection.reset(conn)
            with rebuilding(conn) if rebuilding is not None else contextlib.nullcontext():
                while position < head:
                    notifications, position = self._read(projection, position, head, limit)
                    if notifications:
                        projection.apply(conn, [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications])
                        applied += len(notifications)
            conn.execute(projection_positions.update().where(row).values(position=position))
        log.info("rebuilt %s: %d events, %d of them for this projection", name, position, applied)
        return position

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def status(self) -> list[tuple[str, int, int, float]]:
        """(name, position, lag in events, age in seconds of the oldest event not applied yet) per projection."""
        head, out = self.head(), []
        for projection in self.projections:
            position = self.position(projection.name)
            lag_s = 0.0
            if position < head:
                pending = self.app.recorder.select_notifications(position, 1, inclusive_of_start=False)
                if pending:
                    recorded: datetime = getattr(self.app.mapper.to_domain_event(pending[0]), "timestamp")  # noqa: B009
                    lag_s = max(0.0, (datetime.now(UTC) - recorded).total_seconds())
            out.append((projection.name, position, head - position, lag_s))
        return out

    def reached(self, position: int, timeout_s: float) -> bool:
        """Whether every projection has applied `position`, catching up here first, then waiting up to timeout_s
        for another process (a worker) to do it."""
        deadline = time.monotonic() + timeout_s
        if min(self.position(p.name) for p in self.projections) >= position:
            return True
        self.catch_up()
        while min(self.position(p.name) for p in self.projections) < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

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
