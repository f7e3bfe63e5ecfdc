"""The rate book: every ECB and French legal rate the penalties use, as recorded facts with their source and author.

Rates change every half-year and are published after the software ships (the ECB decides in December and June, the
legal rate is set by arrêté in the Journal officiel), so they are entered at run time by the people who read the
sources, never by a release. Each entry is a `RateRecorded` event: the audit trail says who recorded which value,
from which source, and when. A correction of a half-year is a new event (history kept, the latest wins), never an
edit. The shipped `ar/data/rates.json` only seeds the half-years the book has never seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import DomainRuleViolation
from ar.domain.rate_tables import (
    RATE_TABLE_NAMES,
    StaticRateTables,
    half_year_label,
    half_year_start,
    next_half_year_start,
)

RATE_BOOK_ID = uuid5(NAMESPACE_URL, "https://ar.invalid/rate-book")
FIRST_HALF_YEAR, LAST_HALF_YEAR = date(2000, 1, 1), date(2099, 7, 1)
MAX_RATE = Decimal(100)
MAX_PLACES = 4
LEAD_DAYS = 30  # a half-year without its rate is announced this many days before it starts
SEED_AUTHOR = "seed: ar/data/rates.json"


class RateTable(StrEnum):
    ECB = "ecb"  # ECB main refinancing rate on 1 January / 1 July (L441-10, R2192-31, Directive 2011/7/EU)
    LEGAL = "legal"  # French legal interest rate, creditor not a private individual (CMF L313-2)
    LEGAL_INDIVIDUAL = "legal_individual"  # the same, creditor who is a private individual

    @property
    def display_name(self) -> str:
        return RATE_TABLE_NAMES[self.value]

    @property
    def short_name(self) -> str:
        return {"ecb": "ECB rate", "legal": "legal interest rate"}.get(self.value, self.display_name)


# Tables a penalty computation reads: a half-year without one of these is an ops task and a readiness warning.
REQUIRED_TABLES = (RateTable.ECB, RateTable.LEGAL)


@dataclass(frozen=True, slots=True)
class RateFact:
    """What a person states: the rate of a table for a half-year, and where it comes from."""

    table: RateTable
    half_year_start: date
    value: Decimal
    source: str
    to_confirm: bool = False
    note: str | None = None

    def check(self) -> None:
        start = self.half_year_start
        if start != half_year_start(start) or not FIRST_HALF_YEAR <= start <= LAST_HALF_YEAR:
            raise DomainRuleViolation(f"{start.isoformat()} is not the start (1 January or 1 July) of a half-year "
                                      f"from 2000 to 2099", field="half_year")
        exponent = self.value.as_tuple().exponent
        if (not self.value.is_finite() or not isinstance(exponent, int) or -exponent > MAX_PLACES
                or not Decimal(0) <= self.value <= MAX_RATE):
            raise DomainRuleViolation(f"a rate is a percentage from 0 to {MAX_RATE}, at most {MAX_PLACES} decimals, "
                                      f"not {self.value}", field="value")
        if not self.source.strip():
            raise DomainRuleViolation("say where the rate comes from (the JO arrêté, the ECB decision)",
                                      field="source")


@dataclass(frozen=True, slots=True)
class RecordedRate:
    fact: RateFact
    recorded_by: str
    recorded_at: datetime

    @property
    def label(self) -> str:
        """`ecb:2026-07-01`: the label of *to confirm* marks and of a missing rate."""
        return f"{self.fact.table.value}:{self.fact.half_year_start.isoformat()}"


@dataclass(frozen=True, slots=True)
class RateNeed:
    """A half-year of a required table with no rate: needed from `needed_from`, in force from `due_on`."""

    table: RateTable
    half_year_start: date
    needed_from: date

    @property
    def due_on(self) -> date:
        return self.half_year_start

    @property
    def label(self) -> str:
        return f"{self.table.value}:{self.half_year_start.isoformat()}"

    @property
    def summary(self) -> str:
        return (f"record the {self.table.short_name} for {half_year_label(self.half_year_start)} "
                f"({self.table.display_name}, in force on {self.half_year_start.isoformat()})")


def parse_half_year(text: str) -> date:
    """`2027-H1` (or `H1-2027`, or a date) -> the half-year's first day."""
    raw = text.strip().upper()
    if found := re.fullmatch(r"(?P<y>[0-9]{4})-H(?P<h>[12])|H(?P<h2>[12])-(?P<y2>[0-9]{4})", raw):
        year, half = found["y"] or found["y2"], found["h"] or found["h2"]
        return date(int(year), 1 if half == "1" else 7, 1)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DomainRuleViolation(f"{text!r} is not a half-year such as 2027-H1 or 2027-01-01",
                                  field="half_year") from None


