"""Business days. L441-10 does not move a due date that falls on a weekend or holiday; reminders, though, go out on
business days only, so the dunning schedule asks a `BusinessCalendar`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from ar.domain.errors import DomainRuleViolation

# No real calendar has a year without a business day; a longer search means a broken calendar, not a long holiday.
MAX_SEARCH_DAYS = 366


class BusinessCalendar(Protocol):
    def is_business_day(self, d: date) -> bool: ...


def next_business_day(calendar: BusinessCalendar, d: date) -> date:
    """`d` itself if it is a business day, else the first business day after it."""
    day = d
    for _ in range(MAX_SEARCH_DAYS):
        if calendar.is_business_day(day):
            return day
        day += timedelta(days=1)
    raise DomainRuleViolation(f"no business day within {MAX_SEARCH_DAYS} days of {d.isoformat()}", field="calendar")


class WeekdaysOnly:
    """Monday to Friday, no holidays: for tests and for places without a holiday calendar."""

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5
