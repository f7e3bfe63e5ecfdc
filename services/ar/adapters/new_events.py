"""Word that another process recorded events, so that `ar worker` applies them at once instead of at its next poll
(a read with `min_position` waits for the worker; `ar serve` runs it as a process of its own by default).

PostgreSQL: the event store's insert sends a NOTIFY on a channel named after its table (eventsourcing's
`PostgresApplicationRecorder.channel_name`, in the insert's transaction, so it arrives after the commit); one
connection LISTENs. SQLite: `PRAGMA data_version` changes when another connection has committed to the file; one
connection reads it every few milliseconds (a read of the shared WAL index, no I/O).

A lost connection is logged and opened again after a back-off; the worker's polling goes on meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

SQLITE_CHECK_S = 0.01
RETRY_S = (1.0, 2.0, 5.0, 10.0)


class NewEventWatcher:
    """Calls `on_new` from its thread whenever events were recorded by another connection; `stop()` ends it."""

    def __init__(self, on_new: Callable[[], None], *, postgres_url: str | None = None, channel: str | None = None,
                 sqlite_path: Path | None = None) -> None:
        if (postgres_url is None or channel is None) == (sqlite_path is None):
            raise ValueError("a PostgreSQL URL and channel, or a SQLite file")
        self._on_new, self._url, self._channel, self._path = on_new, postgres_url, channel, sqlite_path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="new-events", daemon=True)

    def start(self) -> NewEventWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                if self._path is not None:
                    self._watch_sqlite(self._path)
                else:
                    self._listen_postgres()
                return
            except Exception as exc:  # the database went away: the poll covers the gap
                wait = RETRY_S[min(failures, len(RETRY_S) - 1)]
                failures += 1
                log.warning("watching for new events failed (%s: %s); again in %.0f s", type(exc).__name__, exc,
                            wait, exc_info=failures == 1)
                self._stop.wait(wait)

    def _listen_postgres(self) -> None:
        assert self._url is not None and self._channel is not None
        with psycopg.connect(self._url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._on_new()  # whatever was recorded before we listened
            while not self._stop.is_set():
                # The notifications that arrived together make one call: `on_new` only asks for a catch-up.
                if any(True for _ in conn.notifies(timeout=0.5, stop_after=1)):
                    self._on_new()

    def _watch_sqlite(self, path: Path) -> None:
        with contextlib.closing(sqlite3.connect(path, check_same_thread=False)) as conn:
            seen = conn.execute("PRAGMA data_version").fetchone()[0]
            self._on_new()
            while not self._stop.wait(SQLITE_CHECK_S):
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                if version != seen:
                    seen = version
                    self._on_new()
