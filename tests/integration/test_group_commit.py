"""Group commit: concurrent commands share one transaction; a conflict inside a batch re-decides only the loser; a
numbering series hands out consecutive numbers inside a batch and never leaves a hole."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from ar.application.commands import Pending
from ar.application.receivables import Receivables
from ar.domain import allocation
from ar.domain.money import Money
from ar.domain.series import NumberingSeries
from ar.domain.vat import VatLine
from ar.runtime import Runtime


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def issue(app: Receivables, customer_id: UUID, invoice_id: UUID | None = None, minor: int = 100) -> Any:
    return app.issue_invoice(invoice_id=invoice_id or uuid4(), series="G2026", customer_id=customer_id,
                             total=eur(minor), vat=[VatLine(Decimal(0), eur(minor), eur(0))])


def numbers_assigned(app: Receivables) -> list[int]:
    series = NumberingSeries.create_id("G2026")
    return [e["data"]["sequence"] for e in app.history(series) if e["type"] == "NumberAssigned"]


def test_concurrent_commands_are_written_in_fewer_transactions_with_consecutive_numbers(runtime: Runtime,
                                                                                       desk) -> None:
    customer = desk.customer()
    app = runtime.app
    batches, tickets = app.group_commit.batches, app.group_commit.tickets

    with ThreadPoolExecutor(max_workers=24) as pool:
        saved = list(pool.map(lambda _: issue(app, customer.id), range(240)))

    written = app.group_commit.tickets - tickets
    transactions = app.group_commit.batches - batches
    assert written == 240
    assert transactions < written, "no two commands ever shared a transaction"
    assert sorted(int(s.aggregate.number.rsplit("-", 1)[1]) for s in saved) == list(range(1, 241))
    assert numbers_assigned(app) == list(range(1, 241))
    assert all(s.position is not None for s in saved)


def test_a_conflict_inside_a_batch_refuses_only_the_loser(runtime: Runtime, desk) -> None:
    """Three commands in one batch: two allocate to the same invoice from the same state; the third is unrelated.
    The batch's transaction fails on the invoice's version, then the commands are written one by one: the first
    and the third are written, the second alone hears the conflict (its command would decide again)."""
    app = runtime.app
    customer = desk.customer()
    contested, other = desk.invoice(customer.id, 1_000), desk.invoice(customer.id, 500)
    now = runtime.clock.now()
    plan = [(desk.payment(customer.id, minor).id, invoice_id, minor)
            for invoice_id, minor in ((contested.id, 600), (contested.id, 700), (other.id, 500))]
    pendings: list[Pending] = []
    for payment_id, invoice_id, minor in plan:  # nothing is written until the first wait: one batch
        payment, invoice = app.get_payment(payment_id), app.get_invoice(invoice_id)
        allocation.allocate(payment, invoice, eur(minor), now)
        pendings.append(app._submit(payment, invoice))

    outcomes: list[Any] = []
    for pending in pendings:
        try:
            outcomes.append(app._wait(pending))
        except IntegrityError as e:
            outcomes.append(e)

    assert isinstance(outcomes[0], int) and isinstance(outcomes[2], int)
    assert isinstance(outcomes[1], IntegrityError)
    assert desk.open_minor(contested.id) == 400
    assert desk.open_minor(other.id) == 0


def test_a_number_after_one_that_was_not_written_is_handed_out_again(runtime: Runtime, desk) -> None:
    """The first command reuses the id of an existing invoice (a retried create: it does not read the id first), so
    its write fails; the second had been given the next number while the first was in flight. Writing the second
    would leave a hole, so it is refused without being tried, decides again and gets the number the first freed."""
    app = runtime.app
    customer = desk.customer()
    existing = issue(app, customer.id).aggregate  # number 1
    barrier = threading.Barrier(2)
    first = threading.local()
    real_wait = app._wait

    def wait_for_both(pending: Pending) -> Any:
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait(timeout=30)
        return real_wait(pending)

    app._wait = wait_for_both  # type: ignore[method-assign]
    try:
        retried = threading.Thread(target=lambda: results.__setitem__("retried", issue(app, customer.id, existing.id)))
        results: dict[str, Any] = {}
        retried.start()
        results["new"] = issue(app, customer.id)
        retried.join(timeout=30)
    finally:
        del app._wait

    assert results["retried"].aggregate.number == existing.number and results["retried"].position is None
    assert results["new"].aggregate.number == "G2026-000002"
    assert numbers_assigned(app) == [1, 2]


def test_two_applications_numbering_one_series_while_batching_leave_no_gap(runtime: Runtime, second_runtime: Runtime,
                                                                            desk) -> None:
    """Each process hands out numbers ahead of its commits; the other process's numbers make some of them fail on
    the series' version, and those are numbered again from the store."""
    customer = desk.customer()
    apps = (runtime.app, second_runtime.app)

    with ThreadPoolExecutor(max_workers=8) as pool:
        saved = list(pool.map(lambda n: issue(apps[n % 2], customer.id), range(120)))

    assert sorted(int(s.aggregate.number.rsplit("-", 1)[1]) for s in saved) == list(range(1, 121))
    assert numbers_assigned(runtime.app) == list(range(1, 121))
