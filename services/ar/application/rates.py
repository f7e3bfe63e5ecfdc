"""Rate use cases: record a rate (or correct one), read the book, and the tables every penalty computation reads.

Reads must be cheap (a dunning sweep computes penalties for 100,000 invoices) and every process must see a rate
recorded by another one without a restart. So the tables are built once per version of the rate book and kept; at
most every `RATES_CHECK_INTERVAL_S` seconds a reader asks the event store whether the book has an event past that
version (one indexed query) and reloads it if so. Between checks a read is an attribute access.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from eventsourcing.persistence import PersistenceError

from ar.application.commands import CommandHandling, Saved
from ar.application.ports import Ports
from ar.domain.clock import Clock
from ar.domain.rate_book import RATE_BOOK_ID, SEED_AUTHOR, RateBook, RateFact, RateNeed
from ar.domain.rate_tables import RateTables, StaticRateTables

log = logging.getLogger(__name__)


class RateSeed(NamedTuple):
    """The shipped rates file: its half-year rates, as facts for the book, and its tables (the EU country rules)."""

    facts: Sequence[RateFact]
    tables: StaticRateTables


class Rates(CommandHandling):
    RATES_CHECK_INTERVAL_S = 2.0

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock, ports: Ports, rate_seed: RateSeed):
        """`rate_seed` is required: without it the book would miss the EU country rules and the seeded rates."""
        super().__init__(env, clock=clock, ports=ports)
        self._rate_seed = rate_seed
        self._rate_book: RateBook | None = None
        self._rate_tables = StaticRateTables()
        self._rates_checked = float("-inf")
        self._rates_lock = threading.Lock()

    @property
    def rates(self) -> RateTables:
        """The current tables; checked against the event store at most every `RATES_CHECK_INTERVAL_S`."""
        if time.monotonic() - self._rates_checked >= self.RATES_CHECK_INTERVAL_S:
            self.refresh_rates()
        return self._rate_tables

    def ensure_rate_book(self) -> None:
        """Open the book and record the seed's half-years it has never seen, once (like the default policies):
        a rate recorded at run time is never overwritten by the seed; a new seed fills only the gaps."""

        def attempt() -> None:
            now = self.clock.now()
            book = self._exists(RateBook, RATE_BOOK_ID) or RateBook.open(now)
            for fact in self._rate_seed.facts:
                if (fact.table, fact.half_year_start) not in book.current:
                    book.record(fact, recorded_by=SEED_AUTHOR, at=now)
            self._save(book)
            self._install(book)

        self._retrying(attempt)

    def record_rate(self, fact: RateFact, *, recorded_by: str) -> Saved[RateBook]:
        """Record a rate for a table and half-year, or correct it (a new entry; the latest wins)."""

        def attempt() -> Saved[RateBook]:
            now = self.clock.now()
            book = self._exists(RateBook, RATE_BOOK_ID) or RateBook.open(now)
            book.record(fact, recorded_by=recorded_by, at=now)
            saved = Saved(book, self._save(book))
            self._install(book)
            return saved

        return self._retrying(attempt)

    def rate_book(self) -> RateBook:
        """The book as of now (reloaded if another process recorded a rate)."""
        self.refresh_rates(force=True)
        return self._rate_book if self._rate_book is not None else RateBook.open(self.clock.now())

    def rate_needs(self, today: date | None = None) -> list[RateNeed]:
        """Half-years of the required tables without a rate, up to the one starting within 30 days."""
        self.refresh_rates()
        book = self._rate_book
        return [] if book is None else book.needs(today or self.clock.today())

    def rates_to_confirm(self) -> list[str]:
        """Labels of the values used as given but to be checked against their source (`ecb:2026-07-01`, `eu:DE`)."""
        self.refresh_rates()
        return sorted(self._rate_tables.to_confirm)

    def refresh_rates(self, *, force: bool = False) -> None:
        """Reload the book if it moved on in the event store. One reader checks at a time; the others keep reading
        the tables they have. An unreachable store keeps the last tables (the next check tries again)."""
        if not self._rates_lock.acquire(blocking=force):
            return
        try:
            self._rates_checked = time.monotonic()
            book = self._rate_book
            if book is not None and not self.recorder.select_events(RATE_BOOK_ID, gt=book.version, limit=1):
                return
            found = self._exists(RateBook, RATE_BOOK_ID)
            if found is not None:
                self._install(found)
        except PersistenceError as e:
            log.warning("rate book not refreshed (%s); penalties use the rates known so far", e)
        finally:
            self._rates_lock.release()

    def _install(self, book: RateBook) -> None:
        if self._rate_book is None or book.version >= self._rate_book.version:
            self._rate_book = book
            self._rate_tables = book.tables(self._rate_seed.tables)
        self._rates_checked = time.monotonic()
