"""Reads of the subscription deliveries: the delivery log of a subscription, and the ops tasks of the
subscriptions disabled for their failures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa

from ar.adapters.subscription_store import Subscription, attempts, deliveries, subscriptions
from ar.projections.sql import aware


@dataclass(frozen=True)
class LoggedAttempt:
    number: int
    at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None


@dataclass(frozen=True)
class LoggedDelivery:
    id: UUID
    event_id: int
    event_type: str
    aggregate_id: str
    state: str
    next_attempt_at: datetime | None  # while pending
    created_at: datetime
    attempts: list[LoggedAttempt]


def delivery_log(engine: sa.Engine, subscription_id: UUID, *, state: str | None, limit: int) -> list[LoggedDelivery]:
    """The newest deliveries first, each with its attempts in order."""
    d = deliveries.c
    query = (sa.select(deliveries).where(d.subscription_id == subscription_id)
             .order_by(d.position.desc()).limit(limit))
    if state is not None:
        query = query.where(d.state == state)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        tried = conn.execute(sa.select(attempts).where(attempts.c.delivery_id.in_([r.delivery_id for r in rows]))
                             .order_by(attempts.c.delivery_id, attempts.c.number)).all()
    by_delivery: dict[UUID, list[LoggedAttempt]] = {}
    for a in tried:
        by_delivery.setdefault(a.delivery_id, []).append(LoggedAttempt(
            a.number, aware(a.at), a.status_code, a.latency_ms, a.response_excerpt, a.error))
    return [LoggedDelivery(r.delivery_id, int(r.position), r.event_type, r.aggregate_id, r.state,
                           aware(r.next_attempt_at) if r.state == "pending" else None, aware(r.created_at),
                           by_delivery.get(r.delivery_id, [])) for r in rows]


def disabled_subscriptions(engine: sa.Engine, *, state: str | None) -> list[tuple[Subscription, int]]:
    """The subscriptions disabled because every delivery failed for 3 days, with their failed deliveries: open
    while disabled, done once enabled again (`state`: open, done or None for both)."""
    s = subscriptions.c
    query = sa.select(subscriptions).where(s.auto_disabled_at.is_not(None))
    if state == "open":
        query = query.where(s.re_enabled_at.is_(None))
    elif state == "done":
        query = query.where(s.re_enabled_at.is_not(None))
    failed = (sa.select(deliveries.c.subscription_id, sa.func.count().label("failed"))
              .where(deliveries.c.state == "failed").group_by(deliveries.c.subscription_id))
    with engine.connect() as conn:
        found = [Subscription.of(r) for r in conn.execute(query)]
        counts = {r.subscription_id: int(r.failed) for r in conn.execute(failed)}
    return [(sub, counts.get(sub.id, 0)) for sub in found]
