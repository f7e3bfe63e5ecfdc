"""Time as a port: the domain and the application never read the system clock themselves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

BUSINESS_TZ = ZoneInfo("Europe/Paris")  # business dates of French receivables


def business_date(instant: datetime) -> date:
    """The business date of a recording time."""
    return instant.astimezone(BUSINESS_TZ).date()


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...

    def today(self) -> date:
        """The business date (Europe/Paris for French receivables)."""
        ...
