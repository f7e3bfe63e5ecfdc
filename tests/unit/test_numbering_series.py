from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from ar.domain.errors import DomainRuleViolation
from ar.domain.series import NumberingSeries, check_series_name

AT = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)


def test_numbers_are_consecutive_with_six_digits() -> None:
    series = NumberingSeries(name="F2026")
    assert [series.next_number(uuid4(), AT) for _ in range(3)] == ["F2026-000001", "F2026-000002", "F2026-000003"]
    assert series.last_sequence == 3


def test_each_number_records_one_assignment_naming_its_document() -> None:
    series = NumberingSeries(name="AV2026")
    document_id = uuid4()
    series.collect_events()
    assert series.next_number(document_id, AT) == "AV2026-000001"
    events = series.collect_events()
    assert [type(e).__name__ for e in events] == ["NumberAssigned"]
    assert events[0].document_id == document_id  # type: ignore[attr-defined]
    assert events[0].sequence == 1  # type: ignore[attr-defined]


def test_opening_a_series_records_an_opened_event() -> None:
    series = NumberingSeries(name="F2026")
    assert [type(e).__name__ for e in series.collect_events()] == ["Opened"]
    assert series.last_sequence == 0


def test_series_are_numbered_independently() -> None:
    invoices, credit_notes = NumberingSeries(name="F2026"), NumberingSeries(name="AV2026")
    invoices.next_number(uuid4(), AT)
    invoices.next_number(uuid4(), AT)
    assert credit_notes.next_number(uuid4(), AT) == "AV2026-000001"
    assert invoices.next_number(uuid4(), AT) == "F2026-000003"


def test_create_id_is_stable_for_a_name() -> None:
    assert NumberingSeries.create_id("F2026") == NumberingSeries.create_id("F2026")
    assert NumberingSeries.create_id("F2026") != NumberingSeries.create_id("F2027")


def test_a_series_takes_its_id_from_its_name() -> None:
    assert NumberingSeries(name="F2026").id == NumberingSeries.create_id("F2026")


def test_a_series_rebuilt_from_its_events_continues_without_a_gap() -> None:
    series = NumberingSeries(name="F2026")
    series.next_number(uuid4(), AT)
    series.next_number(uuid4(), AT)
    events = series.collect_events()
    replayed: NumberingSeries | None = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)
    assert replayed is not None
    assert replayed.next_number(uuid4(), AT) == "F2026-000003"


@pytest.mark.parametrize("name", ["F2026", "AV-2026", "A_1", "X", "ABCDEFGHIJKLMNOP"])
def test_valid_series_names(name: str) -> None:
    assert check_series_name(name) == name


@pytest.mark.parametrize("name", ["", "f2026", "-F2026", "F 2026", "ABCDEFGHIJKLMNOPQ", "F2026/01"])
def test_invalid_series_names_are_refused(name: str) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_series_name(name)
    assert refused.value.field == "series"
