"""Runs projections over the notification log, exactly once: rows and position commit together.

Each projection keeps its position in `projection_positions`. A batch first locks that row (a no-op UPDATE: a row
lock on PostgreSQL, the write lock on SQLite), reads the position under the lock, applies the next events and
moves the position, all in one transaction; a second runner waits for the lock and then sees the new position, so
no event is applied twice. PostgreSQL's event-store insert takes a table lock, so notification ids become visible
in order and a position never skips a late commit.

An event a projection cannot apply stops that projection just before it, visibly and with a back-off
(ar.projections.stalls); the failed batch rolls back whole, so the stop never half-applies an event, and the other
projections go on. A read that needs a position (`min_position`) does not catch up: it wakes the loop and waits.

A saved command wakes the loop with `wake_soon`: the loop catches up at most once every `batch_interval_s`, so
under load the request threads do not each pay for a catch-up and the events go in batches, as in `ar worker`.
A read that waits for a position wakes it with `wake`, at once.
(The application's lookups still call `catch_up` before they read: see ARCHITECTURE.md, "still to land".)
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from eventsourcing.application import Application

from ar.background import BackgroundLoop
from ar.projections import stalls
from ar.projections.progress import Progress, ProjectionStatus
from ar.projections.projection import Projection
from ar.projections.sql import insert_missing
from ar.projections.stalls import BatchFailed, FailingEvent, Stall
from ar.projections.tables import projection_positions

log = logging.getLogger(__name__)


class ProjectionRunner:
    def __init__(self, app: Application[Any], engine: sa.Engine, projections: list[Projection],
                 batch_size: int = 1000, rebuild_batch_size: int = 5000, batch_interval_s: float = 0.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """`batch_interval_s`: the shortest time between two catch-ups that saves (`wake_soon`) bring about."""
        self.app, self.engine, self.projections, self.batch_size = app, engine, projections, batch_size
        self.rebuild_batch_size, self.batch_interval_s = rebuild_batch_size, batch_interval_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._ensured: set[str] = set()
        self._loop = BackgroundLoop("projections", self.catch_up, log=log, on_failure=self._catch_up_failed)
        self._attempts: dict[str, int] = {}  # failed attempts in a row, per projection
        self._retry_at: dict[str, float] = {}  # monotonic time of its next attempt
        self._progress: Progress | None = None
        self._progress_lock = threading.Lock()

    def position(self, name: str) -> int:
        with self.engine.connect() as conn:
            found = conn.scalar(sa.select(projection_positions.c.position).where(projection_positions.c.name == name))
        return int(found or 0)

    def _ensure_rows(self, names: Collection[str]) -> None:
        """Create the missing position rows, once per process and with one statement that never fails on a row
        already there (INSERT ... ON CONFLICT DO NOTHING: a failed INSERT is an error in PostgreSQL's log)."""
        missing = [name for name in names if name not in self._ensured]
        if not missing:
            return
        with self.engine.begin() as conn:
            insert_missing(conn, projection_positions, [{"name": name, "position": 0} for name in missing], ["name"])
        self._ensured.update(missing)

    def _batch(self, projection: Projection, head: int, limit: int) -> tuple[int, int]:
        """One transaction: the next events up to `limit`, applied, and the position moved. Returns the positions
        (start, end), equal when nothing was left; raises BatchFailed, rolled back, when applying fails."""
        position = self.position(projection.name)
        if position >= head:  # cheap check without taking the lock
            return position, position
        row = projection_positions.c.name == projection.name
        with self.engine.begin() as conn:
            conn.execute(projection_positions.update().where(row).values(position=projection_positions.c.position))
            start, failed = conn.execute(sa.select(projection_positions.c.position,
                                                   projection_positions.c.failed_position).where(row)).one()
            if start >= head:
                return start, start
            notifications, end = self._read(projection, start, head, limit)
            if notifications:
                try:
                    projection.apply(conn, [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications])
                except Exception as exc:
                    first = notifications[0]
                    event = FailingEvent(first.topic, first.originator_id, first.originator_version)
                    raise BatchFailed(start, first.id, notifications[-1].id, exc,
                                      event if len(notifications) == 1 else None) from exc
            cleared = stalls.CLEARED if failed is not None and end >= failed else {}
            conn.execute(projection_positions.update().where(row).values(position=end, **cleared))
        if cleared:
            log.warning("projection %s got past event %d, where it had stopped", projection.name, failed)
        return start, end

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

    def _advance(self, projection: Projection, head: int) -> int:
        """Batches up to `head`. After a failed batch, one event per transaction through that batch's events, so
        that the projection moves up to the event at fault and BatchFailed names it (a transient failure just
        passes). Returns the events gone through."""
        applied, narrow_until = 0, 0
        while True:
            try:
                start, end = self._batch(projection, head, 1 if narrow_until else self.batch_size)
            except BatchFailed as failed:
                if narrow_until or failed.first == failed.last:
                    raise
                narrow_until = failed.last
                continue
            if start == end:
                return applied
            applied += end - start
            if end >= narrow_until:
                narrow_until = 0

    def _catch_up_one(self, projection: Projection, head: int) -> int:
        """Advance one projection unless it is backing off; a failure stops only this one."""
        name = projection.name
        if self._monotonic() < self._retry_at.get(name, 0.0):
            return 0
        try:
            applied = self._advance(projection, head)
        except BatchFailed as failed:
            self._stalled(name, failed)
            return 0
        except Exception as exc:  # not an event's fault (storage down?): back off all the same
            self._back_off(name, self._attempts.get(name, 0) + 1)
            log.error("projection %s could not catch up: %s; next attempt in %.0f s", name, stalls.describe(exc),
                      stalls.backoff_s(self._attempts[name]), exc_info=self._attempts[name] == 1)
            return 0
        if self._attempts.pop(name, None) is not None:
            self._retry_at.pop(name, None)
        return applied

    def _stalled(self, name: str, failed: BatchFailed) -> None:
        first_here = name not in self._attempts  # the traceback once per process, then one line per attempt
        try:
            stall = stalls.record(self.engine, name, failed, datetime.now(UTC))
        except Exception:
            log.exception("projection %s: could not record its failure", name)
            stall = None
        else:
            if stall is None:  # another runner moved the position meanwhile: try again from there
                return
        self._back_off(name, stall.attempts if stall else self._attempts.get(name, 0) + 1)
        event = failed.event
        what = f"{event.topic} of {event.originator_id} v{event.originator_version}" if event else "?"
        log.error("projection %s stopped at event %d (%s): %s; attempt %d, next in %.0f s", name, failed.first,
                  what, stalls.describe(failed.cause), self._attempts[name], stalls.backoff_s(self._attempts[name]),
                  exc_info=failed.cause if first_here else None)

    def _back_off(self, name: str, attempts: int) -> None:
        self._attempts[name] = attempts
        self._retry_at[name] = self._monotonic() + stalls.backoff_s(attempts)

    def catch_up(self, only: Collection[str] | None = None, *, retry_stalled: bool = True) -> int:
        """Apply every event recorded so far; returns how many events the furthest-behind projection went through.
        A projection stopped at an event it cannot apply is retried only once its back-off has passed.

        `only` names the projections to advance (a lookup needs the one it reads, not every read model), and
        `retry_stalled=False` leaves a stopped projection to the background loop, so that a request thread never
        does a stopped projection's retry (one event per transaction through a batch) under the runner's lock."""
        most = 0
        with self._lock:
            self._ensure_rows([p.name for p in self.projections])
            head = self.head()
            for projection in self.projections:
                if only is not None and projection.name not in only:
                    continue
                if not retry_stalled and projection.name in self._attempts:
                    continue
                most = max(most, self._catch_up_one(projection, head))
        return most

    def rebuild(self, name: str) -> int:
        """Rebuild one read model from event 1 in a single transaction: readers keep seeing the old rows until it
        commits, and other runners wait on the position row meanwhile. Returns the number of events gone through
        (the position reached; events of topics the projection does not name are skipped, not decoded)."""
        projection = next((p for p in self.projections if p.name == name), None)
        if projection is None:
            raise KeyError(f"no projection {name!r}; there are {[p.name for p in self.projections]}")
        self._ensure_rows([name])
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
            conn.execute(projection_positions.update().where(row).values(position=position, **stalls.CLEARED))
            self._attempts.pop(name, None)
            self._retry_at.pop(name, None)
        log.info("rebuilt %s: %d events, %d of them for this projection", name, position, applied)
        return position

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def status(self) -> list[ProjectionStatus]:
        """Per projection: its position, its lag, and what it is stuck on if it is."""
        head = self.head()
        with self.engine.connect() as conn:
            rows = stalls.read(conn, [p.name for p in self.projections])
        out = []
        for projection in self.projections:
            position, stall = rows.get(projection.name, (0, None))
            lag_s = 0.0
            if position < head:
                pending = self.app.recorder.select_notifications(position, 1, inclusive_of_start=False)
                if pending:
                    recorded: datetime = getattr(self.app.mapper.to_domain_event(pending[0]), "timestamp")  # noqa: B009
                    lag_s = max(0.0, (datetime.now(UTC) - recorded).total_seconds())
            if stall is not None:
                stall = dataclasses.replace(stall, event=self._event_at(stall.position))
            out.append(ProjectionStatus(projection.name, position, head - position, lag_s, stall))
        return out

    def stuck(self) -> list[Stall]:
        """The projections stopped at an event they cannot apply, in any process sharing this database."""
        with self.engine.connect() as conn:
            rows = stalls.read(conn, [p.name for p in self.projections])
        return [dataclasses.replace(s, event=self._event_at(s.position)) for _, s in rows.values() if s is not None]

    def _event_at(self, position: int) -> FailingEvent | None:
        found = self.app.recorder.select_notifications(position, 1, stop=position)
        return FailingEvent(found[0].topic, found[0].originator_id, found[0].originator_version) if found else None

    def progress(self, max_age_s: float = 0.0) -> Progress:
        """Positions and stalls, read at most once per `max_age_s` however many requests wait (one query)."""
        with self._progress_lock:
            cached = self.fresh_progress(max_age_s)
            if cached is not None:
                return cached
            names = [p.name for p in self.projections]
            # one statement: autocommit spares a waiting read BEGIN and ROLLBACK round trips
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                rows = stalls.read(conn, names)
            self._progress = Progress(positions={n: rows.get(n, (0, None))[0] for n in names},
                                      stalls={n: s for n, (_, s) in rows.items() if s is not None and n in names},
                                      read_at=self._monotonic())
            return self._progress

    def fresh_progress(self, max_age_s: float) -> Progress | None:
        """The last progress read if younger than `max_age_s`; never touches the database (an event loop may call
        it)."""
        cached = self._progress
        return cached if cached is not None and self._monotonic() - cached.read_at < max_age_s else None

    # Background loop ------------------------------------------------------------------------------------------
    def wake(self, _position: int | None = None) -> None:
        """Catch up at once (a read waits for a position)."""
        self._loop.wake()

    def wake_soon(self, _position: int | None = None) -> None:
        """Catch up within `batch_interval_s` (a command was saved: the application's `on_saved`)."""
        self._loop.wake_soon()

    def start(self, interval_s: float) -> None:
        """Polls every `interval_s` (events saved by other processes), sooner when woken."""
        self._loop.start(interval_s, min_gap_s=self.batch_interval_s)

    def stop(self) -> None:
        self._loop.stop(timeout_s=10)

    @staticmethod
    def _catch_up_failed(exc: Exception, failures: int) -> float:
        """The head or a position row unreadable: storage is down. Back off; the first failure has the traceback."""
        wait = stalls.backoff_s(failures)
        log.error("projection catch-up failed: %s; retrying in %.0f s", stalls.describe(exc), wait,
                  exc_info=failures == 1)
        return wait
