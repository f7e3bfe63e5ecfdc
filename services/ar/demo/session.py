"""How the demo speaks to the server and prints: one HTTP client, what it was told (ids, numbers, the position of
its last write), today's date, and one line per thing that happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from ar.demo.story import FIRST_DAY, InvoiceSpec
from ar.domain.money import MINOR_UNITS

Json = dict[str, Any]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class DemoError(RuntimeError):
    """The server refused a request of the demo."""


def money(minor: int, currency: str = "EUR") -> str:
    """`12,000.00 EUR`: the currency's minor digits and thousands separators, from integer minor units."""
    digits = MINOR_UNITS.get(currency, 2)  # a bare figure (no currency) keeps two decimals
    return f"{Decimal(minor).scaleb(-digits):,.{digits}f} {currency}"


@dataclass
class Tracked:
    """What the demo knows of an invoice it issued: its id and number, and how many dunning steps it has seen."""

    spec: InvoiceSpec
    id: str = ""
    number: str = ""
    due_on: date = date.min
    steps_seen: int = 0


@dataclass
class Session:
    """The demo's side of the conversation: what it was told, and how it asks and prints."""

    client: httpx.Client
    out: Callable[[str], None]
    customers: dict[str, Json] = field(default_factory=dict)
    invoices: dict[str, Tracked] = field(default_factory=dict)
    policies: dict[tuple[str, str], Json] = field(default_factory=dict)
    promises: dict[str, date] = field(default_factory=dict)
    disputes: dict[str, str] = field(default_factory=dict)
    position: str = "0"
    today: date = FIRST_DAY
    reminders: int = 0
    tasks: int = 0

    # -- HTTP -----------------------------------------------------------------------------------------------------
    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; anything but a 2xx stops the demo with the problem+json the server gave."""
        r = self.client.request(method, path, **kwargs)
        if r.status_code >= 300:
            raise DemoError(f"{method} {path} -> {r.status_code}: {r.text}")
        if position := r.headers.get("ar-position"):
            self.position = max(self.position, position, key=int)
        return r.json() if r.headers.get("content-type", "").startswith(("application/json",
                                                                          "application/problem+json")) else r.text

    def read(self, path: str, **params: Any) -> Any:
        """A read of the read models that includes every write made so far (`min_position`)."""
        return self.call("GET", path, params={**params, "min_position": self.position})

    # -- printing -------------------------------------------------------------------------------------------------
    def line(self, what: str, customer: str, detail: str) -> None:
        day = self.today
        self.out(f"{day.isoformat()} {WEEKDAYS[day.weekday()]}  {what:<10} {customer:<24} {detail}")

    def name(self, customer_id: str) -> str:
        return next((str(c["name"]) for c in self.customers.values() if c["id"] == customer_id), customer_id)
