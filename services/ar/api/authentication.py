"""Who is calling: the ASGI middleware that verifies the bearer token once per request, before the idempotency
middleware (which scopes its keys to the caller), and spends the key's request budget.

It decides nothing about access: it puts the key (or why the token was refused, or None without a token) in
`scope["state"]`, and the route dependency of `auth.py` answers 401 or 403 from it. Only the budget answers here
(429), before any work or any stored response."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ar.adapters.api_keys import ApiKey, ApiKeyStore, Refused
from ar.api.problems import STORAGE_UNAVAILABLE, UNAVAILABLE_DETAIL, problem
from ar.domain.clock import Clock

STATE = "api_key"  # scope["state"][STATE]: ApiKey | Refused | None (no Authorization header)
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per key and process


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


class KeyCheck:
    def __init__(self, app: ASGIApp, store: ApiKeyStore, clock: Clock, budget: Budget) -> None:
        self.app, self.store, self.clock, self.budget = app, store, clock, budget
        self._touched: dict[str, datetime] = {}

    def _verify(self, token: str) -> ApiKey | Refused:
        now = self.clock.now()
        found = self.store.verify(token, now)
        if isinstance(found, ApiKey):
            last = self._touched.get(found.key_id)
            if last is None or abs(now - last) >= TOUCH_EVERY:
                self._touched[found.key_id] = now
                self.store.touch(found.key_id, now)
        return found

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
                    found = await to_thread.run_sync(self._verify, token)
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
