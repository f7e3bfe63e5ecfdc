"""The JSON Schema of each event type's `data`, derived from the event class's fields and their annotations.

It describes what `history.plain` makes of each field (Money -> `{minor, currency}`, UUID -> a uuid string, dates
and instants -> ISO strings, Decimal -> a decimal string, enums -> their values), so the two cannot drift apart
without `test_feed_types.py` noticing. The schemas allow more properties than they list: an envelope only ever
gains fields.
"""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

from ar.application.feed_types import EventType, event_types
from ar.application.history import ENVELOPE_FIELDS
from ar.domain.customer import CreditLimitPolicy, Language
from ar.domain.dunning_policy import Channel, StepKind
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod
from ar.domain.postal_address import PostalAddress
from ar.domain.rate_book import RateTable
from ar.domain.terms import CustomerKind, EndOfMonthReading, PaymentTerms, TermsKind

JsonSchema = dict[str, Any]

MONEY: JsonSchema = {
    "type": "object", "description": "an amount in minor units (cents) and its ISO 4217 currency",
    "properties": {"minor": {"type": "integer"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}},
    "required": ["minor", "currency"],
}
TERMS: JsonSchema = {
    "type": "object", "description": "payment terms",
    "properties": {"kind": {"type": "string", "enum": [k.value for k in TermsKind]}, "days": {"type": "integer"},
                   "reading": {"anyOf": [{"type": "string", "enum": [r.value for r in EndOfMonthReading]},
                                         {"type": "null"}]}},
    "required": ["kind", "days", "reading"],
}
ADDRESS: JsonSchema = {
    "type": "object",
    "properties": {"lines": {"type": "array", "items": {"type": "string"}}, "postcode": {"type": "string"},
                   "city": {"type": "string"}, "country": {"type": "string", "pattern": "^[A-Z]{2}$"}},
    "required": ["lines", "postcode", "city", "country"],
}
# Fields stored as plain strings that always hold one of a domain enum's values.
ENUM_FIELDS: dict[str, dict[str, type[Enum]]] = {
    "invoice.issued": {"kind": InvoiceKind, "category": Category},
    "invoice.dunning_step_taken": {"step_kind": StepKind, "channel": Channel},
    "payment.received": {"method": PaymentMethod},
    "customer.registered": {"kind": CustomerKind, "language": Language, "credit_limit_policy": CreditLimitPolicy},
    "customer.credit_limit_changed": {"policy": CreditLimitPolicy},
    "reminder.reminder_sent": {"step_kind": StepKind, "channel": Channel, "language": Language},
    "dunning_policy.created": {"default_for": CustomerKind},
    "rate_book.rate_recorded": {"table": RateTable},
}
_SCALARS: dict[Any, JsonSchema] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    UUID: {"type": "string", "format": "uuid"},
    Decimal: {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "a decimal number"},
    Money: MONEY,
    PaymentTerms: TERMS,
    PostalAddress: ADDRESS,
    type(None): {"type": "null"},
}


def of_annotation(annotation: Any) -> JsonSchema:
    """The schema of what `history.plain` makes of a value of this type."""
    if annotation is Any:
        return {}
    if annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return {"type": "string", "enum": [e.value for e in annotation]}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        return {"anyOf": [of_annotation(a) for a in args]}
    if origin in (list, tuple, set, frozenset):
        return {"type": "array", "items": of_annotation(args[0]) if args else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": of_annotation(args[1]) if len(args) == 2 else {}}
    raise TypeError(f"no JSON Schema for {annotation!r}")  # a new field type: say here what `plain` makes of it


def _field_schema(name: str, field: str, annotation: Any) -> JsonSchema:
    enum = ENUM_FIELDS.get(name, {}).get(field)
    if enum is None:
        return of_annotation(annotation)
    # the field's annotation with `str` read as the enum (`str | None` -> the enum or null)
    args = typing.get_args(annotation) or (annotation,)
    return of_annotation(enum) if len(args) == 1 else {"anyOf": [of_annotation(enum if a is str else a)
                                                                 for a in args]}


@cache
def data_schema(name: str) -> JsonSchema:
    """The schema of the `data` of one event type."""
    event_type: EventType = event_types()[name]
    hints = typing.get_type_hints(event_type.cls)
    names = [f.name for f in fields(event_type.cls) if f.name not in ENVELOPE_FIELDS]
    return {
        "title": name,
        "description": event_type.description,
        "type": "object",
        "properties": {n: _field_schema(name, n, hints[n]) for n in names},
        "required": names,
    }


def component_name(name: str) -> str:
    return f"EventData.{name}"


def components() -> dict[str, JsonSchema]:
    """Every type's `data` schema, for the OpenAPI components (`EventData.invoice.issued`...)."""
    return {component_name(name): data_schema(name) for name in event_types()}
