"""Clock adapters: the system clock in production, a settable one for tests, demos and simulations."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from ar.domain.clock import BUSINESS_TZ

__all__ = ["BUSINESS_TZ", "SettableClock", "SystemClock"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(BUSINESS_TZ).date()


class SettableClock:
    """Starts at a given instant and moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def today(self) -> date:
        return self.now().astimezone(BUSINESS_TZ).date()

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("a clock needs an aware datetime")
        with self._lock:
            self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta
