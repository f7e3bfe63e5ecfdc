"""Business days: weekends and French public holidays, with Alsace-Moselle's two extra days."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from ar.adapters.business_days import HolidayCalendar, _french_holidays
from ar.domain.calendar import BusinessCalendar, WeekdaysOnly, next_business_day
from ar.domain.errors import DomainRuleViolation

GOOD_FRIDAY_2026 = date(2026, 4, 3)
SAINT_STEPHEN_2026 = date(2026, 12, 26)  # a Saturday in 2026: a non-business day anyway
SAINT_STEPHEN_2025 = date(2025, 12, 26)  # a Friday


@pytest.mark.parametrize("holiday", [date(2026, 5, 1), date(2026, 5, 8), date(2026, 7, 14), date(2026, 12, 25),
                                     date(2026, 1, 1), date(2026, 4, 6), date(2026, 11, 11)])
@pytest.mark.parametrize("subdiv", [None, "57", "67", "68"])
def test_french_public_holidays_are_not_business_days(holiday: date, subdiv: str | None) -> None:
    assert not HolidayCalendar(subdiv).is_business_day(holiday)


def test_weekends_are_not_business_days() -> None:
    calendar = HolidayCalendar()
    assert not calendar.is_business_day(date(2026, 5, 16))  # Saturday
    assert not calendar.is_business_day(date(2026, 5, 17))  # Sunday
    assert calendar.is_business_day(date(2026, 5, 18))


def test_good_friday_and_26_december_are_business_days_in_general_france() -> None:
    calendar = HolidayCalendar()
    assert calendar.is_business_day(GOOD_FRIDAY_2026)
    assert calendar.is_business_day(SAINT_STEPHEN_2025)
    assert not calendar.is_business_day(SAINT_STEPHEN_2026)  # Saturday


@pytest.mark.parametrize("subdiv", ["57", "67", "68", "6AE"])
def test_alsace_moselle_adds_good_friday_and_26_december(subdiv: str) -> None:
    calendar = HolidayCalendar(subdiv)
    assert not calendar.is_business_day(GOOD_FRIDAY_2026)
    assert not calendar.is_business_day(SAINT_STEPHEN_2025)
    assert not calendar.is_business_day(SAINT_STEPHEN_2026)
    assert calendar.is_business_day(date(2026, 4, 2))


def test_26_december_2026_is_a_holiday_in_moselle_even_though_it_is_a_saturday() -> None:
    # 2026-12-26 is a Saturday: what distinguishes the subdivisions that year is the holiday list, not the weekday.
    assert SAINT_STEPHEN_2026.weekday() == 5
    assert SAINT_STEPHEN_2026 in _french_holidays(2026, "57")
    assert SAINT_STEPHEN_2026 not in _french_holidays(2026, None)


def test_an_unknown_subdivision_is_refused() -> None:
    with pytest.raises(ValueError, match="subdivision"):
        HolidayCalendar("99")


def test_next_business_day_skips_a_weekend_and_a_holiday() -> None:
    # Ascension 2026 is Thursday 14 May; from Saturday 23 May, Sunday 24 and Pentecost Monday 25 May are skipped.
    calendar = HolidayCalendar()
    assert next_business_day(calendar, date(2026, 5, 23)) == date(2026, 5, 26)
    # Thursday 1 May 2025 (Labour Day) -> Friday 2 May.
    assert next_business_day(calendar, date(2025, 5, 1)) == date(2025, 5, 2)


def test_next_business_day_over_easter_in_moselle() -> None:
    # Good Friday 3 April, the weekend, Easter Monday 6 April: next is Tuesday 7 April; elsewhere, the Friday itself.
    assert next_business_day(HolidayCalendar("57"), GOOD_FRIDAY_2026) == date(2026, 4, 7)
    assert next_business_day(HolidayCalendar(), GOOD_FRIDAY_2026) == GOOD_FRIDAY_2026


def test_next_business_day_is_the_day_itself_when_it_is_one() -> None:
    assert next_business_day(HolidayCalendar(), date(2026, 5, 18)) == date(2026, 5, 18)


def test_weekdays_only_has_no_holidays() -> None:
    calendar: BusinessCalendar = WeekdaysOnly()
    assert calendar.is_business_day(date(2026, 5, 1))
    assert not calendar.is_business_day(date(2026, 5, 2))
    assert next_business_day(calendar, date(2026, 5, 2)) == date(2026, 5, 4)


def test_a_calendar_without_business_days_is_an_error_not_a_hang() -> None:
    class Never:
        def is_business_day(self, d: date) -> bool:
            return False

    with pytest.raises(DomainRuleViolation):
        next_business_day(Never(), date(2026, 1, 1))


def test_holiday_calendar_covers_any_year_and_is_safe_across_threads() -> None:
    calendar = HolidayCalendar("57")
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(0, 365 * 6, 7)]
    expected = [calendar.is_business_day(d) for d in days]
    results: list[list[bool]] = []

    def run() -> None:
        results.append([calendar.is_business_day(d) for d in days])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
    assert not calendar.is_business_day(date(2030, 12, 26))  # Thursday, Saint Stephen in Moselle
