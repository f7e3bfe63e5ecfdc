"""The contract with the events already stored: today's code decodes each of them and rebuilds the same state.

`stored_events.json` holds a history recorded once (see `history.py`) by the version that stored it, every topic of
every aggregate, plus hand-written events of older class versions (`legacy`), which today's code must upcast. A
change that renames an event, a field or a topic, or replays history differently, fails here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, _created_event_classes
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic
from tests.contract.history import describe, write_fixture

from ar.domain.customer import Customer
from ar.domain.dunning_policy import DunningPolicy
from ar.domain.invoice import Invoice
from ar.domain.issuer_credit_note import IssuerCreditNote
from ar.domain.payment import Payment
from ar.domain.rate_book import RateBook
from ar.domain.reminder import Reminder
from ar.domain.series import NumberingSeries
from ar.runtime import Runtime

FIXTURE = json.loads((Path(__file__).parent / "stored_events.json").read_text())
AGGREGATES = (Invoice, Payment, Customer, Reminder, NumberingSeries, DunningPolicy, RateBook, IssuerCreditNote)


def stored(entry: dict[str, Any]) -> StoredEvent:
    return StoredEvent(originator_id=UUID(entry["originator_id"]), originator_version=entry["originator_version"],
                       topic=entry["topic"], state=json.dumps(entry["state"]).encode("utf-8"))


def replay(mapper: Mapper[UUID], entries: list[dict[str, Any]]) -> dict[str, Any]:
    aggregates: dict[str, Any] = {}
    for entry in entries:
        event: Any = mapper.to_domain_event(stored(entry))
        aggregates[entry["originator_id"]] = event.mutate(aggregates.get(entry["originator_id"]))
    return {k: describe(a) for k, a in aggregates.items()}


def declared(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """The events an aggregate records: its nested event classes but the library's bases it was not created by."""
    created: list[Any] = list(_created_event_classes.get(aggregate, []))
    return [e for name, e in vars(aggregate).items() if isinstance(e, type) and issubclass(e, Aggregate.Event)
            and name != "Event" and (name != "Created" or e in created)]


def declared_topics() -> set[str]:
    return {get_topic(e) for a in AGGREGATES for e in declared(a)}


def test_the_fixture_holds_every_topic_of_every_aggregate() -> None:
    topics = Counter(e["topic"] for e in FIXTURE["events"])
    assert declared_topics() <= set(topics), declared_topics() - set(topics)
    assert len(declared_topics()) == 49


def test_each_stored_event_decodes_to_its_topic_and_encodes_back_unchanged(runtime: Runtime) -> None:
    mapper = runtime.app.mapper
    for entry in FIXTURE["events"] + FIXTURE["legacy"]["events"]:
        event = mapper.to_domain_event(stored(entry))
        assert get_topic(type(event)) == entry["topic"]
        assert event.originator_version == entry["originator_version"]
        if entry["state"].get("class_version", 1) == getattr(type(event), "class_version", 1):
            assert json.loads(mapper.to_stored_event(event).state) == entry["state"], entry["topic"]


def test_replaying_the_stored_events_rebuilds_the_same_state(runtime: Runtime) -> None:
    assert replay(runtime.app.mapper, FIXTURE["events"]) == FIXTURE["expected"]


@pytest.mark.parametrize("topic", ["Invoice.Issued", "Invoice.PaymentAllocated", "Invoice.CreditNoteApplied",
                                   "Payment.Allocated"])
def test_events_of_older_class_versions_are_in_the_fixture(topic: str) -> None:
    assert any(e["topic"].endswith(topic) and "class_version" not in e["state"] for e in FIXTURE["legacy"]["events"])


def test_events_of_older_class_versions_are_upcast_to_the_same_state(runtime: Runtime) -> None:
    assert replay(runtime.app.mapper, FIXTURE["legacy"]["events"]) == FIXTURE["legacy"]["expected"]


def test_the_same_history_recorded_today_rebuilds_the_same_state(tmp_path: Path) -> None:
    """Today's commands decide what the events then left to replay (a settlement's effect on the dunning schedule):
    the same use cases, recorded now, must leave every aggregate as the stored history does."""
    target = tmp_path / "today.json"
    write_fixture(tmp_path, target)
    today = json.loads(target.read_text())
    assert today["expected"] == FIXTURE["expected"]
    assert Counter(e["topic"] for e in today["events"]) == Counter(e["topic"] for e in FIXTURE["events"])
