"""A customer statement: opening balance, every movement of the account with its running balance, closing balance,
and the aging of what is open at the end of the period."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

import sqlalchemy as sa

from ar.domain.errors import DomainRuleViolation, NotFound
from ar.projections.tables import customers, invoices, ledger_entries, payments
from ar.reports.aging import AgingLine, Bands, aging, instant


@dataclass(frozen=True)
class Movement:
    effective_on: date
    kind: str  # invoice, payment, refund, payment_returned, credit_note, write_off
    reference: str | None  # invoice or credit-note number, payer reference
    invoice_number: str | None
    debit_minor: int  # raises what the customer owes
    credit_minor: int  # lowers it
    balance_minor: int
    position: int


@dataclass
class StatementSection:
    currency: str
    opening_minor: int
    movements: list[Movement] = field(default_factory=list)
    aging: AgingLine | None = None

    @property
    def closing_minor(self) -> int:
        return self.movements[-1].balance_minor if self.movements else self.opening_minor


@dataclass
class Statement:
    customer_id: UUID
    name: str
    language: str
    from_on: date
    to_on: date
    known_at: datetime | None
    bands: Bands
    sections: list[StatementSection]


def statement(engine: sa.Engine, customer_id: UUID, *, from_on: date, to_on: date, known_at: datetime | None = None,
              bands: Bands = Bands()) -> Statement:
    if to_on < from_on:
        raise DomainRuleViolation("`to` is before `from`", field="to")
    known_at = instant(known_at)
    e = ledger_entries.c
    with engine.connect() as conn:
        customer = conn.execute(sa.select(customers.c.name, customers.c.language)
                                .where(customers.c.customer_id == customer_id)).first()
        if customer is None:
            raise NotFound(f"no customer {customer_id}", field="customer_id")
        known = [e.recorded_at <= known_at] if known_at is not None else []
        mine = [e.customer_id == customer_id, e.account_delta_minor != 0, *known]
        openings = dict(conn.execute(sa.select(e.currency, sa.func.sum(e.account_delta_minor))
                                     .where(*mine, e.effective_on < from_on).group_by(e.currency)).all())
        rows = conn.execute(
            sa.select(e.position, e.currency, e.kind, e.effective_on, e.reference, e.account_delta_minor,
                      invoices.c.number, payments.c.external_id)
            .select_from(ledger_entries.outerjoin(invoices, invoices.c.invoice_id == e.invoice_id)
                         .outerjoin(payments, payments.c.payment_id == e.payment_id))
            .where(*mine, e.effective_on >= from_on, e.effective_on <= to_on)
            .order_by(e.effective_on, e.position)).all()
    sections: dict[str, StatementSection] = {
        cur: StatementSection(cur, int(amount)) for cur, amount in openings.items()}
    for r in rows:
        section = sections.setdefault(r.currency, StatementSection(r.currency, 0))
        delta = int(r.account_delta_minor)
        section.movements.append(Movement(
            effective_on=r.effective_on, kind=r.kind, reference=r.reference or r.external_id,
            invoice_number=r.number, debit_minor=max(delta, 0), credit_minor=max(-delta, 0),
            balance_minor=section.closing_minor + delta, position=r.position))
    report = aging(engine, as_of=to_on, known_at=known_at, bands=bands, customer_id=customer_id, top=100)
    for line in report.customers:
        sections.setdefault(line.currency, StatementSection(line.currency, 0)).aging = line
    return Statement(customer_id=customer_id, name=customer.name, language=customer.language, from_on=from_on,
                     to_on=to_on, known_at=known_at, bands=bands,
                     sections=[sections[c] for c in sorted(sections)])


def default_period(today: date) -> tuple[date, date]:
    """The current month to date."""
    return today.replace(day=1), today
