"""The event feed: the notification log as a stable, documented envelope, with long-poll.

A follower reads `GET /v1/events?after=<next_after>` in a loop; with `wait_s` an empty read waits for the next
event instead of answering at once, so the follower needs no tight loop. Waiting holds no worker thread: the
last position is read in a worker thread for a few milliseconds every `POLL_S`, and every request waiting in the
same event loop awaits that same read (as `ar.api.waiting` does for the read models).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request

from ar.api.deps import ReceivablesDep
from ar.api.problems import responses
from ar.api.schemas.common import QueryInt
from ar.api.schemas.events import EventPage, EventTypeOut
from ar.application import feed_schemas
from ar.application.feed import EventFeed
from ar.application.feed_types import event_types, unknown_types
from ar.application.receivables import Receivables
from ar.domain.errors import DomainRuleViolation

router = APIRouter(prefix="/v1/events", tags=["events"])

POLL_S = 0.1
MAX_WAIT_S = 30

_feeds: weakref.WeakKeyDictionary[Receivables, EventFeed] = weakref.WeakKeyDictionary()
_heads: weakref.WeakKeyDictionary[EventFeed, tuple[asyncio.AbstractEventLoop, float, asyncio.Future[int]]]
_heads = weakref.WeakKeyDictionary()


def feed_of(app: Receivables) -> EventFeed:
    """One feed per application, so its cache of each aggregate's customer is shared by every request."""
    feed = _feeds.get(app)
    if feed is None:
        feed = _feeds[app] = EventFeed(app)
    return feed


async def _head(feed: EventFeed) -> int:
    """The last position, read at most once per `POLL_S` per event loop however many requests wait."""
    loop = asyncio.get_running_loop()
    found = _heads.get(feed)
    if found is None or found[0] is not loop or (found[2].done() and loop.time() - found[1] >= POLL_S):
        found = _heads[feed] = (loop, loop.time(), asyncio.ensure_future(to_thread.run_sync(feed.head)))
    return await asyncio.shield(found[2])


def _types(types: str | None) -> list[str] | None:
    if types is None:
        return None
    names = [t.strip() for t in types.split(",") if t.strip()]
    if not names:
        raise DomainRuleViolation("types lists no event type (omit it for every type)", field="types")
    unknown = unknown_types(names)
    if unknown:
        raise DomainRuleViolation(f"unknown event type {unknown[0]!r}: GET /v1/events/types lists them",
                                  field="types", figures={"unknown": unknown})
    return list(dict.fromkeys(names))


@router.get("", response_model=EventPage, responses=responses(422, 503),
            summary="Read the event log after a position, as stable envelopes (long-poll with wait_s)")
async def list_events(
    request: Request,
    app: ReceivablesDep,
    after: Annotated[QueryInt, Query(ge=0, le=2**63 - 1, description="the position read last (`next_after` of "
                                     "the previous page); 0 reads from the start")] = 0,
    limit: Annotated[QueryInt, Query(ge=1, le=1000, description="at most this many events")] = 100,
    types: Annotated[str | None, Query(max_length=4000, description="only these types, comma-separated (GET "
                                       "/v1/events/types lists them)",
                                       examples=["invoice.issued,payment.received"])] = None,
    wait_s: Annotated[QueryInt, Query(ge=0, le=MAX_WAIT_S, description="when nothing is there yet, wait up to "
                                      "this many seconds for an event before answering (empty `items` if none "
                                      "came)")] = 0,
) -> dict[str, Any]:
    """Events in position order, each an envelope whose `data` follows its type's schema. Read on with
    `after=next_after`: a `types` filter never makes a follower read the skipped events again."""
    wanted = _types(types)
    feed = feed_of(app)
    page = await to_thread.run_sync(feed.page, after, limit, wanted)
    deadline = time.monotonic() + wait_s
    while not page.items and time.monotonic() < deadline and not await request.is_disconnected():
        head = await _head(feed)
        if head > page.next_after:
            page = await to_thread.run_sync(feed.page, page.next_after, limit, wanted)
        else:
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
    return {"items": page.items, "next_after": page.next_after, "head": page.head}


@router.get("/types", response_model=list[EventTypeOut], summary="Every event type, with the schema of its data")
def list_event_types() -> list[EventTypeOut]:
    return [EventTypeOut(type=name, version=t.version, aggregate_kind=t.kind, description=t.description,
                         occurred_on=t.occurred_on_field, data_schema=feed_schemas.data_schema(name))
            for name, t in event_types().items()]


def components() -> dict[str, Any]:
    """The `data` schema of every type, for the OpenAPI components (`EventData.invoice.issued`...)."""
    return feed_schemas.components()
