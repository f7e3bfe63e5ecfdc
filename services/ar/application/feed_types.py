"""The public names of our events: one `<aggregate kind>.<event name>` per event class, built once from the domain.

The feed and the webhook subscriptions publish these names, never the Python topics: `Invoice.PaymentAllocated`
is `invoice.payment_allocated` whatever module holds the class. A name, once published, is never reused for
another class (`test_feed_types.py` checks that no two classes share one).

`occurred_on` is the business date a fact is about, chosen per class below (the field the fact happened on, not a
date it mentions: a promise is made on `made_on`, it is not about `promised_on`); a class absent from the table
has no such date and takes the business date (Europe/Paris) of its recording instead. The test checks that every
class with a date field is listed, so a new event decides rather than falling back by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from eventsourcing.domain import Aggregate

from ar.domain.customer import Customer
from ar.domain.dunning_policy import DunningPolicy
from ar.domain.invoice import Invoice
from ar.domain.issuer_credit_note import IssuerCreditNote
from ar.domain.payment import Payment
from ar.domain.rate_book import RateBook
from ar.domain.reminder import Reminder
from ar.domain.series import NumberingSeries

AGGREGATES: tuple[type[Aggregate], ...] = (Invoice, Payment, Customer, Reminder, NumberingSeries, DunningPolicy,
                                           RateBook, IssuerCreditNote)
# Aggregates that are about no customer: their events carry `customer_id: null`.
WITHOUT_CUSTOMER = frozenset({"numbering_series", "dunning_policy", "rate_book", "issuer_credit_note"})

# The field holding the business date each fact is about; None: it has none (the recording date stands in).
OCCURRED_ON: dict[str, str | None] = {
    "invoice.issued": "issued_on",
    "invoice.payment_allocated": "value_on",
    "invoice.credit_note_applied": "credited_on",
    "invoice.written_off": "written_off_on",
    "invoice.dispute_opened": "opened_on",
    "invoice.dispute_resolved": "resolved_on",
    "invoice.dunning_step_taken": "on",
    "invoice.dunning_step_skipped": "on",
    "invoice.late_penalty_claimed": "as_of",
    "invoice.dunning_resumed": "resumed_on",
    "invoice.dunning_opted_in": "opted_in_on",
    "invoice.payment_promised": "made_on",
    "invoice.promise_broken": "broken_on",
    "invoice.early_payment_discount_offered": None,  # offered with the issue; `until` is its last day
    "invoice.early_payment_discount_taken": "on",
    "payment.received": "value_on",
    "payment.refunded": "refunded_on",
    "payment.returned": "returned_on",
    "reminder.reminder_sent": "run_on",
    # the half-year a rate applies to is not the day it was recorded
    "rate_book.rate_recorded": None,
}


def snake(name: str) -> str:
    """`PaymentAllocated` -> `payment_allocated`, `NumberingSeries` -> `numbering_series`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


@dataclass(frozen=True)
class EventType:
    name: str  # `invoice.payment_allocated`
    kind: str  # `invoice`
    cls: type[Any]
    topic: str  # as stored: `ar.domain.invoice:Invoice.PaymentAllocated`

    @property
    def version(self) -> int:
        version: int = getattr(self.cls, "class_version", 1)
        return version

    @property
    def occurred_on_field(self) -> str | None:
        return OCCURRED_ON.get(self.name)

    @property
    def description(self) -> str:
        """The declared class's docstring: the library redefines a declared event class (its copy, first in the
        MRO, has the dataclass signature as its docstring, as has an undocumented event)."""
        for cls in self.cls.__mro__:
            doc = vars(cls).get("__doc__") or ""
            if cls.__qualname__ == self.cls.__qualname__ and doc and not doc.startswith(cls.__name__ + "("):
                return " ".join(doc.split())
        return f"{self.kind.replace('_', ' ').capitalize()}: {snake(self.cls.__name__).replace('_', ' ')}."


def declared(aggregate: type[Aggregate]) -> list[type[Any]]:
    """The event classes an aggregate records: its nested events, without the library's `Event` base and the
    `Created` class it adds when the aggregate declares its own creation event."""
    nested = {name: e for name, e in vars(aggregate).items()
              if isinstance(e, type) and issubclass(e, Aggregate.Event) and name != "Event"}
    own_created = any(issubclass(e, Aggregate.Created) for name, e in nested.items() if name != "Created")
    return [e for name, e in nested.items() if not (name == "Created" and own_created)]


@cache
def event_types() -> dict[str, EventType]:
    """Every event type by its public name."""
    found: dict[str, EventType] = {}
    for aggregate in AGGREGATES:
        kind = snake(aggregate.__name__)
        for cls in declared(aggregate):
            name = f"{kind}.{snake(cls.__name__)}"
            if name in found:
                raise RuntimeError(f"two event classes are named {name}: {found[name].topic} and {cls.__qualname__}")
            found[name] = EventType(name, kind, cls, f"{cls.__module__}:{cls.__qualname__}")
    return found


@cache
def by_topic() -> dict[str, EventType]:
    return {t.topic: t for t in event_types().values()}


def unknown_types(names: list[str]) -> list[str]:
    known = event_types()
    return [n for n in names if n not in known]
