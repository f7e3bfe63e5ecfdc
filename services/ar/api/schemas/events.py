"""The event feed's answers: the envelope (the same one webhook subscriptions deliver), a page, the type catalogue.

The envelope's fields are strings exactly as `ar.application.feed` writes them (an instant keeps its `+00:00`), so
the feed and a webhook delivery of the same event are byte for byte the same JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_EXAMPLE: dict[str, Any] = {
    "id": 42, "type": "invoice.payment_allocated", "version": 3,
    "aggregate": {"kind": "invoice", "id": "0014e1a9-dc4c-5473-9921-04839528ac1b", "version": 2},
    "customer_id": "97b7809f-7d0b-585f-8c47-b5ea8c134e1d", "occurred_on": "2026-03-04",
    "recorded_at": "2026-03-04T10:00:00+00:00", "caused_by": "key:k_3f9a2c",
    "data": {"payment_id": "3c1e0c1a-5a0f-5b8e-9f52-8d9b3f0a1c2d", "amount": {"minor": 50000, "currency": "EUR"},
             "at": "2026-03-04T10:00:00+00:00", "value_on": "2026-03-04",
             "payer_customer_id": "97b7809f-7d0b-585f-8c47-b5ea8c134e1d", "reanchored_on": None,
             "promise_kept": None},
}


class EventAggregate(BaseModel):
    kind: str = Field(description="the kind of record: invoice, payment, customer, reminder, numbering_series, "
                      "dunning_policy, rate_book", examples=["invoice"])
    id: str = Field(json_schema_extra={"format": "uuid"}, examples=["0014e1a9-dc4c-5473-9921-04839528ac1b"])
    version: int = Field(description="the record's version after this event (its ETag then)", examples=[2])


class EventEnvelope(BaseModel):
    """One recorded event. Stable: once published, an envelope only gains fields. `data` follows the schema of its
    type (`EventData.<type>` in the components, or GET /v1/events/types)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: int = Field(description="its position in the event log: increasing, unique; pass it as `after`", ge=1)
    type: str = Field(description="`<aggregate kind>.<event name>`", examples=["invoice.payment_allocated"])
    version: int = Field(description="the version of this type's `data` schema", examples=[3])
    aggregate: EventAggregate
    customer_id: str | None = Field(description="the customer the record belongs to (an invoice's, a payment's "
                                    "payer, a reminder's, a customer's own id); null for numbering series, dunning "
                                    "policies and the rate book", json_schema_extra={"format": "uuid"})
    occurred_on: str = Field(description="the business date the fact is about (an invoice's issue date, a "
                             "payment's value date...), else the Paris business date it was recorded",
                             json_schema_extra={"format": "date"}, examples=["2026-03-04"])
    recorded_at: str = Field(description="when it was recorded (the service's clock)",
                             json_schema_extra={"format": "date-time"}, examples=["2026-03-04T10:00:00+00:00"])
    caused_by: str | None = Field(description="who caused it: `key:<key id>`, `webhook:<source>` or `system`; null "
                                  "on events recorded before this was kept", examples=["key:k_3f9a2c"])
    data: dict[str, Any] = Field(description="the event's own fields, as the type's schema describes them")


class EventPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_EXAMPLE], "next_after": 42, "head": 57}]})

    items: list[EventEnvelope]
    next_after: int = Field(description="pass it as `after` to read on: the last position examined, past the "
                            "events a `types` filter skipped", examples=[42])
    head: int = Field(description="the last position recorded when the page was read", examples=[57])


class EventTypeOut(BaseModel):
    type: str = Field(examples=["invoice.payment_allocated"])
    version: int = Field(description="the current version of its `data` schema", examples=[3])
    aggregate_kind: str = Field(examples=["invoice"])
    description: str
    occurred_on: str | None = Field(description="the `data` field `occurred_on` is taken from; null: the business "
                                    "date of `recorded_at`", examples=["value_on"])
    data_schema: dict[str, Any] = Field(description="JSON Schema of `data` (also in the OpenAPI components as "
                                        "`EventData.<type>`)")
