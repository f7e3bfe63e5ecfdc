"""Builders for the integration tests: the real `Receivables`, on SQLite and on PostgreSQL (the `runtime` fixture).

`desk` drives the application the way the API does (the caller derives ids, amounts are minor units), so a test
reads as the use case it checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from eventsourcing.persistence import IntegrityError

from ar.application.receivables import Receivables, new_id
from ar.domain.customer import Customer, Language
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine
from ar.projections.tables import invoices
from ar.runtime import Runtime, build


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


class Desk:
    """One accounts-receivable clerk: short calls for the application's use cases."""

    def __init__(self, app: Receivables) -> None:
        self.app = app

    def customer(self, *, terms: PaymentTerms | None = None, external_id: str | None = None,
                 name: str = "Boulangerie Martin SARL") -> Customer:
        return self.app.register_customer(
            customer_id=new_id("customer", external_id=external_id), name=name, kind=CustomerKind.PROFESSIONAL,
            country="FR", language=Language.FR, emails=["compta@martin.example"], terms=terms or PaymentTerms(),
            credit_limit=None, external_id=external_id,
        ).aggregate

    def invoice(self, customer_id: UUID, total_minor: int, *, series: str = "F2026", external_id: str | None = None,
                issued_on: date | None = None, due_on: date | None = None,
                kind: InvoiceKind = InvoiceKind.STANDARD, deposits: tuple[UUID, ...] = ()) -> Invoice:
        total = eur(total_minor)
        return self.app.issue_invoice(
            invoice_id=new_id("invoice", external_id=external_id), series=series, customer_id=customer_id,
            total=total, vat=[VatLine(Decimal(0), total, eur(0))], issued_on=issued_on, due_on=due_on, kind=kind,
            external_id=external_id, deposit_invoice_ids=deposits,
        ).aggregate

    def payment(self, customer_id: UUID | None, amount_minor: int, *,
                allocations: list[tuple[UUID, int]] | None = None, auto: bool = False,
                method: PaymentMethod = PaymentMethod.TRANSFER, payer_reference: str | None = None,
                remittance: str | None = None, external_id: str | None = None,
                payment_id: UUID | None = None) -> Payment:
        return self.app.record_payment(
            payment_id=payment_id or new_id("payment", external_id=external_id), customer_id=customer_id,
            amount=eur(amount_minor), method=method, payer_reference=payer_reference, remittance=remittance,
            external_id=external_id, allocations=[(i, eur(m)) for i, m in allocations or []], auto_allocate=auto,
        ).aggregate

    def open_minor(self, invoice_id: UUID) -> int:
        return self.app.get_invoice(invoice_id).open_amount.minor


@pytest.fixture
def desk(runtime: Runtime) -> Desk:
    return Desk(runtime.app)


@pytest.fixture
def second_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Another process-like wiring on the same database: its own application, cache, pools and projection runner."""
    other = build(runtime.settings, runtime.clock, run_migrations=False)
    try:
        yield other
    finally:
        other.close()


def invoice_rows(runtime: Runtime) -> dict[UUID, dict[str, Any]]:
    with runtime.engine.connect() as conn:
        return {r["invoice_id"]: dict(r) for r in conn.execute(sa.select(invoices)).mappings()}


@pytest.fixture
def read_invoices() -> Any:
    """The invoices read model as {invoice_id: row}."""
    return invoice_rows


@pytest.fixture
def count_conflicts() -> Iterator[Any]:
    """`count_conflicts(app)` -> a list that grows by one for each save of `app` lost to optimistic concurrency."""
    patched: list[Receivables] = []

    def count(app: Receivables) -> list[int]:
        real_wait, lost = app._wait, []

        def wait(pending: Any) -> Any:
            try:
                return real_wait(pending)
            except IntegrityError:
                lost.append(1)
                raise

        app._wait = wait  # type: ignore[method-assign]
        patched.append(app)
        return lost

    yield count
    for app in patched:
        del app._wait


@pytest.fixture
def desk_for() -> Any:
    """`desk_for(app)`: a desk on another application, e.g. the `second_runtime`'s."""
    return Desk


def run_together(*commands: Callable[[], Any]) -> list[BaseException | None]:
    """Run the commands in threads released by one barrier; each outcome is None (success) or the exception."""
    barrier = threading.Barrier(len(commands))
    outcomes: list[BaseException | None] = [None] * len(commands)

    def run(n: int) -> None:
        barrier.wait(timeout=30)
        try:
            commands[n]()
        except Exception as e:
            outcomes[n] = e

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(commands))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a racing command hung"
    return outcomes


@pytest.fixture
def race() -> Any:
    """`race(*commands)`: start the commands at the same instant, in threads; their outcomes."""
    return run_together
