"""Clock adapters, behind the `Clock` port of `ar.domain.clock`: the system clock in production, a settable one for
tests, demos and simulations, and one shared through a file by several processes."""

from __future__ import annotations

import os
import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ar.domain.clock import BUSINESS_TZ, business_date

FIRST_START, LAST_START = date(2000, 1, 1), date(2099, 12, 31)


def parse_start(text: str) -> datetime:
    """Where a simulated clock starts, as a person writes it: `2026-03-02` is 09:00 that day (a working morning,
    as in the demo), `2026-03-02T14:30` is Paris time (the business timezone, in which due dates are read), and an
    explicit offset (`2026-03-02T08:00+00:00`) is taken as written."""
    text = text.strip()
    try:
        instant = datetime.combine(date.fromisoformat(text), time(9), BUSINESS_TZ)
    except ValueError:
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=BUSINESS_TZ)
    if not FIRST_START <= business_date(instant) <= LAST_START:
        raise ValueError(f"a simulated clock starts between {FIRST_START} and {LAST_START}, not {text}")
    return instant


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return business_date(self.now())


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
        return business_date(self.now())

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("a clock needs an aware datetime")
        with self._lock:
            self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


class SharedFileClock:
    """A settable clock whose instant lives in a file, so that several processes (a server and its workers in an
    end-to-end test or a demo) share one simulated time. Never the default. The file holds one ISO 8601 instant
    with its offset (`2026-03-02T08:00:00+00:00`), written atomically; `start` is written only if it is missing."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        if not path.exists():
            self.set(start)

    def now(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip()).astimezone(UTC)

    def today(self) -> date:
        return business_date(self.now())

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("a clock needs an aware datetime")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_text(instant.astimezone(UTC).isoformat())
        os.replace(temporary, self.path)

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)
