"""The queue of subscription deliveries: claims, the record of each attempt, the give-up rule.

- A worker claims due rows in one statement (a materialized CTE with FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
  runs it under its single writer), so two workers never hold the same row. Only the oldest undelivered delivery
  of each (subscription, aggregate) is claimable: the next one waits until it is delivered or given up, so each
  aggregate's events arrive in order.
- A claim is a lease on the wall clock. A worker that dies mid-call leaves its row in "sending"; once the lease
  has passed the row is pending again, with nothing written about the interrupted call: it is sent again (at least
  once; `webhook-id` is the same, so a receiver can drop the duplicate).
- An attempt is written once, after the call, in the transaction that moves the delivery to its next state, and
  only while the worker still holds the claim; (delivery, number) is the attempts table's key.
- Failures are retried after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 3 h, each with full jitter (a
  random wait up to that step), until 3 days after the first attempt: the delivery is then failed, and a
  subscription without a single success for 3 days is disabled (an ops task says so).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa

from ar.adapters.subscription_store import Subscription, attempts, deliveries, subscriptions
from ar.projections.sql import aware

BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
           timedelta(minutes=30), timedelta(hours=1))
THEN_EVERY = timedelta(hours=3)
GIVE_UP_AFTER = timedelta(days=3)
UNDELIVERED = ("pending", "sending")


def backoff(failed_attempts: int, rng: random.Random) -> timedelta:
    """Full jitter: a random wait between 0 and the schedule's step for this many failures."""
    step = BACKOFF[failed_attempts - 1] if failed_attempts <= len(BACKOFF) else THEN_EVERY
    return timedelta(seconds=rng.uniform(0.0, step.total_seconds()))