def parse_rate(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise DomainRuleViolation(f"{text!r} is not a decimal percentage such as 2.15", field="value") from None


class RateBook(Aggregate):
    """One per service (`RATE_BOOK_ID`): the current rate of each table and half-year, and every entry ever made."""

    @classmethod
    def open(cls, at: datetime) -> RateBook:
        return cls(id=RATE_BOOK_ID, at=at)

    class Opened(Aggregate.Created):
        at: datetime

    @event(Opened)
    def __init__(self, id: UUID, at: datetime) -> None:
        self.entries: list[RecordedRate] = []
        self.current: dict[tuple[RateTable, date], RecordedRate] = {}

    def record(self, fact: RateFact, *, recorded_by: str, at: datetime) -> bool:
        """Record a rate, or correct one (a new entry; the latest wins). The same statement again by the same
        person changes nothing (a retried command). True if an entry was made."""
        fact.check()
        if not recorded_by.strip():
            raise DomainRuleViolation("say who records the rate", field="recorded_by")
        found = self.current.get((fact.table, fact.half_year_start))
        if found is not None and found.fact == fact and found.recorded_by == recorded_by.strip():
            return False
        self._recorded(table=fact.table.value, half_year_start=fact.half_year_start, value=str(fact.value),
                       source=fact.source.strip(), recorded_by=recorded_by.strip(), to_confirm=fact.to_confirm,
                       note=fact.note, at=at)
        return True

    class RateRecorded(Aggregate.Event):
        """A rate stated for a table and half-year, with its source and who read it (`value`: a decimal string)."""

        table: str
        half_year_start: date
        value: str
        source: str
        recorded_by: str
        to_confirm: bool
        note: str | None
        at: datetime

    @event(RateRecorded)
    def _recorded(self, table: str, half_year_start: date, value: str, source: str, recorded_by: str,
                  to_confirm: bool, note: str | None, at: datetime) -> None:
        fact = RateFact(table=RateTable(table), half_year_start=half_year_start, value=Decimal(value),
                        source=source, to_confirm=to_confirm, note=note)
        entry = RecordedRate(fact=fact, recorded_by=recorded_by, recorded_at=at)
        self.entries.append(entry)
        self.current[(fact.table, half_year_start)] = entry

    # Reading ----------------------------------------------------------------------------------------------------
    def rates_of(self, table: RateTable) -> list[RecordedRate]:
        return sorted((r for (t, _), r in self.current.items() if t is table), key=lambda r: r.fact.half_year_start)

    def corrections(self, table: RateTable, start: date) -> int:
        """How many earlier entries the current one replaced."""
        return sum(1 for e in self.entries if e.fact.table is table and e.fact.half_year_start == start) - 1

    def to_confirm(self) -> list[str]:
        return sorted(r.label for r in self.current.values() if r.fact.to_confirm)

    def tables(self, eu: StaticRateTables | None = None) -> StaticRateTables:
        """The tables a penalty computation reads; the EU country rules (not per half-year) come from `eu`."""
        def table(of: RateTable) -> dict[date, Decimal]:
            return {r.fact.half_year_start: r.fact.value for r in self.rates_of(of)}

        eu_marks = {label for label in (eu.to_confirm if eu else ()) if label.startswith("eu:")}
        return StaticRateTables(ecb=table(RateTable.ECB), legal=table(RateTable.LEGAL),
                                eu=dict(eu.eu) if eu else {}, eu_default=eu.eu_default if eu else None,
                                to_confirm=frozenset(self.to_confirm()) | eu_marks)

    def needs(self, today: date, lead_days: int = LEAD_DAYS) -> list[RateNeed]:
        """Half-years of the required tables without a rate, from the table's first recorded half-year through
        the one starting within `lead_days` of `today` (a new half-year is announced before it starts)."""
        horizon = half_year_start(today + timedelta(days=lead_days))
        found = []
        for table in REQUIRED_TABLES:
            known = {r.fact.half_year_start for r in self.rates_of(table)}
            for start in _half_years(min(known, default=half_year_start(today)), horizon):
                if start not in known:
                    found.append(RateNeed(table, start, start - timedelta(days=lead_days)))
        return sorted(found, key=lambda n: (n.half_year_start, n.table.value))

    def needs_met(self) -> list[tuple[RateNeed, RecordedRate]]:
        """The needs a person met: half-years of the required tables whose first entry came once they were needed
        (not from the seed), with that entry. A later correction is not a need met again."""
        first: dict[tuple[RateTable, date], RecordedRate] = {}
        for entry in self.entries:
            first.setdefault((entry.fact.table, entry.fact.half_year_start), entry)
        met = []
        for (table, start), entry in sorted(first.items(), key=lambda kv: (kv[0][1], kv[0][0].value)):
            need = RateNeed(table, start, start - timedelta(days=LEAD_DAYS))
            if table in REQUIRED_TABLES and entry.recorded_by != SEED_AUTHOR and (
                    entry.recorded_at.date() >= need.needed_from):
                met.append((need, entry))
        return met


def _half_years(first: date, last: date) -> Iterator[date]:
    start = first
    while start <= last:
        yield start
        start = next_half_year_start(start)

