"""French business days from the `holidays` package: weekends and public holidays (Code du travail L3133-1) are not
business days; Alsace-Moselle (local law, L3134-13) adds Good Friday and 26 December."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from holidays import country_holidays
from holidays.countries.france import France

# The departments 67 (Bas-Rhin) and 68 (Haut-Rhin) are one subdivision, "6AE" (Alsace), in the `holidays` package;
# Moselle is "57".
SUBDIVISION_ALIASES = {"67": "6AE", "68": "6AE"}


def _subdivision(subdiv: str | None) -> str | None:
    if subdiv is None:
        return None
    code = SUBDIVISION_ALIASES.get(subdiv, subdiv)
    known = set(France.subdivisions) | set(getattr(France, "subdivisions_aliases", {}))
    if code not in known:
        raise ValueError(f"unknown French subdivision {subdiv!r}; expected one of {sorted(known)} or 67/68")
    return code


@lru_cache(maxsize=256)
def _french_holidays(year: int, subdiv: str | None) -> frozenset[date]:
    return frozenset(country_holidays("FR", subdiv=subdiv, years=year))


class HolidayCalendar:
    """Business days in France, optionally in a subdivision such as "57" (Moselle) or "67"/"68" (Alsace).

    Holidays are computed once per (year, subdivision) and cached; instances are immutable and thread-safe.
    """

    def __init__(self, subdiv: str | None = None) -> None:
        self.subdiv = _subdivision(subdiv)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in _french_holidays(d.year, self.subdiv)

    def __repr__(self) -> str:
        return f"HolidayCalendar(subdiv={self.subdiv!r})"
