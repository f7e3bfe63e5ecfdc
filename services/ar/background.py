"""One background loop: a daemon thread that runs a pass every `interval_s`, sooner when woken, until stopped.

The projection runner, the dunning sweeper and the reminder delivery each keep one, so that waking, stopping and
surviving a failed pass are written once. A pass that raises never ends the loop: it is logged and tried again,
after the interval or after the wait the owner's `on_failure` returns (the runner backs off while storage is down).
"""

from __future__ import annotations

import logging
import threading
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
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, interval_s: float) -> None:
        """Starts the thread; a second start while it runs does nothing."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval_s,), name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Runs the next pass now instead of at the end of the interval (or of a back-off)."""
        self._wake.set()

    def stop(self, timeout_s: float) -> None:
        """Asks the loop to stop and waits up to `timeout_s` for the pass in flight to finish."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self, interval_s: float) -> None:
        failures = 0
        while not self._stop.is_set():
            wait: float | None = interval_s
            try:
                self._run_pass()
                failures = 0
            except Exception as exc:
                failures += 1
                wait = self._on_failure(exc, failures)
            self._wake.wait(interval_s if wait is None else wait)
            self._wake.clear()

    def _log_failure(self, _exc: Exception, _failures: int) -> None:
        self._log.exception(self._failed)
