"""The event feed's public names and schemas, checked against every event class and every stored topic.

No database: the stored-events fixture is put into an in-memory recorder and read back through the feed.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.popo import POPOApplicationRecorder

from ar.application import transcodings
from ar.application.feed import EventFeed
from ar.application.feed_schemas import ENUM_FIELDS, components, data_schema
from ar.application.feed_types import OCCURRED_ON, event_types, snake

FIXTURE = json.loads((Path(__file__).parents[1] / "contract" / "stored_events.json").read_text())


@dataclass
class Source:
    recorder: ApplicationRecorder
    mapper: Mapper[UUID]


def mapper() -> Mapper[UUID]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    transcodings.register(transcoder)
    return Mapper(transcoder=transcoder)


def stored(entry: dict[str, Any]) -> StoredEvent:
    return StoredEvent(originator_id=UUID(entry["originator_id"]), originator_version=entry["originator_version"],
                       topic=entry["topic"], state=json.dumps(entry["state"]).encode("utf-8"))


def feed_of_fixture() -> EventFeed:
    recorder = POPOApplicationRecorder()
    recorder.insert_events([stored(e) for e in FIXTURE["events"] + FIXTURE["legacy"]["events"]])
    return EventFeed(Source(recorder, mapper()))


def check(schema: dict[str, Any], value: Any, where: str) -> None:
    """Validates `value` against the subset of JSON Schema the feed publishes (jsonschema is not installed)."""
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                check(option, value, where)
                return
            except AssertionError as e:
                errors.append(str(e))
        raise AssertionError(f"{where}: {value!r} matches none of {errors}")
    kind = schema.get("type")
    python = {"string": str, "integer": int, "boolean": bool, "number": (int, float), "object": dict, "array": list,
              "null": type(None)}
    if kind is not None:
        assert isinstance(value, python[kind]), f"{where}: {value!r} is not {kind}"
        assert kind in ("integer", "number") or not isinstance(value, bool) or kind == "boolean", where
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if schema.get("format") == "date":
        date.fromisoformat(value)
    if schema.get("format") == "date-time":
        assert datetime.fromisoformat(value).tzinfo is not None, where
    if schema.get("format") == "uuid":
        assert str(UUID(value)) == value, where
    if kind == "object":
        assert set(schema.get("required", [])) <= set(value), f"{where}: missing {set(schema['required']) - set(value)}"
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key, schema.get("additionalProperties", {}))
            check(sub, item, f"{where}.{key}")
    if kind == "array":
        for i, item in enumerate(value):
            check(schema.get("items", {}), item, f"{where}[{i}]")


def test_every_declared_event_class_has_one_public_name() -> None:
    types = event_types()
    assert len(types) >= 38
    assert len({t.cls for t in types.values()}) == len(types)
    assert len({t.topic for t in types.values()}) == len(types)
    assert types["invoice.payment_allocated"].topic == "ar.domain.invoice:Invoice.PaymentAllocated"
    assert types["dunning_policy.revised"].topic == "ar.domain.dunning_policy:DunningPolicy.Revised"
    assert types["numbering_series.number_assigned"].kind == "numbering_series"


def test_every_stored_topic_has_a_public_name() -> None:
    topics = {t.topic for t in event_types().values()}
    assert {e["topic"] for e in FIXTURE["events"] + FIXTURE["legacy"]["events"]} <= topics


@pytest.mark.parametrize(("name", "expected"), [("PaymentAllocated", "payment_allocated"), ("Issued", "issued"),
                                                ("NumberingSeries", "numbering_series"), ("RateBook", "rate_book"),
                                                ("IssuedOverCreditLimit", "issued_over_credit_limit")])
def test_names_are_snake_case(name: str, expected: str) -> None:
    assert snake(name) == expected


def test_every_type_has_a_schema_listing_exactly_its_data_fields() -> None:
    published = components()
    for name, event_type in event_types().items():
        schema = published[f"EventData.{name}"]
        assert schema["type"] == "object"
        own = {f.name for f in fields(event_type.cls)} - {"originator_id", "originator_version", "timestamp",
                                                           "originator_topic"}
        assert set(schema["properties"]) == own, name
        assert schema["description"], name


def test_enum_fields_name_string_fields_of_known_types() -> None:
    for name, enums in ENUM_FIELDS.items():
        hints = typing.get_type_hints(event_types()[name].cls)
        for field in enums:
            assert hints[field] in (str, str | None), (name, field)
            assert "enum" in str(data_schema(name)["properties"][field])


def test_every_event_class_with_a_date_decides_its_occurred_on() -> None:
    for name, event_type in event_types().items():
        dates = [n for n, t in typing.get_type_hints(event_type.cls).items()
                 if t in (date, date | None) and n in {f.name for f in fields(event_type.cls)}]
        if dates:
            assert name in OCCURRED_ON, f"{name} has {dates}: say in OCCURRED_ON which one it occurred on"
        field = OCCURRED_ON.get(name)
        assert field is None or field in dates, (name, field)


def test_every_stored_event_becomes_an_envelope_whose_data_matches_its_schema() -> None:
    feed = feed_of_fixture()
    page = feed.page(0, 1000)
    assert len(page.items) == len(FIXTURE["events"]) + len(FIXTURE["legacy"]["events"]) == page.head
    seen = set()
    for envelope in page.items:
        seen.add(envelope["type"])
        assert set(envelope) == {"id", "type", "version", "aggregate", "customer_id", "occurred_on", "recorded_at",
                                 "caused_by", "data"}
        check(data_schema(envelope["type"]), envelope["data"], envelope["type"])
        assert set(envelope["data"]) == set(data_schema(envelope["type"])["properties"]), envelope["type"]
        date.fromisoformat(envelope["occurred_on"])
        assert datetime.fromisoformat(envelope["recorded_at"]).tzinfo is not None
    assert seen == {n for n, t in event_types().items() if t.topic in {e["topic"] for e in FIXTURE["events"]}}
    assert len(seen) >= 38


def test_invoice_and_payment_events_carry_their_customer_from_the_first_event() -> None:
    items = feed_of_fixture().page(0, 1000).items
    # read alone, by a feed that has not seen the aggregate's first event: the same customer, from the store
    assert [feed_of_fixture().page(e["id"] - 1, 1).items[0] for e in items] == items
    issued = {e["aggregate"]["id"]: e["data"]["customer_id"] for e in items if e["type"] == "invoice.issued"}
    for envelope in items:
        kind = envelope["aggregate"]["kind"]
        if kind == "invoice":
            assert envelope["customer_id"] == issued[envelope["aggregate"]["id"]], envelope["type"]
        elif kind == "customer":
            assert envelope["customer_id"] == envelope["aggregate"]["id"]
        elif kind in ("numbering_series", "dunning_policy", "rate_book"):
            assert envelope["customer_id"] is None
        elif kind == "reminder":
            assert envelope["customer_id"] is not None


def test_a_type_filter_skips_the_other_types_and_moves_next_after_past_them() -> None:
    feed = feed_of_fixture()
    page = feed.page(0, 1000, types=["payment.received"])
    assert page.items and {e["type"] for e in page.items} == {"payment.received"}
    assert page.next_after == page.head
    first = feed.page(0, 1, types=["payment.received"])
    assert first.next_after == first.items[0]["id"] == page.items[0]["id"]
    assert feed.page(first.next_after, 1000, types=["payment.received"]).items == page.items[1:]
