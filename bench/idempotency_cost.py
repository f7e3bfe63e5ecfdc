"""What an Idempotency-Key costs a POST, in process: statements and commits on our engine, threadpool hops, and
the time (and this process's CPU time, steadier on a shared machine) of N POSTs through the ASGI app (httpx
ASGITransport, no server, no projections), with and without the header, on SQLite and PostgreSQL.

    python -m bench.idempotency_cost [--posts 2000] [--clients 4] [--backend sqlite|postgres|both]

PostgreSQL: AR_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a database is created and
dropped. The event store's own statements (eventsourcing's connections) are not counted: only our engine's, where
the idempotency records live."""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
import psycopg
import sqlalchemy as sa

from ar.api.app import create_app
from ar.config import Settings
from ar.runtime import Runtime, build

PG_ADMIN_URL = os.environ.get("AR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TOKEN = "ark_benchadmin01_" + "B" * 40


class Counts:
    def __init__(self) -> None:
        self.by_kind: Counter[str] = Counter()

    def watch(self, engine: sa.Engine) -> None:
        @sa.event.listens_for(engine, "before_cursor_execute")
        def _statement(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
            self.by_kind[statement.split(None, 1)[0].upper() if statement.strip() else "(empty)"] += 1

        @sa.event.listens_for(engine, "commit")
        def _commit(_c: Any) -> None:
            self.by_kind["COMMIT"] += 1

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":  # else no BEGIN is sent
                self.by_kind["BEGIN"] += 1

        @sa.event.listens_for(engine.pool, "checkout")
        def _checkout(*_: Any) -> None:
            self.by_kind["checkout"] += 1


@contextmanager
def counted_hops(counts: Counts) -> Iterator[None]:
    original = anyio.to_thread.run_sync

    async def run_sync(*args: Any, **kwargs: Any) -> Any:
        counts.by_kind["to_thread"] += 1
        return await original(*args, **kwargs)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]
    try:
        yield
    finally:
        anyio.to_thread.run_sync = original


@contextmanager
def backend(name: str) -> Iterator[Settings]:
    os.environ["AR_ADMIN_KEY"] = TOKEN
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield Settings(database_url=f"sqlite:///{tmp}/ar.sqlite", run_projections=False, run_dunning=False,
                           outbox_dir=f"{tmp}/outbox")
        return
    db = f"ar_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            yield Settings(database_url=urlsplit(PG_ADMIN_URL)._replace(path=f"/{db}").geturl(),
                           run_projections=False, run_dunning=False, outbox_dir=f"{tmp}/outbox")
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


async def run(runtime: Runtime, posts: int, clients: int, with_key: bool) -> dict[str, Any]:
    counts = Counts()
    counts.watch(runtime.engine)
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://ar", headers=headers) as http:
        async def post(n: int) -> httpx.Response:
            extra = {"Idempotency-Key": f"k-{uuid.uuid4()}"} if with_key else {}
            return await http.post("/v1/customers", json={"name": f"Client {n}", "kind": "professional"},
                                   headers=extra)

        for n in range(20):  # warm up: connections, caches
            assert (await post(n)).status_code == 201
        counts.by_kind.clear()
        with counted_hops(counts):
            assert (await post(-1)).status_code == 201
        one = dict(counts.by_kind)

        sent = 0

        async def client() -> None:
            nonlocal sent
            while sent < posts:
                sent += 1
                r = await post(sent)
                assert r.status_code == 201, r.text

        started, cpu = time.perf_counter(), time.process_time()
        async with anyio.create_task_group() as tg:
            for _ in range(clients):
                tg.start_soon(client)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"one_post": one, "seconds": elapsed, "per_s": posts / elapsed, "cpu_ms": cpu * 1000 / posts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    for name in (("sqlite", "postgres") if args.backend == "both" else (args.backend,)):
        for with_key in (True, False):
            with backend(name) as settings:
                runtime = build(settings)
                try:
                    result = asyncio.run(run(runtime, args.posts, args.clients, with_key))
                finally:
                    runtime.close()
            one = " ".join(f"{k}={v}" for k, v in sorted(result["one_post"].items()))
            print(f"{name:8} key={'yes' if with_key else 'no ':3} {args.posts} POSTs x{args.clients}: "
                  f"{result['seconds']:.2f} s, {result['per_s']:.0f}/s, {result['cpu_ms']:.2f} ms CPU each "
                  f"| one POST: {one}", flush=True)


if __name__ == "__main__":
    main()
