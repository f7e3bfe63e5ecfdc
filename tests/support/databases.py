"""Migrated template databases for the tests: the schema is made once per test session (per xdist worker), and
each test gets a copy of it instead of running the 18 migrations again.

The schema is what `ar.runtime.build` makes before it records anything: our tables (the alembic migrations) and
the event store's (eventsourcing's `CREATE_TABLE`). A test database made from a template is then handed to `build`
as usual: it still runs `migrate` (alembic finds the head) and lets the event store create its tables (they
exist), then records the default policies and the rate book. tests/integration/test_database_templates.py checks
that a copy has the very schema that `build` makes in an empty database.

PostgreSQL: `CREATE DATABASE ... TEMPLATE ar_tpl_<hash>_<pid>`, one template per test process, dropped at the end
of the session (and, at the start of one, any template whose process is gone); the copies are made a little ahead
and dropped after their test in background threads, all gone by the end of the session. SQLite: the database files made
once in a session folder, copied into each test's folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import re
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from eventsourcing.application import Application

from ar.application.receivables import Receivables
from ar.config import Settings
from ar.database import create_engine, migrate, migrations_dir

TEMPLATE_PREFIX = "ar_tpl_"
SQLITE_FILES = ("ar.sqlite", "ar.events.sqlite")  # Settings.sqlite_path and the event store's sibling file
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", None}


def schema_hash() -> str:
    """What shapes the schema: the migrations' files and the event store library's version."""
    digest = hashlib.sha256(version("eventsourcing").encode())
    digest.update(Receivables.name.encode())
    root = migrations_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def create_schema(settings: Settings) -> None:
    """Our tables (migrated to the head) and the event store's, in an empty database; every connection closed."""
    engine = create_engine(settings)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    # The event store as `Receivables` opens it (eventsourcing's part of its set-up: the tables are named after the
    # app, and its snapshotting adds some), without the rest of the application's.
    event_store = object.__new__(Receivables)
    Application.__init__(event_store, {**settings.event_store_env(), "CREATE_TABLE": "y"})
    Application.close(event_store)


def with_database(url: str, dbname: str) -> str:
    return urlsplit(url)._replace(path=f"/{dbname}").geturl()


# PostgreSQL ---------------------------------------------------------------------------------------------------------
def create_postgres_database(admin_url: str, template: str | None = None) -> str:
    """A new database (a copy of `template`, else empty); its name."""
    name = f"ar_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def drop_postgres_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class BackgroundDrops:
    """Drops databases in a thread, so that a test's teardown does not wait for it (a DROP DATABASE is mostly disk
    I/O: a few hundred ms on a busy machine). `close` waits for every drop and raises the first that failed: at the
    end of the session, none is left behind."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._names: queue.Queue[str | None] = queue.Queue()
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
        self._thread.start()

    def drop(self, name: str) -> None:
        self._names.put(name)

    def close(self) -> None:
        self._names.put(None)
        self._thread.join()
        if self._errors:
            raise self._errors[0]

    def _run(self) -> None:
        while (name := self._names.get()) is not None:
            try:
                drop_postgres_database(self.admin_url, name)
            except Exception as error:
                self._errors.append(error)


class ReadyCopies:
    """Copies of the template made ahead in a thread, `ahead` at most waiting: a test takes one that is ready (a
    CREATE DATABASE ... TEMPLATE is mostly disk I/O: it runs while the previous test does). `close` stops making
    them and hands back those nobody took, to be dropped."""

    def __init__(self, admin_url: str, template: str, ahead: int = 2) -> None:
        self.admin_url, self.template = admin_url, template
        self._ready: queue.Queue[str | BaseException] = queue.Queue(maxsize=ahead)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="copy-test-databases", daemon=True)
        self._thread.start()

    def take(self) -> str:
        name = self._ready.get()
        if isinstance(name, BaseException):
            raise name
        return name

    def close(self) -> list[str]:
        self._stopping.set()
        left: list[str] = []
        while self._thread.is_alive() or not self._ready.empty():
            try:
                name = self._ready.get(timeout=0.05)
            except queue.Empty:
                continue
            if isinstance(name, str):
                left.append(name)
        self._thread.join()
        return left

    def _run(self) -> None:
        while not self._stopping.is_set():
            made: str | BaseException
            try:
                made = create_postgres_database(self.admin_url, template=self.template)
            except Exception as error:
                made = error
            while True:
                try:
                    self._ready.put(made, timeout=0.05)
                    break
                except queue.Full:
                    if self._stopping.is_set():
                        if isinstance(made, str):
                            drop_postgres_database(self.admin_url, made)
                        return


@contextlib.contextmanager
def postgres_template(admin_url: str) -> Iterator[str]:
    """A migrated template database for this process; its name. Dropped at the end."""
    _drop_orphaned_templates(admin_url)
    name = f"{TEMPLATE_PREFIX}{schema_hash()}_{os.getpid()}"
    drop_postgres_database(admin_url, name)  # a pid reused since a crashed session: made afresh
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        create_schema(Settings(database_url=with_database(admin_url, name), pool_size=2, admin_key=None))
        yield name
    finally:
        drop_postgres_database(admin_url, name)


def _drop_orphaned_templates(admin_url: str) -> None:
    """Templates left by a test process that died before its end (on this machine's server only: the pid in the
    name is a local one)."""
    if urlsplit(admin_url).hostname not in LOCAL_HOSTS:
        return
    with psycopg.connect(admin_url, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'ar\\_tpl\\_%'")]
    for name in names:
        match = re.fullmatch(rf"{TEMPLATE_PREFIX}[0-9a-f]+_(\d+)", name)
        if match and not _alive(int(match.group(1))):
            drop_postgres_database(admin_url, name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# SQLite -------------------------------------------------------------------------------------------------------------
def make_sqlite_template(folder: Path) -> Path:
    """The SQLite files of a migrated database in `folder`, checkpointed (no WAL left beside them)."""
    folder.mkdir(parents=True, exist_ok=True)
    create_schema(Settings(database_url=f"sqlite:///{folder / SQLITE_FILES[0]}", pool_size=2, admin_key=None))
    for name in SQLITE_FILES:
        conn = sqlite3.connect(folder / name)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted(SQLITE_FILES), f"unexpected files in the SQLite template: {left}"
    return folder


def copy_sqlite_template(template: Path, into: Path) -> str:
    """Copy the template's files into `into`; the URL of the copy (the path tests/conftest.py gives Settings)."""
    into.mkdir(parents=True, exist_ok=True)
    for name in SQLITE_FILES:
        shutil.copyfile(template / name, into / name)
    return f"sqlite:///{into / SQLITE_FILES[0]}"
