"""Stored events rendered as plain JSON-ready dicts, for the audit trail."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from ar.domain.money import Money
from ar.domain.postal_address import PostalAddress
from ar.domain.terms import PaymentTerms

ENVELOPE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic", "caused_by"}


def plain(value: Any) -> Any:
    if isinstance(value, Money):
        return {"minor": value.minor, "currency": value.currency}
    if isinstance(value, PaymentTerms | PostalAddress):
        return value.to_dict()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def event_type(event: object) -> str:
    """`Invoice.PaymentAllocated` -> `PaymentAllocated`: the stable name a reader sees."""
    return type(event).__qualname__.rsplit(".", 1)[-1]


def event_data(event: Any) -> dict[str, Any]:
    """The event's own fields, JSON-ready: what the audit trail and the event feed show as `data`."""
    data = vars(event) if not is_dataclass(event) else {f.name: getattr(event, f.name) for f in fields(event)}
    return {k: plain(v) for k, v in data.items() if k not in ENVELOPE_FIELDS}


def recorded_at(event: Any) -> datetime:
    """Our recording time, from the injected clock (the library's own timestamp reads the system clock)."""
    at: datetime = getattr(event, "at", event.timestamp)
    return at


def event_to_dict(event: Any) -> dict[str, Any]:
    return {
        "version": event.originator_version,
        "type": event_type(event),
        "recorded_at": recorded_at(event).isoformat(),
        # who caused it: `key:<id>`, `webhook:<source>` or `system`; null on events recorded before it was kept
        "caused_by": getattr(event, "caused_by", None),
        "data": event_data(event),
    }
