"""One background loop: a daemon thread that runs a pass every `interval_s`, sooner when woken, until stopped.

The projection runner, the dunning sweeper and the reminder delivery each keep one, so that waking, stopping and
surviving a failed pass are written once. A pass that raises never ends the loop: it is logged and tried again,
after the interval or after the wait the owner's `on_failure` returns (the runner backs off while storage is down).

Two ways to wake it: `wake()` runs the next pass at once (someone waits for it), `wake_soon()` runs it no sooner than
`min_gap_s` after the previous pass began, so that a burst of wake-ups (one per saved command) makes one pass over
everything they announced instead of one pass each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

OnFailure = Callable[[Exception, int], float | None]
"""Called inside the `except` block with the error and the failures in a row; returns the seconds to wait before
the next pass (None: the interval)."""


class BackgroundLoop:
    def __init__(self, name: str, run_pass: Callable[[], object], *, log: logging.Logger, failed: str = "",
                 on_failure: OnFailure | None = None) -> None:
        """`failed` is the message logged (with its traceback) when a pass raises and no `on_failure` is given;
        `log` is the owner's logger, so that the record names the component that failed."""
        self.name, self._run_pass, self._log = name, run_pass, log
        self._failed = failed or f"{name} pass failed"
        self._on_failure = on_failure or self._log_failure
        self._stop = threading.Event()
        self._wake = threading.Event()  # any wake-up, soon or now
        self._now = threading.Event()  # a wake-up that must not wait for the gap
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, interval_s: float, *, min_gap_s: float = 0.0) -> None:
        """Starts the thread; a second start while it runs does nothing. `min_gap_s`: the shortest time between the
        beginnings of two passes that `wake_soon` may bring about."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval_s, min_gap_s), name=self.name,
                                        daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Runs the next pass now instead of at the end of the interval (or of a back-off, or of the gap)."""
        self._now.set()
        self._wake.set()

    def wake_soon(self) -> None:
        """Runs the next pass `min_gap_s` after the previous one began (at once if that is past), not at the end of
        the interval; the wake-ups meanwhile share that pass."""
        self._wake.set()

    def stop(self, timeout_s: float) -> None:
        """Asks the loop to stop and waits up to `timeout_s` for the pass in flight to finish."""
        self._stop.set()
        self._now.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self, interval_s: float, min_gap_s: float) -> None:
        failures = 0
        while not self._stop.is_set():
            wait: float | None = interval_s
            began = time.monotonic()
            try:
                self._run_pass()
                failures = 0
            except Exception as exc:
                failures += 1
                wait = self._on_failure(exc, failures)
            if self._wake.wait(interval_s if wait is None else wait) and not self._now.is_set():
                rest = min_gap_s - (time.monotonic() - began)
                if rest > 0:
                    self._now.wait(rest)  # the wake-ups of the gap share the next pass; `wake()` cuts it short
            # cleared before the pass: a wake-up during it brings the next one
            self._now.clear()
            self._wake.clear()

    def _log_failure(self, _exc: Exception, _failures: int) -> None:
        self._log.exception(self._failed)
