"""Who is calling: the ASGI middleware that verifies the bearer token once per request, before the idempotency
middleware (which scopes its keys to the caller), and spends the key's request budget.

It decides nothing about access: it puts the key (or why the token was refused, or None without a token) in
`scope["state"]`, and the route dependency of `auth.py` answers 401 or 403 from it. Only the budget answers here
(429), before any work or any stored response.

A key read from the store is kept for `KEY_TTL_S` (`VerifiedKeys`), so that a request whose token was verified a
moment ago costs no threadpool hop and no statement: the hop and its wake-ups were a large part of a request's CPU
on the one event loop. What that allows, and what it does not:
- it is kept under the SHA-256 of the whole token (never the token), only once the token opened an active key, and
  judged again against the clock at every use: an expiry or a rotation's grace end is never late;
- a revocation or rotation through this process's API forgets the key at once; one made elsewhere (`ar keys
  revoke`, another server process) is seen within `KEY_TTL_S` of the read, whatever the traffic (a use does not
  extend it);
- a refusal is never kept: a key created a moment ago works at once, and a wrong token is read again each time."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ar.adapters.api_keys import KEPT_FOR_S, TOKEN, ApiKey, ApiKeyStore, Opened, Refused
from ar.api.problems import STORAGE_UNAVAILABLE, UNAVAILABLE_DETAIL, problem
from ar.domain.clock import Clock

STATE = "api_key"  # scope["state"][STATE]: ApiKey | Refused | None (no Authorization header)
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key and process
KEY_TTL_S = KEPT_FOR_S  # how long a key read from the store is used without reading it again
KEYS_KEPT = 1024  # the least recently used beyond these are dropped


def identity(scope: Scope) -> ApiKey | Refused | None:
    found = scope.get("state", {}).get(STATE)
    return found if isinstance(found, ApiKey | Refused) else None


class Budget:
    """A token bucket per key, in process memory: `per_s` on average, `burst` at once; either 0 turns it off.
    Used from the event loop only (no lock needed)."""

    def __init__(self, per_s: float, burst: int) -> None:
        self.per_s, self.burst = per_s, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key_id: str, now: float | None = None) -> int | None:
        """None if the request may go on; else the seconds to wait (Retry-After, at least 1)."""
        if self.per_s <= 0 or self.burst <= 0:
            return None
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.get(key_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_s)
        if tokens >= 1:
            self._buckets[key_id] = (tokens - 1, now)
            return None
        self._buckets[key_id] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.per_s))


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class VerifiedKeys:
    """Tokens that opened a key, by their SHA-256, each with the moment (monotonic) its row was read. Used from the
    event loop, and `forget` from a route's worker thread: one lock around each step."""

    def __init__(self, ttl_s: float = KEY_TTL_S, size: int = KEYS_KEPT,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.size, self.monotonic = ttl_s, size, monotonic
        self._kept: OrderedDict[bytes, tuple[Opened, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0  # moved by every `forget`: a read begun before it is not kept

    def get(self, digest: bytes) -> Opened | None:
        with self._lock:
            found = self._kept.get(digest)
            if found is None:
                return None
            if self.monotonic() - found[1] >= self.ttl_s:
                del self._kept[digest]
                return None
            self._kept.move_to_end(digest)
            return found[0]

    def keep(self, digest: bytes, opened: Opened, read_at: float, generation: int) -> None:
        """Keep what a read begun at `read_at` found, unless a key was forgotten since it began."""
        with self._lock:
            if generation != self.generation:
                return
            self._kept[digest] = (opened, read_at)
            self._kept.move_to_end(digest)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def forget(self, key_id: str) -> None:
        """A key revoked or rotated in this process: none of its tokens is used from memory again."""
        with self._lock:
            self.generation += 1
            for digest in [d for d, (opened, _) in self._kept.items() if opened.key.key_id == key_id]:
                del self._kept[digest]


@dataclass(frozen=True)
class _Read:
    """What the key check's worker thread found: the verdict and, for a key, what to keep of it."""

    found: ApiKey | Refused
    opened: Opened | None
    read_at: float
    generation: int


class KeyCheck:
    def __init__(self, app: ASGIApp, store: ApiKeyStore, clock: Clock, budget: Budget,
                 keys: VerifiedKeys | None = None) -> None:
        self.app, self.store, self.clock, self.budget = app, store, clock, budget
        self.keys = keys if keys is not None else VerifiedKeys()
        self._touched: dict[str, datetime] = {}

    def _touch_due(self, key_id: str, now: datetime) -> bool:
        last = self._touched.get(key_id)
        if last is None or abs(now - last) >= TOUCH_EVERY:
            self._touched[key_id] = now
            return True
        return False

    def _read(self, token: str) -> _Read:
        """In a worker thread: the store's row for this token, its verdict now, and last use if due."""
        generation, read_at = self.keys.generation, self.keys.monotonic()
        now = self.clock.now()
        opened = self.store.open(token, now)
        found = opened if isinstance(opened, Refused) else opened.at(now)
        if isinstance(found, ApiKey) and self._touch_due(found.key_id, now):
            self.store.touch(found.key_id, now)
        return _Read(found, opened if isinstance(found, ApiKey) and isinstance(opened, Opened) else None,
                     read_at, generation)

    async def _verify(self, token: str) -> ApiKey | Refused:
        digest = token_digest(token)
        opened = self.keys.get(digest)
        if opened is not None:
            now = self.clock.now()
            found = opened.at(now)
            if isinstance(found, ApiKey) and self._touch_due(found.key_id, now):
                await to_thread.run_sync(self.store.touch, found.key_id, now)
            return found
        if TOKEN.fullmatch(token) is None:
            return Refused("malformed")  # nothing to read
        read = await to_thread.run_sync(self._read, token)
        if read.opened is not None:
            self.keys.keep(digest, read.opened, read.read_at, read.generation)
        return read.found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization")
        found: ApiKey | Refused | None = None
        if header is not None:
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                found = Refused("malformed")
            else:
                try:
                    found = await self._verify(token)
                except STORAGE_UNAVAILABLE:
                    response = problem(503, "Service unavailable", UNAVAILABLE_DETAIL, rule="storage-unavailable",
                                       headers={"Retry-After": "1"})
                    await response(scope, receive, send)
                    return
        scope.setdefault("state", {})[STATE] = found
        if isinstance(found, ApiKey) and (wait := self.budget.take(found.key_id)) is not None:
            response = problem(429, "Too many requests", f"the request budget of API key {found.key_id} is spent; "
                               f"retry in {wait} s", rule="rate-limited", headers={"Retry-After": str(wait)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
