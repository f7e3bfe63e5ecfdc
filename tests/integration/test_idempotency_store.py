"""The idempotency store: one autocommit statement a call, a claim committed asynchronously on PostgreSQL without
leaving that setting on the pooled connection, and a finish that keeps the response even if its claim was lost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from ar.adapters.idempotency_store import (
    STALE_CLAIM,
    Claimed,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Stored,
    idempotency_keys,
)
from ar.runtime import Runtime

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CREATED = Stored(201, [("content-type", "application/json"), ("etag", '"1"')], b'{"id": "c-1"}')


@pytest.fixture
def store(runtime: Runtime) -> IdempotencyStore:
    return IdempotencyStore(runtime.engine)


@pytest.fixture
def round_trips(runtime: Runtime) -> Iterator[Counter[str]]:
    """What reaches the database: each statement by its verb, and each BEGIN/COMMIT of a real transaction."""
    seen: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen[sql.split(None, 1)[0].upper()] += 1

    def begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            seen["BEGIN"] += 1

    def commit(_conn: sa.Connection) -> None:
        seen["COMMIT"] += 1

    listeners = (("before_cursor_execute", statement), ("begin", begin), ("commit", commit))
    for name, listener in listeners:
        sa.event.listen(runtime.engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            sa.event.remove(runtime.engine, name, listener)


def test_claim_finish_and_release_are_one_statement_each_outside_any_transaction(
    store: IdempotencyStore, round_trips: Counter[str],
) -> None:
    assert isinstance(store.claim("key:a", "k-1", "h1", NOW), Claimed)
    assert round_trips == Counter({"INSERT": 1})
    store.finish("key:a", "k-1", "h1", NOW, CREATED)
    assert round_trips == Counter({"INSERT": 2})
    assert isinstance(store.claim("key:a", "k-2", "h2", NOW), Claimed)
    round_trips.clear()
    store.release("key:a", "k-2")
    assert round_trips == Counter({"DELETE": 1})


def test_a_taken_key_answers_from_its_row(store: IdempotencyStore) -> None:
    assert isinstance(store.claim("key:a", "k-1", "h1", NOW), Claimed)
    assert isinstance(store.claim("key:a", "k-1", "h1", NOW), InFlight)
    assert isinstance(store.claim("key:a", "k-1", "other body", NOW), Mismatch)
    assert isinstance(store.claim("key:b", "k-1", "h1", NOW), Claimed)  # another caller's key
    store.finish("key:a", "k-1", "h1", NOW, CREATED)
    assert store.claim("key:a", "k-1", "h1", NOW) == CREATED
    assert isinstance(store.claim("key:a", "k-1", "other body", NOW), Mismatch)


def test_a_released_key_is_claimed_again_and_a_stale_claim_taken_over_once(store: IdempotencyStore) -> None:
    assert isinstance(store.claim("key:a", "k-1", "h1", NOW), Claimed)
    store.release("key:a", "k-1")
    assert isinstance(store.claim("key:a", "k-1", "h1", NOW), Claimed)

    later = NOW + STALE_CLAIM + STALE_CLAIM / 2
    assert isinstance(store.claim("key:a", "k-1", "h1", later), Claimed)  # its request died: taken over
    assert isinstance(store.claim("key:a", "k-1", "h1", later), InFlight)


def test_a_finish_keeps_the_response_even_when_its_claim_was_lost(runtime: Runtime, store: IdempotencyStore) -> None:
    """A claim committed asynchronously may vanish in a PostgreSQL crash; the response is kept all the same."""
    assert isinstance(store.claim("key:a", "k-1", "h1", NOW), Claimed)
    with runtime.engine.begin() as conn:
        conn.execute(idempotency_keys.delete())

    store.finish("key:a", "k-1", "h1", NOW, CREATED)

    assert store.claim("key:a", "k-1", "h1", NOW) == CREATED
    assert isinstance(store.claim("key:a", "k-1", "other body", NOW), Mismatch)


def test_the_asynchronous_claim_leaves_the_pooled_connection_committing_synchronously(
    runtime: Runtime, store: IdempotencyStore,
) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("synchronous_commit is a PostgreSQL setting")
    engine = sa.create_engine(runtime.engine.url, pool_size=1, max_overflow=0)
    try:
        one_connection = IdempotencyStore(engine)
        for n in range(3):
            assert isinstance(one_connection.claim("key:a", f"k-{n}", "h", NOW), Claimed)
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(idempotency_keys)).scalar() == 3
    finally:
        engine.dispose()
