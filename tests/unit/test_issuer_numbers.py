"""Issuer numbers: what a number may hold, and a series numbered by ar or by the issuer, never both."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from ar.domain.errors import DomainRuleViolation
from ar.domain.series import BY_ISSUER, NumberingSeries, SeriesNumberedElsewhere, check_issuer_number

AT = datetime(2026, 1, 20, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("number", ["1", "FA-2026-0041", "f2026/0041", "INV.2026_07", "A" * 40])
def test_an_issuer_number_holds_letters_digits_and_dash_underscore_slash_dot(number: str) -> None:
    assert check_issuer_number(number) == number


@pytest.mark.parametrize("number", ["", "A" * 41, "FA 2026", "FA\t1", "FA-1\n", "F#1", "Facturé-1", "F:1", "F\x00",
                                    "-", "./_"])
def test_an_issuer_number_is_refused_naming_the_number(number: str) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        check_issuer_number(number)
    assert refused.value.field == "number"


def test_a_series_opened_by_the_issuer_refuses_to_be_numbered_by_ar() -> None:
    series = NumberingSeries(name="ERP", numbered_by=BY_ISSUER)
    series.check_issuer_may_number("FA-1")
    with pytest.raises(SeriesNumberedElsewhere) as refused:
        series.next_number(uuid4(), AT)
    assert (refused.value.rule, refused.value.field) == ("series-numbered-elsewhere", "series")
    assert series.last_sequence == 0


def test_a_series_numbered_by_ar_refuses_an_issuer_number() -> None:
    series = NumberingSeries(name="F2026")
    series.next_number(uuid4(), AT)
    with pytest.raises(SeriesNumberedElsewhere) as refused:
        series.check_issuer_may_number("FA-1")
    assert (refused.value.rule, refused.value.field) == ("series-numbered-elsewhere", "number")


def test_an_issuer_series_records_only_its_opening_whatever_the_numbers() -> None:
    series = NumberingSeries(name="ERP", numbered_by=BY_ISSUER)
    for n in range(50):
        series.check_issuer_may_number(f"FA-{n}")
    [opened] = series.collect_events()
    assert isinstance(opened, NumberingSeries.Opened)
    assert opened.numbered_by == "issuer"
    state = {k: v for k, v in vars(series).items() if not k.startswith("_")}
    assert state == {"name": "ERP", "numbered_by": "issuer", "last_sequence": 0}


def test_a_series_opened_before_v2_is_numbered_by_ar() -> None:
    state: dict[str, object] = {"name": "F2025"}
    NumberingSeries.Opened.upcast_v1_v2(state)
    assert state["numbered_by"] == "ar"
