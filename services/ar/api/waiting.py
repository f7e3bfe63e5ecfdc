"""Reads that wait for the read models (`min_position`), without holding worker threads.

Sixty waiting reads must not take sixty threads from the pool that serves every synchronous route, nor read the
positions sixty times per poll: in each event loop one read of the positions is in flight at a time, in a worker
thread for a few milliseconds, and every waiting read awaits that same one.
"""

from __future__ import annotations

import asyncio
import weakref

from anyio import to_thread

from ar.projections.progress import Progress
from ar.projections.runner import ProjectionRunner

_in_flight: weakref.WeakKeyDictionary[ProjectionRunner, tuple[asyncio.AbstractEventLoop, asyncio.Future[Progress]]]
_in_flight = weakref.WeakKeyDictionary()


async def progress(runner: ProjectionRunner, max_age_s: float) -> Progress:
    """The runner's progress, at most `max_age_s` old, shared by every read waiting in this event loop."""
    cached = runner.fresh_progress(max_age_s)
    if cached is not None:
        return cached
    loop = asyncio.get_running_loop()
    found = _in_flight.get(runner)
    if found is None or found[0] is not loop or found[1].done():
        future = asyncio.ensure_future(to_thread.run_sync(runner.progress, max_age_s))
        _in_flight[runner] = found = (loop, future)
    return await asyncio.shield(found[1])
