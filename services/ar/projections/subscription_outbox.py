"""The subscription outbox: a tracked consumer of the notification log that queues one delivery per event and
matching subscription, in the projection runner's transaction, so each event is queued exactly once however many
workers run and wherever one is killed (rows and position commit together).

A subscription receives the events after the log's head when it was created (`from_position`), of its types, while
it is enabled. A rebuild deletes nothing (the deliveries are a log of what was sent) and adds only the rows that
are missing (a delivery's id derives from its subscription and position), so it never sends an event twice; it
would queue the events a subscription missed while disabled.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ar.adapters.subscription_store import ALL_TYPES, Subscription, deliveries, delivery_id, subscriptions
from ar.application.feed_types import by_topic, event_types, snake
from ar.domain.clock import Clock
from ar.projections.sql import insert_missing


def event_type(event: Any) -> str:
    """The event's public name, as the feed's envelope gives it."""
    cls = type(event)
    known = by_topic().get(f"{cls.__module__}:{cls.__qualname__}")
    return known.name if known else f"{snake(cls.__qualname__.split('.')[0])}.{snake(cls.__name__)}"


NO_TOPIC = "ar.subscriptions:NoSubscription"  # no event has it: with no subscription, nothing is read or decoded


class SubscriptionOutbox:
    name = "subscription_outbox"

    def __init__(self, engine: sa.Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics some enabled subscription wants (empty: every topic), read before each batch, so that the
        runner decodes only those. A subscription created after this read starts after the head the runner had
        already read, so the events skipped for want of it are none of its business."""
        with self.engine.connect() as conn:
            wanted = [t for types in conn.scalars(sa.select(subscriptions.c.types)
                                                  .where(subscriptions.c.enabled.is_(True))) for t in types]
        if ALL_TYPES in wanted:
            return ()
        known = event_types()
        return tuple(sorted({known[t].topic for t in wanted if t in known})) or (NO_TOPIC,)

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        enabled = [Subscription.of(r) for r in conn.execute(
            sa.select(subscriptions).where(subscriptions.c.enabled.is_(True)))]
        if not enabled:
            return
        now = self.clock.now()
        rows = []
        for position, event in events:
            name = event_type(event)
            rows += [{"delivery_id": delivery_id(s.id, position), "subscription_id": s.id, "position": position,
                      "event_type": name, "aggregate_id": str(event.originator_id), "state": "pending",
                      "attempts": 0, "next_attempt_at": now, "created_at": now}
                     for s in enabled if position > s.from_position and s.wants(name)]
        insert_missing(conn, deliveries, rows, ["delivery_id"])

    def reset(self, conn: sa.Connection) -> None:
        """Nothing: see the module's docstring."""
