"""ASGI middleware for `Idempotency-Key` on POST: same key + same body -> the stored response; other body -> 422;
still running -> 409. Keys are scoped to the caller: the API key the key check (`authentication.KeyCheck`, outside
this middleware) verified. A request without a valid key is passed on untouched (its route answers 401, or checks
a signature): it never claims a key nor replays a stored response.

Cost: one statement before the command (the claim) and one after (the response kept), each in autocommit, each in
a threadpool hop (`IdempotencyStore`), and these hops are shared: the claims (and the responses to keep) that
arrive while one hop is in a worker thread wait for it and go together in the next (`Batches`), one statement for
all on PostgreSQL. Idle, a claim goes at once; under load, the hops and their loop wake-ups, the commits and the
round trips are divided by the requests that share them.

Two things it deliberately does not do: hold one pooled connection from the claim to the finish (the requests
awaiting on the event loop are not bounded by the thread pool, so held connections could starve the commands' own
checkouts), and claim inside the route's worker thread (FastAPI offers no hook there: a sync dependency takes a
hop of its own, and wrapping the endpoints means reaching into its routing internals)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ar.adapters.api_keys import ApiKey
from ar.adapters.idempotency_store import (
    Claim,
    Claimed,
    Finish,
    IdempotencyStore,
    InFlight,
    Mismatch,
    Outcome,
    Stored,
)
from ar.api.authentication import identity
from ar.api.problems import PROBLEM, STORAGE_UNAVAILABLE, TYPE_BASE, UNAVAILABLE_DETAIL
from ar.api.schemas.common import IDEMPOTENCY_KEY_PATTERN

HEADER = "idempotency-key"
VALID_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
# Transient outcomes are not replayed: the client should be able to retry them with the same key.
NOT_REPLAYED = {401, 403, 409, 412, 429}
T = TypeVar("T")
R = TypeVar("R")


def caller_of(scope: Scope) -> str:
    """Who is calling: `key:<id>` of the verified API key (its id survives a rotation), or 'anonymous' (a signature
    door, or a request its route refuses)."""
    found = identity(scope)
    return f"key:{found.key_id}" if isinstance(found, ApiKey) else "anonymous"


def _holds_a_secret(start: Message) -> bool:
    """A response marked `Cache-Control: no-store` (a token or secret shown once) is never stored: a retry runs
    the command again (a create finds its derived id taken and says so; a rotation rotates again)."""
    return any(k.lower() == b"cache-control" and b"no-store" in v.lower() for k, v in start.get("headers", []))


async def _send_problem(send: Send, status: int, rule: str, title: str, detail: str) -> None:
    body = json.dumps({"type": TYPE_BASE + rule, "title": title, "status": status, "detail": detail,
                       "field": "Idempotency-Key"}).encode()
    headers = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    if status in (409, 503):
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Queue(Generic[T, R]):
    """One event loop's calls waiting for a batch, and the task that sends them."""

    def __init__(self) -> None:
        self.waiting: list[tuple[T, asyncio.Future[R]]] = []
        self.sender: asyncio.Task[None] | None = None


class Batches(Generic[T, R]):
    """Calls that go to a worker thread together: those made while a batch is there wait for it and form the next
    one (at most `most`), so that one hop serves many. One queue per event loop (a test may run several in turn)."""

    def __init__(self, run: Callable[[list[T]], Sequence[R]], most: int = 64) -> None:
        self.run, self.most = run, most
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue[T, R]] = (
            weakref.WeakKeyDictionary())

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future: asyncio.Future[R] = loop.create_future()
        queue.waiting.append((item, future))
        if queue.sender is None or queue.sender.done():
            queue.sender = loop.create_task(self._send(queue))
        return await future

    async def _send(self, queue: _Queue[T, R]) -> None:
        while queue.waiting:
            batch, queue.waiting = queue.waiting[:self.most], queue.waiting[self.most:]
            try:
                results = await to_thread.run_sync(self.run, [item for item, _ in batch])
            except Exception as e:  # each caller gets it, as it would from its own call
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
                continue
            except BaseException:
                for _, future in batch + queue.waiting:
                    future.cancel()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app, self.store = app, store
        self.claims: Batches[Claim, Outcome] = Batches(store.claim_many)
        self.finishes: Batches[Finish, None] = Batches(self._finish_many)

    def _finish_many(self, finishes: list[Finish]) -> list[None]:
        self.store.finish_many(finishes)
        return [None] * len(finishes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None or not isinstance(identity(scope), ApiKey):
            await self.app(scope, receive, send)
            return
        if not VALID_KEY.fullmatch(key):
            await _send_problem(send, 422, "invalid-idempotency-key", "Invalid Idempotency-Key",
                                "an Idempotency-Key is 1 to 255 visible ASCII characters (no space), e.g. a UUID")
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        caller = caller_of(scope)
        digest = hashlib.sha256(f"{scope['method']} {scope['path']}?{scope['query_string'].decode()}\n".encode()
                                + body).hexdigest()
        claimed_at = datetime.now(UTC)
        try:
            outcome = await self.claims(Claim(caller, key, digest, claimed_at))
        except STORAGE_UNAVAILABLE:
            await _send_problem(send, 503, "storage-unavailable", "Service unavailable", UNAVAILABLE_DETAIL)
            return
        if isinstance(outcome, Stored):
            raw = [(k.encode(), v.encode()) for k, v in outcome.headers] + [(b"idempotent-replayed", b"true")]
            await send({"type": "http.response.start", "status": outcome.status_code, "headers": raw})
            await send({"type": "http.response.body", "body": outcome.body})
            return
        if isinstance(outcome, InFlight):
            await _send_problem(send, 409, "idempotency-key-in-flight", "Request in flight",
                                "a request with this Idempotency-Key is still being processed; retry shortly")
            return
        if isinstance(outcome, Mismatch):
            await _send_problem(send, 422, "idempotency-key-reused", "Idempotency-Key reused",
                                "this Idempotency-Key was used with another request; use a new key")
            return
        assert isinstance(outcome, Claimed)
        await self._run(scope, body, send, caller, key, digest, claimed_at)

    async def _run(self, scope: Scope, body: bytes, send: Send, caller: str, key: str, digest: str,
                   claimed_at: datetime) -> None:
        """Run the request, store its response, and only then send it: a client never holds a response that a
        retry could not replay (the process may die between the two)."""
        delivered = False
        held: list[Message] = []

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def hold(message: Message) -> None:
            held.append(message)

        try:
            await self.app(scope, replay_body, hold)
        except BaseException:
            await to_thread.run_sync(self.store.release, caller, key)
            raise
        start = next(m for m in held if m["type"] == "http.response.start")
        status = int(start["status"])
        try:
            if status >= 500 or status in NOT_REPLAYED or _holds_a_secret(start):
                await to_thread.run_sync(self.store.release, caller, key)
            else:
                headers = [(k.decode(), v.decode()) for k, v in start.get("headers", [])]
                content = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
                await self.finishes(Finish(caller, key, digest, claimed_at, Stored(status, headers, content)))
        except STORAGE_UNAVAILABLE:
            # The command may have committed, but its response could not be kept: the client must not hold an
            # answer a retry could not replay. The claim goes stale and the retry runs the command again: the
            # commands find their work done (derived ids, or state that remembers: a credit note, a write-off) and
            # answer as the first time, except one sent with If-Match, which answers 412 (the version moved since):
            # never a second effect.
            await _send_problem(send, 503, "storage-unavailable", "Service unavailable", UNAVAILABLE_DETAIL)
            return
        for message in held:
            await send(message)
