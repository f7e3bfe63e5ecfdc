"""Shared fixtures: every test gets its own SQLite files or its own PostgreSQL database, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import psycopg
import pytest
from tests.support.api import ADMIN_TOKEN

from ar.adapters.clocks import SettableClock
from ar.config import Settings
from ar.runtime import Runtime, build

# Every Settings built in the tests, and every `ar` process they start, installs the tests' admin key.
os.environ["AR_ADMIN_KEY"] = ADMIN_TOKEN

PG_ADMIN_URL = os.environ.get("AR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _with_db(url: str, dbname: str) -> str:
    return urlsplit(url)._replace(path=f"/{dbname}").geturl()


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database; its URL. Dropped (with any connection left) at the end."""
    name = f"ar_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(PG_ADMIN_URL, name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: object) -> Settings:
    """The same test runs on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        return Settings(database_url=f"sqlite:///{tmp_path}/ar.sqlite", pool_size=4, run_dunning=False,
                        outbox_dir=f"{tmp_path}/outbox")
    url: str = request.getfixturevalue("pg_database")
    return Settings(database_url=url, pool_size=4, run_dunning=False, outbox_dir=f"{tmp_path}/outbox")


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
