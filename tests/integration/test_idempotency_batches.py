"""Idempotency claims and kept responses that share a threadpool hop: the claims (or finishes) made while a batch
is in a worker thread go together in the next, as one statement on PostgreSQL, each answered as alone."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from ar.adapters.idempotency_store import (
    STALE_CLAIM,
    Claim,
    Claimed,
    Finish,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Stored,
)
from ar.api.idempotency import Batches
from ar.runtime import Runtime

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CREATED = Stored(201, [("content-type", "application/json")], b'{"id": "c-1"}')


@pytest.fixture
def store(runtime: Runtime) -> IdempotencyStore:
    return IdempotencyStore(runtime.engine)


@pytest.fixture
def statements(runtime: Runtime) -> Iterator[Counter[str]]:
    seen: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen[sql.split(None, 1)[0].upper()] += 1

    sa.event.listen(runtime.engine, "before_cursor_execute", statement)
    yield seen
    sa.event.remove(runtime.engine, "before_cursor_execute", statement)


def test_claims_made_together_are_each_answered_as_alone(
        runtime: Runtime, store: IdempotencyStore, statements: Counter[str]) -> None:
    assert isinstance(store.claim("key:a", "done", "h", NOW), Claimed)
    store.finish("key:a", "done", "h", NOW, CREATED)
    assert isinstance(store.claim("key:a", "running", "h", NOW), Claimed)
    assert isinstance(store.claim("key:a", "dead", "h", NOW - STALE_CLAIM * 2), Claimed)
    statements.clear()
    outcomes = store.claim_many([
        Claim("key:a", "new", "h", NOW), Claim("key:a", "new", "h", NOW), Claim("key:a", "new", "other", NOW),
        Claim("key:b", "new", "h", NOW), Claim("key:a", "done", "h", NOW), Claim("key:a", "running", "h", NOW),
        Claim("key:a", "dead", "h", NOW), Claim("key:a", "done", "other", NOW), Claim("key:c", "new", "h", NOW)])
    assert [type(o) for o in outcomes] == [Claimed, InFlight, Mismatch, Claimed, Stored, InFlight, Claimed,
                                           Mismatch, Claimed]
    assert outcomes[4] == CREATED
    if runtime.engine.dialect.name == "postgresql":
        # One INSERT for the 6 keys; each other claim reads its key's row (one takes the dead claim over).
        assert statements == Counter({"INSERT": 1, "SELECT": 6, "UPDATE": 1})


def test_responses_kept_together_are_one_statement_and_a_later_finish_of_a_key_wins(
        runtime: Runtime, store: IdempotencyStore, statements: Counter[str]) -> None:
    for key in ("k-1", "k-2"):
        assert isinstance(store.claim("key:a", key, "h", NOW), Claimed)
    statements.clear()
    later = Stored(200, [], b"second")
    store.finish_many([Finish("key:a", "k-1", "h", NOW, CREATED), Finish("key:a", "k-2", "h", NOW, CREATED),
                       Finish("key:a", "k-2", "h", NOW, later), Finish("key:a", "k-3", "h", NOW, CREATED)])
    if runtime.engine.dialect.name == "postgresql":
        assert statements == Counter({"INSERT": 1})
    assert [store.claim("key:a", k, "h", NOW) for k in ("k-1", "k-2", "k-3")] == [CREATED, later, CREATED]


def test_calls_made_while_a_batch_is_in_its_thread_go_together_in_the_next() -> None:
    sent: list[list[int]] = []
    first_in_thread, release = threading.Event(), threading.Event()

    def run(items: list[int]) -> list[int]:
        sent.append(items)
        if len(sent) == 1:
            first_in_thread.set()
            release.wait(10)
        if 13 in items:
            raise ValueError("unlucky")
        return [n * 10 for n in items]

    batches: Batches[int, int] = Batches(run, most=3)

    async def main() -> list[int | str]:
        first = asyncio.ensure_future(batches(0))
        await asyncio.to_thread(first_in_thread.wait, 10)
        later = [asyncio.ensure_future(batches(n)) for n in (1, 2, 3, 13, 5)]
        await asyncio.sleep(0)
        release.set()
        results: list[int | str] = []
        for done in await asyncio.gather(first, *later, return_exceptions=True):
            results.append(str(done) if isinstance(done, BaseException) else done)
        return results

    assert asyncio.run(main()) == [0, 10, 20, 30, "unlucky", "unlucky"]
    assert sent == [[0], [1, 2, 3], [13, 5]]
