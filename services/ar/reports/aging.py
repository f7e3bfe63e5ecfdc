"""Aging: open invoice amounts by days past due, as of a business date and as known at a recording time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.errors import DomainRuleViolation
from ar.projections.tables import customer_balances, customers, ledger_entries, open_by_due

DEFAULT_EDGES = (30, 60, 90)


@dataclass(frozen=True)
class Bands:
    """Upper edges in days past due: (30, 60, 90) -> not_due, 1-30, 31-60, 61-90, over_90."""

    edges: tuple[int, ...] = DEFAULT_EDGES

    def __post_init__(self) -> None:
        if not self.edges or list(self.edges) != sorted(set(self.edges)) or self.edges[0] < 1 or len(self.edges) > 12:
            raise DomainRuleViolation("bands are 1 to 12 increasing whole numbers of days, e.g. 30,60,90",
                                      field="bands")

    @property
    def labels(self) -> list[str]:
        lows = [1, *(e + 1 for e in self.edges[:-1])]
        return ["not_due", *(f"{lo}-{hi}" for lo, hi in zip(lows, self.edges, strict=True)),
                f"over_{self.edges[-1]}"]

    def case(self, due_on: sa.ColumnElement[date], as_of: date) -> sa.ColumnElement[int]:
        """The band index of a due date, as SQL comparing dates only (index-friendly, no date arithmetic in SQL)."""
        whens = [(due_on >= as_of, 0)]
        whens += [(due_on >= as_of - timedelta(days=edge), i + 1) for i, edge in enumerate(self.edges)]
        return sa.case(*whens, else_=len(self.edges) + 1)


@dataclass
class AgingLine:
    currency: str
    buckets: list[int]
    invoices: int = 0
    customer_id: UUID | None = None
    name: str | None = None

    @property
    def open_minor(self) -> int:
        return sum(self.buckets)


@dataclass
class AgingReport:
    as_of: date
    known_at: datetime | None
    bands: Bands
    totals: list[AgingLine] = field(default_factory=list)
    customers: list[AgingLine] = field(default_factory=list)


def _open_items(as_of: date, known_at: datetime | None, where: list[Any]) -> sa.Subquery:
    """Each invoice's open amount as of `as_of` (and as known at `known_at`), summed from its ledger entries."""
    e = ledger_entries.c
    conditions = [e.invoice_id.is_not(None), e.effective_on <= as_of, *where]
    if known_at is not None:
        conditions.append(e.recorded_at <= known_at)
    return (sa.select(e.customer_id, e.currency, e.due_on, sa.func.sum(e.invoice_delta_minor).label("open_minor"))
            .where(*conditions).group_by(e.invoice_id, e.customer_id, e.currency, e.due_on)
            .having(sa.func.sum(e.invoice_delta_minor) != 0).subquery())


def _has_later_entries(conn: sa.Connection, as_of: date, customer_id: UUID | None) -> bool:
    e = ledger_entries.c
    query = sa.select(e.position).where(e.effective_on > as_of).limit(1)
    if customer_id is not None:
        query = query.where(e.customer_id == customer_id)
    return conn.scalar(query) is not None


def instant(known_at: datetime | None) -> datetime | None:
    """An aware instant in UTC (SQLite compares stored UTC times by their digits, so offsets must go first)."""
    if known_at is None:
        return None
    if known_at.tzinfo is None:
        raise DomainRuleViolation("known_at needs a time zone, e.g. 2026-04-01T00:00:00Z", field="known_at")
    return known_at.astimezone(UTC)


def aging(engine: sa.Engine, *, as_of: date, known_at: datetime | None = None, bands: Bands = Bands(),
          currency: str | None = None, customer_id: UUID | None = None, top: int = 100) -> AgingReport:
    known_at = instant(known_at)
    report = AgingReport(as_of=as_of, known_at=known_at, bands=bands)
    with engine.connect() as conn:
        if known_at is None and not _has_later_entries(conn, as_of, customer_id):
            source = open_by_due  # nothing took effect after as_of: the current open amounts are the answer
            count: Any = source.c.invoices
        else:
            e = ledger_entries.c  # filters go inside, so the ledger is read through its indexes
            inner = [c for c in (e.currency == currency if currency else None,
                                 e.customer_id == customer_id if customer_id else None) if c is not None]
            source = _open_items(as_of, known_at, inner)  # type: ignore[assignment]
            count = sa.literal(1)
        s = source.c
        band = bands.case(s.due_on, as_of).label("band")
        filters = [c for c in (s.currency == currency if currency else None,
                               s.customer_id == customer_id if customer_id else None) if c is not None]
        if customer_id is not None:  # one customer: its lines are the totals (two queries in all)
            report.customers = _top_debtors(conn, source, band, count, filters, bands, top, current=False,
                                            currency=currency, customer_id=customer_id)
            report.totals = [AgingLine(line.currency, line.buckets, line.invoices) for line in report.customers]
            return report
        totals = conn.execute(sa.select(s.currency, band, sa.func.sum(s.open_minor), sa.func.sum(count))
                              .where(*filters).group_by(s.currency, band))
        by_currency: dict[str, AgingLine] = {}
        for cur, index, amount, n in totals:
            line = by_currency.setdefault(cur, AgingLine(cur, [0] * (len(bands.edges) + 2)))
            line.buckets[index] += int(amount)
            line.invoices += int(n)
        report.totals = sorted(by_currency.values(), key=lambda line: line.currency)
        report.customers = _top_debtors(conn, source, band, count, filters, bands, top, current=source is open_by_due,
                                        currency=currency, customer_id=customer_id)
    return report


def _top_debtors(conn: sa.Connection, source: Any, band: Any, count: Any, filters: list[Any], bands: Bands, top: int,
                 *, current: bool, currency: str | None, customer_id: UUID | None) -> list[AgingLine]:
    s = source.c
    if current:  # the largest balances come from an index, then only their rows are bucketed
        b = customer_balances.c
        biggest = (sa.select(b.customer_id).where(b.open_minor > 0).order_by(b.open_minor.desc(), b.customer_id)
                   .limit(top))
        if currency:
            biggest = biggest.where(b.currency == currency)
        if customer_id:
            biggest = biggest.where(b.customer_id == customer_id)
        filters = [*filters, s.customer_id.in_(list(conn.scalars(biggest)))]
    rows = conn.execute(sa.select(s.customer_id, s.currency, band, sa.func.sum(s.open_minor), sa.func.sum(count))
                        .where(*filters).group_by(s.customer_id, s.currency, band))
    lines: dict[tuple[UUID, str], AgingLine] = {}
    for cid, cur, index, amount, n in rows:
        line = lines.setdefault((cid, cur), AgingLine(cur, [0] * (len(bands.edges) + 2), customer_id=cid))
        line.buckets[index] += int(amount)
        line.invoices += int(n)
    chosen = sorted(lines.values(), key=lambda line: (-line.open_minor, str(line.customer_id)))[:top]
    names = dict(conn.execute(sa.select(customers.c.customer_id, customers.c.name)
                              .where(customers.c.customer_id.in_([line.customer_id for line in chosen]))).all())
    for line in chosen:
        line.name = names.get(line.customer_id)
    return chosen

