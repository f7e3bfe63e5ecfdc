"""Shared fixtures: every test gets its own SQLite files or its own PostgreSQL database, dropped afterwards; both
are copies of a template migrated once per test process (tests/support/databases.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.api import ADMIN_TOKEN
from tests.support.databases import (
    BackgroundDrops,
    ReadyCopies,
    copy_sqlite_template,
    create_postgres_database,
    make_sqlite_template,
    postgres_template,
    with_database,
)

from ar.adapters.clocks import SettableClock
from ar.config import Settings
from ar.runtime import Runtime, build

# Every Settings built in the tests, and every `ar` process they start, installs the tests' admin key.
os.environ["AR_ADMIN_KEY"] = ADMIN_TOKEN

PG_ADMIN_URL = os.environ.get("AR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database, made once in this test process, that each test's database copies."""
    with postgres_template(PG_ADMIN_URL) as name:
        yield name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of a migrated SQLite database, made once in this test process, that each test copies."""
    return make_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def pg_drops() -> Iterator[BackgroundDrops]:
    """The tests' databases are dropped in the background; all of them by the end of the session."""
    drops = BackgroundDrops(PG_ADMIN_URL)
    try:
        yield drops
    finally:
        drops.close()


@pytest.fixture(scope="session")
def pg_copies(pg_template: str, pg_drops: BackgroundDrops) -> Iterator[ReadyCopies]:
    """Copies of the template made ahead; those left at the end are dropped."""
    copies = ReadyCopies(PG_ADMIN_URL, pg_template)
    try:
        yield copies
    finally:
        for name in copies.close():
            pg_drops.drop(name)


@pytest.fixture
def pg_database(pg_copies: ReadyCopies, pg_drops: BackgroundDrops) -> Iterator[str]:
    """A fresh PostgreSQL database already migrated (a copy of the template: as `ar migrate` and the event store
    leave an empty one, nothing recorded); its URL. Dropped (with any connection left) after the test."""
    name = pg_copies.take()
    try:
        yield with_database(PG_ADMIN_URL, name)
    finally:
        pg_drops.drop(name)


@pytest.fixture
def empty_pg_database(pg_drops: BackgroundDrops) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (no tables); its URL. Dropped (with any connection left) after the test."""
    name = create_postgres_database(PG_ADMIN_URL)
    try:
        yield with_database(PG_ADMIN_URL, name)
    finally:
        pg_drops.drop(name)


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> str:
    """tmp_path/ar.sqlite (and its events file), already migrated (a copy of the template); its URL."""
    return copy_sqlite_template(sqlite_template, tmp_path)


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """The tests' settings but for the database and outbox, read from the environment once (reading and validating
    them costs ~20 ms; no test changes the AR_ environment)."""
    return Settings(pool_size=4, run_dunning=False)


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, base_settings: Settings, tmp_path: Path) -> Settings:
    """The same test runs on the embedded default and on PostgreSQL, each in a migrated database of its own."""
    url: str = request.getfixturevalue("sqlite_database" if request.param == "sqlite" else "pg_database")
    return base_settings.model_copy(update={"database_url": url, "outbox_dir": tmp_path / "outbox"})


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def runtime(settings: Settings, clock: SettableClock) -> Iterator[Runtime]:
    rt = build(settings, clock)
    try:
        yield rt
    finally:
        rt.close()