@dataclass(frozen=True)
class Claim:
    delivery_id: UUID
    position: int
    attempts: int  # written so far
    first_attempt_at: datetime | None
    subscription: Subscription

    @property
    def webhook_id(self) -> str:
        """The same on every attempt of this delivery (and on a redelivery by hand)."""
        return f"evt_{self.position}_{self.subscription.id.hex}"


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class SubscriptionQueue:
    def __init__(self, engine: sa.Engine, worker_id: str, claim_ttl: timedelta, rng: random.Random) -> None:
        self.engine, self.worker_id, self.claim_ttl, self.rng = engine, worker_id[:64], claim_ttl, rng

    def release_expired(self, lease_now: datetime) -> int:
        """Rows whose worker died mid-call: pending again, due at once, no attempt written for the lost call."""
        with self.engine.begin() as conn:
            return conn.execute(deliveries.update()
                                .where(deliveries.c.state == "sending", deliveries.c.claimed_until < lease_now)
                                .values(state="pending", claimed_until=None, claimed_by=None)).rowcount

    def claim(self, now: datetime, lease_now: datetime, limit: int) -> list[Claim]:
        d, older = deliveries, deliveries.alias("older")
        blocked = sa.exists().where(older.c.subscription_id == d.c.subscription_id,
                                    older.c.aggregate_id == d.c.aggregate_id, older.c.position < d.c.position,
                                    older.c.state.in_(UNDELIVERED))
        enabled = sa.exists().where(subscriptions.c.subscription_id == d.c.subscription_id,
                                    subscriptions.c.enabled.is_(True))
        due = (sa.select(d.c.delivery_id)
               .where(d.c.state == "pending", d.c.next_attempt_at <= now, ~blocked, enabled)
               .order_by(d.c.position).limit(limit)
               .with_for_update(skip_locked=True, of=d)
               .cte("due").prefix_with("MATERIALIZED"))
        claim = (d.update().where(d.c.delivery_id.in_(sa.select(due.c.delivery_id)), d.c.state == "pending")
                 .values(state="sending", claimed_until=lease_now + self.claim_ttl, claimed_by=self.worker_id)
                 .returning(d.c.delivery_id))
        with self.engine.begin() as conn:
            ids = [r.delivery_id for r in conn.execute(claim)]
            if not ids:
                return []
            rows = conn.execute(sa.select(d.c.delivery_id, d.c.position, d.c.attempts, d.c.first_attempt_at,
                                          subscriptions)
                                .join(subscriptions, subscriptions.c.subscription_id == d.c.subscription_id)
                                .where(d.c.delivery_id.in_(ids)).order_by(d.c.position)).all()
        return [Claim(r.delivery_id, int(r.position), r.attempts, aware(r.first_attempt_at), Subscription.of(r))
                for r in rows]

    def put_back(self, claim: Claim, now: datetime) -> None:
        """Nothing was sent (the envelope could not be read): pending again in a moment, no attempt written."""
        d = deliveries.c
        with self.engine.begin() as conn:
            conn.execute(deliveries.update().where(d.delivery_id == claim.delivery_id, d.state == "sending",
                                                   d.claimed_by == self.worker_id)
                         .values(state="pending", claimed_until=None, claimed_by=None,
                                 next_attempt_at=now + BACKOFF[0]))

    def record(self, claim: Claim, attempt: Attempt) -> str | None:
        """Write the attempt and the delivery's next state in one transaction; the new state, or None when this
        worker no longer holds the claim (its lease passed and another worker took the row over: nothing
        written, the other worker's attempt will be)."""
        number, now = claim.attempts + 1, attempt.at
        first = claim.first_attempt_at or now
        values: dict[str, object] = {"attempts": number, "first_attempt_at": first, "claimed_until": None,
                                     "claimed_by": None}
        if attempt.delivered:
            values["state"] = "delivered"
        elif now - first >= GIVE_UP_AFTER:
            values["state"] = "failed"
        else:
            values.update(state="pending", next_attempt_at=now + backoff(number, self.rng))
        d = deliveries.c
        with self.engine.begin() as conn:
            moved = conn.execute(deliveries.update().where(d.delivery_id == claim.delivery_id, d.state == "sending",
                                                           d.claimed_by == self.worker_id).values(**values))
            if moved.rowcount != 1:
                return None
            conn.execute(attempts.insert().values(delivery_id=claim.delivery_id, number=number, at=now,
                                                  status_code=attempt.status_code, latency_ms=attempt.latency_ms,
                                                  response_excerpt=attempt.response_excerpt, error=attempt.error))
            sub = subscriptions.c.subscription_id == claim.subscription.id
            if attempt.delivered:
                conn.execute(subscriptions.update().where(sub).values(last_success_at=now))
            elif values["state"] == "failed":
                self._disable_if_failing(conn, claim.subscription.id, now)
        return str(values["state"])

    @staticmethod
    def _disable_if_failing(conn: sa.Connection, subscription_id: UUID, now: datetime) -> None:
        """No delivery succeeded for 3 days (or ever, in a subscription older than that): disable it."""
        s = subscriptions.c
        last_ok = sa.func.coalesce(s.last_success_at, s.created_at)
        conn.execute(subscriptions.update()
                     .where(s.subscription_id == subscription_id, s.enabled.is_(True), last_ok <= now - GIVE_UP_AFTER)
                     .values(enabled=False, auto_disabled_at=now, re_enabled_at=None))


def redeliver(engine: sa.Engine, subscription_id: UUID, delivery_id: UUID, now: datetime) -> bool:
    """Queue a delivery again by hand (delivered or failed): due now, its 3 days counted afresh; its attempts so
    far stay in the log and the next one gets the next number. A delivery in flight or already waiting is left
    as it is. False when there is no such delivery."""
    d = deliveries.c
    with engine.begin() as conn:
        found = conn.execute(sa.select(d.state).where(d.delivery_id == delivery_id,
                                                      d.subscription_id == subscription_id)).one_or_none()
        if found is None:
            return False
        if found.state not in UNDELIVERED:
            conn.execute(deliveries.update().where(d.delivery_id == delivery_id, d.state.notin_(UNDELIVERED))
                         .values(state="pending", next_attempt_at=now, first_attempt_at=None))
    return True
