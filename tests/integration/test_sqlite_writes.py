"""SQLite writers of one process take turns on one lock, in arrival order, instead of racing for the file lock with
a sleeping busy handler: many concurrent write transactions all commit, none waits long; reads never queue; a
commit or a rollback hands the lock on; a transaction that writes on a second connection meanwhile is not stuck
forever."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ar.config import Settings
from ar.database import create_engine
from ar.sqlite_writes import FairLock, serialize_writes

ROWS = sa.table("t", sa.column("id", sa.Integer), sa.column("v", sa.Integer))


def scratch_engine(path: Path, *, busy_timeout_s: float = 30.0, lock_timeout_s: float = 30.0) -> tuple[
        sa.Engine, FairLock]:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": busy_timeout_s,
                                                                  "check_same_thread": False},
                              pool_size=20, max_overflow=0)

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]

    lock = serialize_writes(engine, timeout_s=lock_timeout_s)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    return engine, lock


def test_the_lock_goes_to_its_waiters_in_the_order_they_asked() -> None:
    lock, got = FairLock(), []
    assert lock.acquire("first", 1)
    waiters = []
    for name in ("a", "b", "c"):
        def wait(name: str = name) -> None:
            assert lock.acquire(name, 10)
            got.append(name)
            lock.release(name)
        thread = threading.Thread(target=wait)
        thread.start()
        waiters.append(thread)
        time.sleep(0.05)  # queued in this order
    lock.release("someone else")  # not the owner: nothing happens
    assert lock.owner == "first"
    lock.release("first")
    for thread in waiters:
        thread.join(10)
    assert got == ["a", "b", "c"] and lock.owner is None


def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    lock = FairLock()
    assert lock.acquire("first", 1)
    assert not lock.acquire("late", 0.05)
    lock.release("first")
    assert lock.owner is None  # not handed to the one that gave up
    assert lock.acquire("next", 0.05)


def test_concurrent_write_transactions_all_commit_and_none_waits_long(tmp_path: Path) -> None:
    engine = create_engine(Settings(database_url=f"sqlite:///{tmp_path}/ar.sqlite", pool_size=16))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    waits: list[float] = []
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                started = time.monotonic()
                with engine.begin() as conn:
                    conn.execute(sa.insert(ROWS).values(id=n * 1000 + i, v=i))
                    time.sleep(0.001)  # a moment of Python work inside the transaction, as a command has
                    conn.execute(sa.update(ROWS).where(ROWS.c.id == n * 1000 + i).values(v=i + 1))
                waits.append(time.monotonic() - started)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM t WHERE v = (id % 1000) + 1")) == 16 * 25
    # In turn, the slowest write waits a few times the median (measured: 0.25 s against 0.06-0.09 s); racing
    # the busy handler's sleeps (up to 100 ms each, retried), it waited 1.5-2.4 s at p99, 3-4.5 s at most, for a
    # median of 3-4 ms (the lucky ones).
    assert max(waits) < 0.5 + 10 * statistics.median(waits), (max(waits), statistics.median(waits))
    engine.dispose()


def test_a_read_does_not_wait_for_a_writer_and_a_rollback_hands_the_lock_on(tmp_path: Path) -> None:
    engine, lock = scratch_engine(tmp_path / "a.sqlite")
    with engine.connect() as writing:
        writing.execute(sa.insert(ROWS).values(id=1, v=1))
        assert lock.owner is not None
        started = time.monotonic()
        with engine.connect() as reading:
            assert reading.scalar(sa.text("SELECT count(*) FROM t")) == 0  # not committed yet
        assert time.monotonic() - started < 0.5
        writing.rollback()
    assert lock.owner is None
    with engine.begin() as conn:
        conn.execute(sa.insert(ROWS).values(id=2, v=2))
    assert lock.owner is None
    engine.dispose()


def test_a_connection_returned_to_the_pool_mid_transaction_releases_the_lock(tmp_path: Path) -> None:
    engine, lock = scratch_engine(tmp_path / "b.sqlite")
    conn = engine.connect()
    conn.execute(sa.insert(ROWS).values(id=1, v=1))
    assert lock.owner is not None
    conn.close()  # rolled back by the pool
    assert lock.owner is None
    engine.dispose()


def test_a_second_write_connection_in_the_same_transaction_fails_instead_of_waiting_forever(tmp_path: Path) -> None:
    engine, lock = scratch_engine(tmp_path / "c.sqlite", busy_timeout_s=0.1, lock_timeout_s=0.2)
    started = time.monotonic()
    with engine.connect() as outer:
        outer.execute(sa.insert(ROWS).values(id=1, v=1))
        with pytest.raises(sa.exc.OperationalError, match="locked"), engine.begin() as inner:
            inner.execute(sa.insert(ROWS).values(id=2, v=2))
        outer.commit()
    assert time.monotonic() - started < 5
    assert lock.owner is None
    engine.dispose()


def test_an_autocommit_connection_releases_the_lock_when_it_is_closed(tmp_path: Path) -> None:
    """Each statement commits at once (the idempotency store's writes): the lock goes back at close at the latest."""
    engine, lock = scratch_engine(tmp_path / "d.sqlite")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.insert(ROWS).values(id=1, v=1))
        conn.execute(sa.insert(ROWS).values(id=2, v=2))
    assert lock.owner is None
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM t")) == 2
    engine.dispose()
