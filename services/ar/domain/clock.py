"""Time as a port: the domain and the application never read the system clock themselves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...

    def today(self) -> date:
        """The business date (Europe/Paris for French receivables)."""
        ...
