"""Two payments racing for one invoice: optimistic concurrency lets one in, the other meets the domain rule."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from ar.application.receivables import Receivables, new_id
from ar.domain.errors import DomainRuleViolation, NotFound, OverAllocation
from ar.domain.invoice_kind import InvoiceKind
from ar.domain.money import Money
from ar.domain.series import NumberingSeries
from ar.runtime import Runtime

ROUNDS = 5


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


@contextmanager
def decided_together(*apps: Receivables, parties: int = 2) -> Iterator[list[int]]:
    """Hold each racer's first save (its wait for the group commit) until all have decided on the same state, so the
    race is certain, not likely.

    Yields a list that grows by one for every save lost to optimistic concurrency.
    """
    barrier = threading.Barrier(parties)
    first = threading.local()
    conflicts: list[int] = []
    for app in apps:
        def wait(pending: Any, real_wait: Any = app._wait) -> Any:
            if not getattr(first, "done", False):
                first.done = True
                barrier.wait(timeout=30)
            try:
                return real_wait(pending)
            except IntegrityError:
                conflicts.append(1)
                raise

        app._wait = wait  # type: ignore[method-assign]
    try:
        yield conflicts
    finally:
        for app in apps:
            del app._wait


def assert_one_winner(runtime: Runtime, invoice_id: UUID, outcomes: list[BaseException | None]) -> UUID:
    assert sorted(o is None for o in outcomes) == [False, True], outcomes
    loser = next(o for o in outcomes if o is not None)
    assert isinstance(loser, OverAllocation) and isinstance(loser, DomainRuleViolation), repr(loser)
    invoice = runtime.app.get_invoice(invoice_id)
    assert len(invoice.allocations) == 1
    assert invoice.open_amount.minor >= 0
    assert invoice.open_amount == invoice.total - invoice.allocated
    assert invoice.version == 2
    return next(iter(invoice.allocations))


def test_two_payments_allocated_to_one_invoice_at_once_only_one_applies(runtime: Runtime, desk, race) -> None:
    customer = desk.customer()
    for _ in range(ROUNDS):
        invoice = desk.invoice(customer.id, 1_000)
        payments = {desk.payment(customer.id, m).id: m for m in (600, 700)}

        with decided_together(runtime.app) as conflicts:
            outcomes = race(*(
                lambda p=p, m=m, i=invoice.id: runtime.app.allocate_payment(p, allocations=[(i, eur(m))])
                for p, m in payments.items()
            ))

        winner = assert_one_winner(runtime, invoice.id, outcomes)
        assert conflicts == [1]  # the loser's first save was refused, its retry met the rule
        assert desk.open_minor(invoice.id) == 1_000 - payments[winner]
        unapplied = {p: runtime.app.get_payment(p).unapplied.minor for p in payments}
        assert unapplied == {p: 0 if p == winner else m for p, m in payments.items()}


def test_two_payments_recorded_against_one_invoice_at_once_only_one_is_recorded(runtime: Runtime, desk, race) -> None:
    customer = desk.customer()
    for n in range(ROUNDS):
        invoice = desk.invoice(customer.id, 1_000)
        amounts = {f"BANK-{n}-A": 550, f"BANK-{n}-B": 800}

        with decided_together(runtime.app) as conflicts:
            outcomes = race(*(
                lambda k=k, m=m, i=invoice.id: desk.payment(customer.id, m, external_id=k, allocations=[(i, m)])
                for k, m in amounts.items()
            ))

        winner = assert_one_winner(runtime, invoice.id, outcomes)
        assert conflicts == [1]
        won, lost = sorted(amounts, key=lambda k: new_id("payment", external_id=k) != winner)
        assert runtime.app.get_payment(winner).external_id == won
        assert desk.open_minor(invoice.id) == 1_000 - amounts[won]
        with pytest.raises(NotFound):  # one transaction with its allocation: the losing payment is not recorded
            runtime.app.get_payment(new_id("payment", external_id=lost))


def test_invoice_is_never_over_allocated_by_many_racing_payments(runtime: Runtime, desk, race) -> None:
    customer = desk.customer()
    invoice = desk.invoice(customer.id, 1_000)
    payments = [desk.payment(customer.id, 300).id for _ in range(6)]

    outcomes = race(*(
        lambda p=p: runtime.app.allocate_payment(p, allocations=[(invoice.id, eur(300))]) for p in payments
    ))

    assert sum(o is None for o in outcomes) == 3
    assert all(isinstance(o, OverAllocation) for o in outcomes if o is not None), outcomes
    stored = runtime.app.get_invoice(invoice.id)
    assert (stored.allocated, stored.open_amount, len(stored.allocations)) == (eur(900), eur(100), 3)


def test_two_processes_racing_for_one_deposit_only_one_final_invoice_deducts_it(
        runtime: Runtime, second_runtime: Runtime, desk, desk_for, race) -> None:
    """Each final invoice also takes a number: the loser must give back neither a deduction nor a number."""
    customer = desk.customer()
    desks = (desk, desk_for(second_runtime.app))
    for round_ in range(3):
        deposit = desk.invoice(customer.id, 2_000, kind=InvoiceKind.DEPOSIT)

        with decided_together(runtime.app, second_runtime.app) as conflicts:
            outcomes = race(*(
                lambda d=d, i=deposit.id: d.invoice(customer.id, 5_000, kind=InvoiceKind.FINAL, deposits=(i,))
                for d in desks
            ))

        assert sorted(o is None for o in outcomes) == [False, True], outcomes
        assert isinstance(next(o for o in outcomes if o is not None), DomainRuleViolation)
        assert conflicts == [1]
        final = runtime.app.get_invoice(runtime.app.get_invoice(deposit.id).deducted_by)
        assert (final.deducted, final.number) == (eur(2_000), f"F2026-{2 * round_ + 2:06d}")
        series = runtime.app.repository.get(NumberingSeries.create_id("F2026"))
        assert series.last_sequence == 2 * round_ + 2
