"""One writer at a time, in arrival order, on a SQLite engine of this process.

SQLite lets one connection write at a time; the others get SQLITE_BUSY, and pysqlite's busy handler sleeps and
retries with growing sleeps (up to 100 ms each), so under load a writer may lose the race again and again: the
p99 of a command at 16 clients was about 1 s while its median was about 0.1 s. Here a write transaction first
takes a process-wide lock, handed over in arrival order, at its first INSERT/UPDATE/DELETE (when pysqlite begins
the transaction; a read never takes it); commit or rollback hands it to the next writer at once. SQLite's own
lock still rules between processes (`ar worker` beside `ar serve`); in one process it is then always free when a
writer asks for it.

The lock belongs to the DBAPI connection, not to a thread: whichever thread ends the transaction (or returns the
connection to the pool) releases it. A writer that waits longer than `timeout_s` goes on without it, and SQLite's
busy handler decides as before (a transaction that opens a second write connection while it holds the first must
not wait for itself forever).
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

_WRITES = ("insert", "update", "delete", "replace")
_HELD = "ar_write_lock_held"


class FairLock:
    """A lock handed to its waiters in the order they asked, owned by an object (a connection), not a thread."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._owner: object | None = None
        self._queue: collections.deque[tuple[object, threading.Event]] = collections.deque()

    @property
    def owner(self) -> object | None:
        return self._owner

    def acquire(self, owner: object, timeout_s: float) -> bool:
        """Waits its turn; False (and out of the queue) if `timeout_s` passed first."""
        with self._mutex:
            if self._owner is None and not self._queue:
                self._owner = owner
                return True
            turn = threading.Event()
            self._queue.append((owner, turn))
        if turn.wait(timeout_s):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self._queue.remove((owner, turn))
            return False

    def release(self, owner: object) -> None:
        """Hands the lock to the next waiter; does nothing unless `owner` holds it."""
        with self._mutex:
            if self._owner is not owner:
                return
            if self._queue:
                self._owner, turn = self._queue.popleft()
                turn.set()
            else:
                self._owner = None


def serialize_writes(engine: sa.Engine, timeout_s: float = 30.0) -> FairLock:
    """Installs one FairLock on the engine's write transactions; returns it (tests look at its owner). It is
    released after the DBAPI commit or rollback (SQLAlchemy's `commit` event comes before it, too early)."""
    lock = FairLock()
    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(conn: sa.Connection, _cursor: Any, statement: str, _params: Any, _context: Any,
                _executemany: bool) -> None:
        owner = _dbapi(conn.connection)
        if lock.owner is owner or not statement.lstrip()[:7].lower().startswith(_WRITES):
            return
        if not lock.acquire(owner, timeout_s):
            log.warning("a SQLite write waited %.0f s for this process's other writers; going on without the lock",
                        timeout_s)

    def commit_then_release(connection: Any) -> None:
        try:
            do_commit(connection)
        finally:
            lock.release(_dbapi(connection))

    def roll_back_then_release(connection: Any) -> None:
        try:
            do_rollback(connection)
        finally:
            lock.release(_dbapi(connection))

    # The engine's own dialect instance: a commit or rollback through a Connection or the pool's reset on return.
    setattr(dialect, "do_commit", commit_then_release)  # noqa: B010
    setattr(dialect, "do_rollback", roll_back_then_release)  # noqa: B010

    @sa.event.listens_for(engine, "close")
    def _closed(dbapi_connection: Any, _record: Any) -> None:
        lock.release(dbapi_connection)

    @sa.event.listens_for(engine, "invalidate")
    def _invalidated(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
        lock.release(dbapi_connection)

    return lock


def _dbapi(connection: Any) -> object:
    """The sqlite3 connection behind a pool's proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", None) or connection
