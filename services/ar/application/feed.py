"""The event feed: the notification log as a stable, documented envelope, for followers and webhook subscriptions.

The envelope of position N is the same whenever it is read: everything in it comes from stored events (the event
itself, and for an event without a `customer_id` field the first event of its aggregate), never from a read model
that may lag or be rebuilt. Once published, an envelope changes only by gaining fields.

```
{"id": 42, "type": "invoice.payment_allocated", "version": 3,
 "aggregate": {"kind": "invoice", "id": "<uuid>", "version": 2},
 "customer_id": "<uuid>" | null, "occurred_on": "2026-03-05" | null, "recorded_at": "2026-03-05T09:00:00+00:00",
 "caused_by": "key:<id>" | "webhook:<source>" | "system" | null, "data": {...the event's own fields...}}
```
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification, StoredEvent

from ar.application.feed_types import WITHOUT_CUSTOMER, EventType, by_topic, event_types, snake
from ar.application.history import event_data, recorded_at
from ar.domain.clock import business_date
from ar.domain.errors import DomainRuleViolation

CUSTOMER_CACHE_SIZE = 100_000


@dataclass(frozen=True)
class FeedPage:
    """`next_after`: the position to pass as `after` next time, the last one examined (a follower filtering by
    type never reads the skipped ones again); `head`: the last position recorded when the page was read."""

    items: list[dict[str, Any]]
    next_after: int
    head: int


class EventSource(Protocol):
    """What the feed reads: the application's recorder and mapper (`Receivables` has both)."""

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...


class EventFeed:
    def __init__(self, app: EventSource) -> None:
        self.app = app
        self._customers: OrderedDict[UUID, UUID | None] = OrderedDict()
        self._lock = threading.Lock()

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def page(self, after: int, limit: int, types: Collection[str] | None = None) -> FeedPage:
        """Up to `limit` envelopes after position `after`, of the given types only (None: every type).

        A position beyond the last recorded one is refused rather than waited for: no follower was ever given it,
        unless the store was restored to an earlier state behind its back, which it should hear about."""
        head = self.head()
        if after > head:
            raise DomainRuleViolation(f"after {after} is beyond the last recorded event ({head}); pass the "
                                      "next_after of a page read before", field="after", figures={"head": head})
        topics: list[str] = []
        if types is not None:
            known = event_types()
            topics = [known[t].topic for t in types if t in known]
            if not topics:
                return FeedPage([], head, head)
        found = self.app.recorder.select_notifications(after, limit, topics=topics, inclusive_of_start=False)
        items = [self.envelope(n) for n in found]
        # fewer than asked: every matching event up to the head read before the query is in this page (the
        # recorders commit positions in order), so the follower may skip to that head
        next_after = found[-1].id if len(found) == limit else max(head, found[-1].id if found else 0)
        return FeedPage(items, next_after, max(head, next_after))

    def envelope(self, notification: Notification) -> dict[str, Any]:
        """One stored event as the published envelope, JSON-ready."""
        event: Any = self.app.mapper.to_domain_event(notification)
        known = by_topic().get(notification.topic)
        kind = known.kind if known else snake(type(event).__qualname__.split(".")[0])
        aggregate_id: UUID = event.originator_id
        return {
            "id": notification.id,
            "type": known.name if known else f"{kind}.{snake(type(event).__name__)}",
            "version": known.version if known else getattr(type(event), "class_version", 1),
            "aggregate": {"kind": kind, "id": str(aggregate_id), "version": event.originator_version},
            "customer_id": _str(self._customer_of(kind, aggregate_id, event)),
            "occurred_on": _occurred_on(known, event).isoformat(),
            "recorded_at": recorded_at(event).isoformat(),
            "caused_by": getattr(event, "caused_by", None),
            "data": event_data(event),
        }

    def _customer_of(self, kind: str, aggregate_id: UUID, event: Any) -> UUID | None:
        if kind in WITHOUT_CUSTOMER:
            return None
        if kind == "customer":
            return aggregate_id
        if hasattr(event, "customer_id"):
            own: UUID | None = event.customer_id
            if event.originator_version == 1:  # the aggregate's first event: its later events need no query
                self._remember(aggregate_id, own)
            return own
        with self._lock:
            if aggregate_id in self._customers:
                self._customers.move_to_end(aggregate_id)
                return self._customers[aggregate_id]
        first: list[StoredEvent] = list(self.app.recorder.select_events(aggregate_id, lte=1, limit=1))
        customer = getattr(self.app.mapper.to_domain_event(first[0]), "customer_id", None) if first else None
        self._remember(aggregate_id, customer)
        return customer

    def _remember(self, aggregate_id: UUID, customer: UUID | None) -> None:
        with self._lock:
            self._customers[aggregate_id] = customer
            if len(self._customers) > CUSTOMER_CACHE_SIZE:
                self._customers.popitem(last=False)


def _occurred_on(known: EventType | None, event: Any) -> date:
    field = known.occurred_on_field if known else None
    on = getattr(event, field, None) if field else None
    return on if isinstance(on, date) else business_date(recorded_at(event))


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)
