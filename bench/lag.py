"""How far the read models trail the commands while a cell runs: `GET /v1/projections` polled every 250 ms, the
largest `lag_seconds` of its projections (the age of the oldest event not yet applied) taken at each poll.

Polled over HTTP, so the figure is what the service itself reports (the same whether the projections run in the
server process or in a worker); four small reads a second are noise against the load."""

from __future__ import annotations

import contextlib
import statistics
import threading
from collections.abc import Iterator
from typing import Any

import httpx

POLL_S = 0.25


@contextlib.contextmanager
def sampled(base_url: str, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Yields a dict filled, once the block ends, with `lag_p50_s`, `lag_p99_s`, `lag_max_s` and `lag_samples`."""
    samples: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
            while not stop.wait(POLL_S):
                with contextlib.suppress(httpx.HTTPError):
                    response = http.get("/v1/projections")
                    if response.status_code == 200:
                        samples.append(max((p["lag_seconds"] for p in response.json()["projections"]), default=0.0))

    figures: dict[str, Any] = {}
    thread = threading.Thread(target=poll, name="lag-sampler", daemon=True)
    thread.start()
    try:
        yield figures
    finally:
        stop.set()
        thread.join(timeout=15)
        ordered = sorted(samples)
        figures.update(lag_samples=len(ordered), lag_p50_s=statistics.median(ordered) if ordered else None,
                       lag_p99_s=ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else None,
                       lag_max_s=ordered[-1] if ordered else None)
