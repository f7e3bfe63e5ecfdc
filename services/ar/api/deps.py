"""Typed dependencies shared by the routes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, Header, HTTPException, Query, Request

from ar.api import waiting
from ar.api.idempotency import caller_of
from ar.api.schemas.common import ETAG_PATTERN, IDEMPOTENCY_KEY_PATTERN, QueryInt
from ar.application.receivables import Receivables
from ar.domain.errors import DomainRuleViolation
from ar.runtime import Runtime

# The dependencies below do no I/O: they are `async` so that FastAPI calls them on the event loop. A sync one
# costs a threadpool hop of its own (a worker thread and two loop wake-ups) before the route's hop, per request.


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_receivables(request: Request) -> Receivables:
    return runtime_of(request).app


async def get_if_match(if_match: Annotated[str | None, Header(
    pattern=ETAG_PATTERN, examples=['"3"'],
    description='The version you read, as its ETag sent it ("3", or weak W/"3"); `*` for any version',
)] = None) -> int | None:
    if if_match is None or if_match == "*":
        return None
    return int(if_match.removeprefix("W/").strip('"'))


async def get_idempotency_scope(
    request: Request,
    idempotency_key: Annotated[str | None, Header(
        description="Retry-safe key: the same key with the same body returns the first response (1 to 255 "
        "visible ASCII characters, e.g. a UUID)", pattern=IDEMPOTENCY_KEY_PATTERN, min_length=1, max_length=255,
        examples=["5f0c1f62-8d3a-4b53-a1f4-6d1e2b7c9a10"],
    )] = None,
) -> str | None:
    """The caller-scoped key from which a create command derives its new id, so a retry never doubles a record."""
    return f"{caller_of(request.scope)}:{idempotency_key}" if idempotency_key else None


READ_AFTER_WAIT_S = 2.0
# Waiting reads look at the positions this often, all of them with one read (a worker process moves them: no wake-up
# reaches this process); 20 ms is at most 50 one-row reads a second, and only while reads wait.
READ_AFTER_POLL_S = 0.02


async def read_after(
    request: Request,
    min_position: Annotated[QueryInt | None, Query(ge=0, le=2**63 - 1, description=(
        "read your own writes: wait until the read models include this event position (the AR-Position "
        "header of a write). 422 if no event has that position; 503 with Retry-After at once if a read model "
        "is stopped before it (GET /v1/projections says why), or if they have not reached it within 2 s"))] = None,
) -> None:
    """Waits asynchronously, so that waiting reads hold no worker thread (ar.api.waiting). It does not catch up
    itself: the projection loop is woken and does it."""
    if min_position is None:
        return
    runner = runtime_of(request).projections
    progress = await waiting.progress(runner, 0.0)
    if progress.reached(min_position):
        return
    head = await to_thread.run_sync(runner.head)
    if min_position > head:
        raise DomainRuleViolation(f"min_position {min_position} is beyond the last recorded event ({head}); pass "
                                  "the AR-Position header of a write", field="min_position", figures={"head": head})
    deadline = time.monotonic() + READ_AFTER_WAIT_S
    while not progress.reached(min_position):
        if (stall := progress.stuck_before(min_position)) is not None:
            raise HTTPException(503, f"the {stall.name} read model is stopped at event {stall.position} (see GET "
                                "/v1/projections); it will include that position once the cause is fixed",
                                headers={"Retry-After": str(stall.retry_after_s(datetime.now(UTC)))})
        if time.monotonic() >= deadline:
            raise HTTPException(503, "the read models have not reached that position yet; retry shortly",
                                headers={"Retry-After": "1"})
        runner.wake()
        await asyncio.sleep(READ_AFTER_POLL_S)
        progress = await waiting.progress(runner, READ_AFTER_POLL_S)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ReceivablesDep = Annotated[Receivables, Depends(get_receivables)]
IfMatchDep = Annotated[int | None, Depends(get_if_match)]
IdempotencyDep = Annotated[str | None, Depends(get_idempotency_scope)]
ReadAfterDep = Annotated[None, Depends(read_after)]
