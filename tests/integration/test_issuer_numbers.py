"""Issuer numbers under concurrency, across two processes sharing the database: a number is held by one invoice
only, and a fresh series is numbered by whoever opens it, ar or the issuer, never both."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from ar.application.issuer_numbers import numbered_invoice_id
from ar.application.receivables import Receivables
from ar.domain.money import Money
from ar.domain.series import NumberingSeries, NumberTaken, SeriesNumberedElsewhere
from ar.domain.vat import VatLine
from ar.runtime import Runtime


def issue(app: Receivables, customer_id: UUID, minor: int, series: str = "ERP", number: str | None = None) -> Any:
    total = Money(minor, "EUR")
    return app.issue_invoice(invoice_id=uuid4(), series=series, customer_id=customer_id, total=total,
                             vat=[VatLine(Decimal(0), total, Money(0, "EUR"))], number=number)


def test_the_same_invoice_sent_twice_at_once_by_two_processes_is_recorded_once(
        runtime: Runtime, second_runtime: Runtime, desk, race) -> None:
    customer = desk.customer()
    saved: list[Any] = []
    outcomes = race(*(lambda app=app: saved.append(issue(app, customer.id, 1_200, number="FA-0041"))
                      for app in (runtime.app, second_runtime.app, runtime.app, second_runtime.app)))

    assert outcomes == [None] * 4
    assert {s.aggregate.id for s in saved} == {numbered_invoice_id("ERP", "FA-0041")}
    assert sum(s.position is not None for s in saved) == 1  # one wrote, the others found it done
    assert [e["type"] for e in runtime.app.history(numbered_invoice_id("ERP", "FA-0041"))] == ["Issued"]


def test_two_invoices_racing_for_one_number_one_is_refused_naming_the_other(
        runtime: Runtime, second_runtime: Runtime, desk, race) -> None:
    customer = desk.customer()
    outcomes = race(lambda: issue(runtime.app, customer.id, 1_200, number="FA-0041"),
                    lambda: issue(second_runtime.app, customer.id, 2_400, number="FA-0041"))

    [refused] = [o for o in outcomes if o is not None]
    assert isinstance(refused, NumberTaken)
    assert refused.figures["invoice_id"] == str(numbered_invoice_id("ERP", "FA-0041"))
    kept = runtime.app.get_invoice(numbered_invoice_id("ERP", "FA-0041")).total.minor
    assert kept == (2_400 if outcomes[0] is refused else 1_200)


def test_a_fresh_series_is_numbered_by_the_first_to_open_it_never_both(
        runtime: Runtime, second_runtime: Runtime, desk, race) -> None:
    customer = desk.customer()
    for attempt in range(5):
        series = f"NEW{attempt}"
        outcomes = race(lambda s=series: issue(runtime.app, customer.id, 1_200, series=s),
                        lambda s=series: issue(second_runtime.app, customer.id, 1_200, series=s, number="FA-1"))

        [refused] = [o for o in outcomes if o is not None]
        assert isinstance(refused, SeriesNumberedElsewhere)
        opened = runtime.app.repository.get(NumberingSeries.create_id(series))
        assert opened.numbered_by == ("issuer" if outcomes[0] is refused else "ar")
        assert opened.last_sequence == (0 if outcomes[0] is refused else 1)
