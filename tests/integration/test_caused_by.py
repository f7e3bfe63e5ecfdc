"""Who caused each event: every event saved while an actor is set records it (`caused_by`), stored with the event and
read back from the event store after a restart; events saved by the service itself say `system`."""

from __future__ import annotations

from ar.application import actor
from ar.runtime import Runtime


def test_every_event_a_command_saves_records_who_caused_it_and_the_store_gives_it_back(
        runtime: Runtime, second_runtime: Runtime, desk) -> None:
    with actor.acting_as(actor.api_key("k1a2b3c4d5e6")):
        customer = desk.customer()
        invoice = desk.invoice(customer.id, 1_200)
    with actor.acting_as(actor.webhook_source("erp")):
        desk.payment(customer.id, 1_200, allocations=[(invoice.id, 1_200)])

    history = second_runtime.app.history(invoice.id)  # another process, reading the stored events

    assert [e["caused_by"] for e in history] == ["key:k1a2b3c4d5e6", "webhook:erp"]
    assert {e["caused_by"] for e in second_runtime.app.history(customer.id)} == {"key:k1a2b3c4d5e6"}
    assert all("caused_by" not in e["data"] for e in history)


def test_a_command_with_no_caller_is_the_service_itself(runtime: Runtime, desk) -> None:
    customer = desk.customer()

    assert [e["caused_by"] for e in runtime.app.history(customer.id)] == [actor.SYSTEM]
    assert actor.current() == actor.SYSTEM
