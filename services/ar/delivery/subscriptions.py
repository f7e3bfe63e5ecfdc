"""The subscription sender: POSTs each queued delivery (the event feed's envelope), signed, and records the attempt.

The body is the envelope of the event at the delivery's position (`GET /v1/events` serves the same), signed with
Standard Webhooks: `webhook-id` stable per delivery, `webhook-timestamp` and the signature on the wall clock (the
receiver checks them against its own time; a simulated business clock would fail every one), and one signature
per secret still valid (during a rotation's grace period, the old secret's beside the new one's). The queue
(ar.delivery.subscriptions_queue) decides on the business clock what is due and when to retry; the latency is
measured on the wall clock. The address is checked again before each call (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from ar.adapters.clocks import SystemClock
from ar.application.feed import EventFeed, EventSource
from ar.background import BackgroundLoop
from ar.config import Settings
from ar.delivery.outbound_urls import OutboundUrlRefused, Resolver, check_addresses, host_and_port, resolve
from ar.delivery.subscriptions_queue import Attempt, Claim, SubscriptionQueue
from ar.domain.clock import Clock

log = logging.getLogger(__name__)

EXCERPT_CHARS = 500
TIMEOUT_S = 10.0

EnvelopeAt = Callable[[int], dict[str, Any]]
"""position -> the event feed's envelope of the event there."""


def body_of(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


class SubscriptionSender:
    def __init__(self, engine: sa.Engine, clock: Clock, envelope_at: EnvelopeAt, *, allow_private: bool,
                 claim_ttl: timedelta, batch_size: int = 20, timeout_s: float = TIMEOUT_S,
                 lease_clock: Clock | None = None, resolver: Resolver = resolve, worker_id: str | None = None,
                 rng: random.Random | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        """`claim_ttl` must exceed the timeout by far: past it, a row still "sending" is taken for interrupted and
        sent again. It runs on `lease_clock`, the system clock unless a test says."""
        self.clock, self.envelope_at, self.allow_private = clock, envelope_at, allow_private
        self.lease_clock = lease_clock or SystemClock()
        self.batch_size, self.timeout_s, self.resolver, self.transport = batch_size, timeout_s, resolver, transport
        worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.queue = SubscriptionQueue(engine, worker_id, claim_ttl, rng or random.Random())
        self._loop = BackgroundLoop("subscription-delivery", self.run_once, log=log,
                                    failed="subscription delivery pass failed")

    # -- running -------------------------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Send everything due now; how many attempts were made. Call it from a thread without a running event
        loop (`start()` does)."""
        self.queue.release_expired(self._lease_now())
        handled = 0
        while claims := self.queue.claim(self.clock.now(), self._lease_now(), self.batch_size):
            asyncio.run(self._send_all(claims))
            handled += len(claims)
        return handled

    def start(self, interval_s: float) -> None:
        self._loop.start(interval_s)

    def wake(self, *_: object) -> None:
        self._loop.wake()

    def stop(self, timeout_s: float = 30.0) -> None:
        self._loop.stop(timeout_s)

    def _lease_now(self) -> datetime:
        return self.lease_clock.now().astimezone(UTC)

    # -- one attempt ---------------------------------------------------------------------------------------------
    async def _send_all(self, claims: list[Claim]) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport,
                                     follow_redirects=False) as client:
            await asyncio.gather(*(self._deliver(client, c) for c in claims))

    async def _deliver(self, client: httpx.AsyncClient, claim: Claim) -> None:
        try:
            envelope = await asyncio.to_thread(self.envelope_at, claim.position)
        except Exception:
            log.exception("delivery %s: cannot read the event at %d; put back", claim.delivery_id, claim.position)
            await asyncio.to_thread(self.queue.put_back, claim, self.clock.now())
            return
        attempt = await self._attempt(client, claim, body_of(envelope))
        state = await asyncio.to_thread(self.queue.record, claim, attempt)
        if state is None:
            log.warning("delivery %s: the claim passed to another worker during the call; attempt not recorded",
                        claim.delivery_id)
        elif state != "delivered":
            log.warning("delivery %s to %s, attempt %d: %s (%s)", claim.delivery_id, claim.subscription.url,
                        claim.attempts + 1, attempt.error or attempt.status_code, state)

    async def _attempt(self, client: httpx.AsyncClient, claim: Claim, body: str) -> Attempt:
        url = claim.subscription.url
        started = time.monotonic()

        def failed(error: str) -> Attempt:
            """No answer came (refused before the call, or the call failed)."""
            return Attempt(self.clock.now(), None, round((time.monotonic() - started) * 1000), None, error)

        try:
            host, port = host_and_port(url)
            await asyncio.to_thread(check_addresses, host, port, allow_private=self.allow_private,
                                    resolver=self.resolver)
        except OutboundUrlRefused as e:
            return failed(f"refused: {e.detail}")
        except OSError as e:
            return failed(f"cannot resolve the host: {e}")
        signed_at = datetime.now(UTC)
        now = self.clock.now()
        headers = {"content-type": "application/json", "webhook-id": claim.webhook_id,
                   "webhook-timestamp": str(int(signed_at.timestamp())),
                   "webhook-signature": " ".join(Webhook(s).sign(claim.webhook_id, signed_at, body)
                                                 for s in claim.subscription.signing_secrets(now))}
        try:
            async with asyncio.timeout(self.timeout_s):  # in all: httpx's timeout is per read, a drip would pass
                status, excerpt = await self._post(client, url, body, headers)
        except (httpx.HTTPError, TimeoutError) as e:
            return failed(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
        error = None if 200 <= status < 300 else f"answered {status}"
        return Attempt(self.clock.now(), status, round((time.monotonic() - started) * 1000), excerpt, error)


    @staticmethod
    async def _post(client: httpx.AsyncClient, url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        """The status and the start of the answer: no more of the body is read than the excerpt needs."""
        async with client.stream("POST", url, content=body.encode(), headers=headers) as response:
            head = b""
            async for chunk in response.aiter_bytes():
                head += chunk
                if len(head) >= EXCERPT_CHARS * 4:  # enough bytes for 500 characters of UTF-8
                    break
        return response.status_code, head.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT_CHARS]


def build_sender(settings: Settings, app: EventSource, engine: sa.Engine, clock: Clock) -> SubscriptionSender:
    """The sender as configured: envelopes from the event feed, leases of `delivery_claim_ttl_s`."""
    feed = EventFeed(app)

    def envelope_at(position: int) -> dict[str, Any]:
        found = app.recorder.select_notifications(position, 1, stop=position)
        if not found:
            raise LookupError(f"no event at position {position}")
        return feed.envelope(found[0])

    return SubscriptionSender(engine, clock, envelope_at, allow_private=settings.subscription_allow_private,
                              claim_ttl=timedelta(seconds=settings.delivery_claim_ttl_s))
