"""Engines for our own tables and the alembic migration entry point."""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, RevisionStep
from alembic.script import ScriptDirectory

from ar.config import Settings
from ar.sqlite_writes import serialize_writes

PING_AFTER_IDLE_S = 5.0
SQLITE_CACHE_KIB = 65536  # per connection, taken as pages are read


def create_engine(settings: Settings) -> sa.Engine:
    """PostgreSQL: `pool_size` connections and half as many more under load, pinged only after an idle spell
    (no `pool_pre_ping`: a round trip on every checkout). SQLite: one writer at a time in this process."""
    if settings.is_postgres:
        engine = sa.create_engine(settings.sqlalchemy_url(), pool_size=settings.pool_size,
                                  max_overflow=max(2, settings.pool_size // 2))
        _ping_after_idle(engine, PING_AFTER_IDLE_S)
        return engine
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(settings.sqlalchemy_url(), connect_args={"timeout": 30, "check_same_thread": False},
                              pool_size=settings.pool_size, max_overflow=10)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # the 2 MB default thrashes on a rebuild's indexes
        cursor.close()

    serialize_writes(engine)  # this process's writers in turn, not racing SQLite's sleeping busy handler
    return engine


def _ping_after_idle(engine: sa.Engine, idle_s: float) -> None:
    """Like `pool_pre_ping`, but only for a connection left idle in the pool for `idle_s` or more: the ping is a
    round trip on every checkout, a large part of a one-customer report's few milliseconds, and a connection
    checked in moments ago is alive. A failed ping discards the connection and the pool takes another one."""

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in_at")
        if last is not None and time.monotonic() - last < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as e:
            raise sa.exc.DisconnectionError(f"connection found dead after {idle_s:g} s idle: {e}") from e


def migrations_dir() -> Path:
    for candidate in (Path.cwd() / "migrations", Path(__file__).resolve().parents[2] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("cannot find the migrations/ folder (run from the project root)")


def migrate(engine: sa.Engine) -> None:
    """Bring our tables to the latest revision (`ar migrate`; also run by `ar serve` at start-up). What alembic's
    `command.upgrade(config, "head")` does, with the migration scripts read once per process: a database that is
    behind is migrated all the same, and one at the head costs a query, not the reading of every script again (a
    process that builds many runtimes: the tests)."""
    location = str(migrations_dir())
    config = Config()
    config.set_main_option("script_location", location)
    scripts = _scripts(location)

    def upgrade(revision: Any, _context: MigrationContext) -> list[RevisionStep]:
        return scripts._upgrade_revs("head", revision)

    with engine.begin() as conn:
        config.attributes["connection"] = conn
        with EnvironmentContext(config, scripts, fn=upgrade, destination_rev="head"):
            scripts.run_env()


@cache
def _scripts(location: str) -> ScriptDirectory:
    """The migration scripts of `location` (alembic compiles each file when it first reads it: ~18 of them)."""
    config = Config()
    config.set_main_option("script_location", location)
    return ScriptDirectory.from_config(config)
