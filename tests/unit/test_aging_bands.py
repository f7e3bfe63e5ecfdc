"""Aging bands: one rule (`ar.reports.bands.band`), the same in Python and in SQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ar.domain.errors import DomainRuleViolation
from ar.reports.bands import Bands, band

AS_OF = date(2026, 3, 31)


def test_a_due_date_falls_in_the_band_of_its_days_past_due_edges_included() -> None:
    bands = Bands((30, 60, 90))
    lows = bands.thresholds(AS_OF)
    label = {days: bands.labels[band(AS_OF - timedelta(days=days), lows)] for days in (-1, 0, 1, 30, 31, 60, 61,
                                                                                        90, 91, 400)}
    assert label == {-1: "not_due", 0: "not_due", 1: "1-30", 30: "1-30", 31: "31-60", 60: "31-60", 61: "61-90",
                     90: "61-90", 91: "over_90", 400: "over_90"}


@pytest.mark.parametrize("edges", [(30, 60, 90), (1,), (7, 14, 9999)])
def test_the_sql_case_bands_every_due_date_as_python_does(edges: tuple[int, ...]) -> None:
    bands = Bands(edges)
    lows = bands.thresholds(AS_OF)
    due_dates = sorted({low + timedelta(days=d) for low in lows for d in (-1, 0, 1)})  # each edge and both sides
    rows = sa.Table("due", sa.MetaData(), sa.Column("due_on", sa.Date))
    engine = sa.create_engine("sqlite://")
    params = [sa.bindparam(f"t{i}", type_=sa.Date) for i in range(len(lows))]
    with engine.begin() as conn:
        rows.create(conn)
        conn.execute(rows.insert(), [{"due_on": d} for d in due_dates])
        by_dates = dict(conn.execute(sa.select(rows.c.due_on, band(rows.c.due_on, lows))).all())
        by_params = dict(conn.execute(sa.select(rows.c.due_on, band(rows.c.due_on, params)),
                                      {f"t{i}": low for i, low in enumerate(lows)}).all())
    expected = {d: band(d, lows) for d in due_dates}
    assert by_dates == by_params == expected
    assert sorted(set(expected.values())) == list(range(len(edges) + 2))


def test_bands_refuse_edges_that_do_not_increase() -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        Bands((60, 30))
    assert refused.value.field == "bands"
