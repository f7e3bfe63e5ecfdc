"""Aging: open invoice amounts by days past due, as of a business date and as known at a recording time.

As of a date: today's open amounts (`open_totals`, `open_by_due`, `customer_balances`) minus the aging steps that took
effect after that date (`aging_steps`, `customer_aging_steps`, `customer_open_months`: sums of ledger deltas, so the
bands add up to the open total to the cent). As known at a recording time: from the ledger entries, invoice by
invoice, since only they carry their recording time."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.errors import DomainRuleViolation
from ar.projections.tables import (
    aging_steps,
    customer_aging_steps,
    customer_balances,
    customer_open_months,
    customers,
    invoices,
    ledger_entries,
    open_by_due,
    open_totals,
)
from ar.reports.bands import Bands, band


@dataclass
class AgingLine:
    currency: str
    buckets: list[int]
    invoices: int = 0
    customer_id: UUID | None = None
    name: str | None = None
    # of the open amount, what invoices the buyer refused (210) or its platform rejected (213) make up: still owed
    # until credited, so counted in the bands, but not to be chased (`refused_minor`, in `refused_invoices`)
    refused_minor: int = 0
    refused_invoices: int = 0

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
    with engine.connect() as conn:
        return aging_on(conn, as_of=as_of, known_at=known_at, bands=bands, currency=currency,
                        customer_id=customer_id, top=top)


def aging_on(conn: sa.Connection, *, as_of: date, known_at: datetime | None, bands: Bands, currency: str | None,
             customer_id: UUID | None, top: int) -> AgingReport:
    """The aging on an open connection (a statement reads its aging on its own connection)."""
    report = _aging_on(conn, as_of=as_of, known_at=known_at, bands=bands, currency=currency,
                       customer_id=customer_id, top=top)
    _mark_refused(conn, report, currency, customer_id)
    return report


def refused_open(conn: sa.Connection, *, as_of: date, known_at: datetime | None, currency: str | None = None,
                 customer_id: UUID | None = None) -> list[tuple[UUID, UUID, str, int]]:
    """(invoice_id, customer_id, currency, open_minor) of each invoice refused (210) or invalid (213) and still
    open as of `as_of` (as known at `known_at`): from its ledger entries, as every open amount here. The refusal is
    the one known now (`invoices.lifecycle_verdict`): few invoices have one, found through their own index."""
    i, e = invoices.c, ledger_entries.c
    found: list[sa.ColumnElement[bool]] = [i.lifecycle_status.is_not(None), i.lifecycle_verdict.is_not(None)]
    if customer_id is not None:
        found.append(i.customer_id == customer_id)
    if currency is not None:
        found.append(i.currency == currency)
    ids = list(conn.scalars(sa.select(i.invoice_id).where(*found)))
    if not ids:
        return []
    conditions = [e.invoice_id.in_(ids), e.effective_on <= as_of]
    if known_at is not None:
        conditions.append(e.recorded_at <= known_at)
    amount = sa.func.sum(e.invoice_delta_minor)
    rows = conn.execute(sa.select(e.invoice_id, e.customer_id, e.currency, amount).where(*conditions)
                        .group_by(e.invoice_id, e.customer_id, e.currency).having(amount > 0))
    return [(invoice_id, cid, cur, int(open_minor)) for invoice_id, cid, cur, open_minor in rows]


def _mark_refused(conn: sa.Connection, report: AgingReport, currency: str | None, customer_id: UUID | None) -> None:
    """A flag, not a filter: the bands keep a refused invoice (the ledger and the balance still hold it until a
    credit note cancels it), and each line says how much of it is refused, so nobody chases that part."""
    refused = refused_open(conn, as_of=report.as_of, known_at=report.known_at, currency=currency,
                           customer_id=customer_id)
    totals = {line.currency: line for line in report.totals}
    lines = {(line.customer_id, line.currency): line for line in report.customers}
    for _, cid, cur, open_minor in refused:
        for line in (totals.get(cur), lines.get((cid, cur))):
            if line is not None:
                line.refused_minor += open_minor
                line.refused_invoices += 1


def _aging_on(conn: sa.Connection, *, as_of: date, known_at: datetime | None, bands: Bands, currency: str | None,
              customer_id: UUID | None, top: int) -> AgingReport:
    report = AgingReport(as_of=as_of, known_at=known_at, bands=bands)
    if known_at is not None:  # what was recorded by then: only the ledger has recording times
        _from_ledger(conn, report, currency, customer_id, top)
        return report
    params = {"as_of": as_of, "currency": currency, **_band_params(bands, as_of)}
    edges, by_currency = len(bands.edges), currency is not None
    if customer_id is not None:  # one customer: its lines are the totals, in one query
        rows = conn.execute(_lines_query(edges, by_currency, named=True),
                            {**params, "ids": [customer_id], "customer_id": customer_id}).all()
        report.customers = _customer_lines(rows, bands)[:top]
        for line in report.customers:
            line.name = rows[0][5]
        report.totals = [AgingLine(line.currency, line.buckets, line.invoices) for line in report.customers]
        return report
    lows = bands.thresholds(as_of)  # a few thousand (currency, due date) cells: banded here, not by a CASE per row
    cells = [(cur, band(due_on, lows), amount, n) for cur, due_on, amount, n in conn.execute(
        _totals_query(by_currency), params)]
    report.totals = [line for _, line in sorted(_lines(cells, bands).items())]
    if top > 0:
        later = conn.scalar(_later_query(), params) is not None
        biggest = list(dict.fromkeys(conn.scalars(_ranking_query(by_currency, as_of_past=later), {
            **params, "top": top, "next_month": (as_of.replace(day=1) + timedelta(days=32)).replace(day=1)})))
        if biggest:
            lines = _customer_lines(conn.execute(_lines_query(edges, by_currency, named=False),
                                                 {**params, "ids": biggest}).all(), bands)
            report.customers = lines[:top]
            names = dict(conn.execute(sa.select(customers.c.customer_id, customers.c.name).where(
                customers.c.customer_id.in_([line.customer_id for line in report.customers]))).all())
            for line in report.customers:
                line.name = names.get(line.customer_id)
    return report


# The statements are built once per shape and run with parameters: building a SQLAlchemy statement costs more
# client time than one customer's query takes on the server.
def _band_params(bands: Bands, as_of: date) -> dict[str, date]:
    """The thresholds after `as_of` as the parameters `edge_<i>` of `_band`."""
    return {f"edge_{i}": low for i, low in enumerate(bands.thresholds(as_of)[1:])}


def _band(due_on: sa.ColumnElement[date], edges: int) -> sa.ColumnElement[int]:
    """`band` with the thresholds as parameters: `as_of`, then `edge_<i>` (as_of minus the i-th edge)."""
    return band(due_on, [sa.bindparam("as_of", type_=sa.Date),
                         *(sa.bindparam(f"edge_{i}", type_=sa.Date) for i in range(edges))])


def _of_currency(columns: Any, by_currency: bool) -> list[Any]:
    return [columns.currency == sa.bindparam("currency", type_=sa.String)] if by_currency else []


def _after_as_of(columns: Any) -> Any:
    return columns.effective_on > sa.bindparam("as_of", type_=sa.Date)


@functools.cache
def _totals_query(by_currency: bool) -> sa.Select[Any]:
    """Open amounts per currency and due date: today's open totals minus the steps after as_of (none for today)."""
    t, steps = open_totals.c, aging_steps.c
    cells = sa.union_all(
        sa.select(t.currency, t.due_on, t.open_minor, t.invoices).where(*_of_currency(t, by_currency)),
        sa.select(steps.currency, steps.due_on, (-steps.open_minor).label("open_minor"),
                  (-steps.invoices).label("invoices")).where(_after_as_of(steps), *_of_currency(steps, by_currency)),
    ).subquery()
    c = cells.c
    return (sa.select(c.currency, c.due_on, sa.func.sum(c.open_minor), sa.func.sum(c.invoices))
            .group_by(c.currency, c.due_on))


@functools.cache
def _lines_query(edges: int, by_currency: bool, named: bool) -> sa.Select[Any]:
    """The lines of the customers `ids`: today's open_by_due minus their steps after as_of; `named`: one customer,
    with its name in the same round trip."""
    o, steps = open_by_due.c, customer_aging_steps.c
    ids = sa.bindparam("ids", expanding=True, type_=sa.Uuid)
    cells = sa.union_all(
        sa.select(o.customer_id, o.currency, o.due_on, o.open_minor, o.invoices)
        .where(o.customer_id.in_(ids), *_of_currency(o, by_currency)),
        sa.select(steps.customer_id, steps.currency, steps.due_on, (-steps.open_minor).label("open_minor"),
                  (-steps.invoices).label("invoices"))
        .where(steps.customer_id.in_(ids), _after_as_of(steps), *_of_currency(steps, by_currency)),
    ).subquery()
    c = cells.c
    banded = _band(c.due_on, edges).label("band")
    columns: list[Any] = [c.customer_id, c.currency, banded, sa.func.sum(c.open_minor), sa.func.sum(c.invoices)]
    if named:
        columns.append(sa.select(customers.c.name).where(
            customers.c.customer_id == sa.bindparam("customer_id", type_=sa.Uuid)).scalar_subquery().label("name"))
    return sa.select(*columns).group_by(c.customer_id, c.currency, banded)


@functools.cache
def _later_query() -> sa.Select[Any]:
    steps = aging_steps.c
    return sa.select(steps.effective_on).where(_after_as_of(steps)).limit(1)


@functools.cache
def _ranking_query(by_currency: bool, as_of_past: bool) -> sa.Select[Any]:
    """The customers of the `top` largest open balances (per currency) as of `as_of`."""
    b = customer_balances.c
    top = sa.bindparam("top", type_=sa.Integer)
    if not as_of_past:  # nothing took effect after as_of: today's balances, from their index
        return (sa.select(b.customer_id).where(b.open_minor > 0, *_of_currency(b, by_currency))
                .order_by(b.open_minor.desc(), b.customer_id).limit(top))
    # today's balances minus whole months after as_of, minus the rest of as_of's month from the ledger
    next_month = sa.bindparam("next_month", type_=sa.Date)
    m, e = customer_open_months.c, ledger_entries.c
    moves = sa.union_all(
        sa.select(b.customer_id, b.currency, b.open_minor).where(*_of_currency(b, by_currency)),
        sa.select(m.customer_id, m.currency, (-m.open_minor).label("open_minor"))
        .where(m.month >= next_month, *_of_currency(m, by_currency)),
        sa.select(e.customer_id, e.currency, (-e.invoice_delta_minor).label("open_minor"))
        .where(_after_as_of(e), e.effective_on < next_month, e.invoice_id.is_not(None), e.invoice_delta_minor != 0,
               *_of_currency(e, by_currency)),
    ).subquery()
    amount = sa.func.sum(moves.c.open_minor)
    return (sa.select(moves.c.customer_id).group_by(moves.c.customer_id, moves.c.currency).having(amount > 0)
            .order_by(amount.desc(), moves.c.customer_id).limit(top))


def _lines(rows: Any, bands: Bands) -> dict[Any, AgingLine]:
    """Lines from (key..., band, amount, invoices) rows; a line with no open invoice is left out."""
    lines: dict[Any, AgingLine] = {}
    for *key, index, amount, n in rows:
        if not amount and not n:
            continue
        line = lines.setdefault(tuple(key), AgingLine(key[-1], [0] * (len(bands.edges) + 2)))
        line.buckets[index] += int(amount)
        line.invoices += int(n)
    return {k: line for k, line in lines.items() if line.invoices}


def _customer_lines(rows: Any, bands: Bands) -> list[AgingLine]:
    """Customer lines from (customer_id, currency, band, amount, invoices[, name]) rows, largest first."""
    lines = _lines([r[:5] for r in rows], bands)
    for (cid, _cur), line in lines.items():
        line.customer_id = cid
    return sorted(lines.values(), key=lambda line: (-line.open_minor, str(line.customer_id)))


def _from_ledger(conn: sa.Connection, report: AgingReport, currency: str | None, customer_id: UUID | None,
                 top: int) -> None:
    """As known at a recording time: each invoice's open amount summed from its ledger entries."""
    as_of, bands, known_at = report.as_of, report.bands, report.known_at
    e = ledger_entries.c  # filters go inside, so the ledger is read through its indexes
    inner = [c for c in (e.currency == currency if currency else None,
                         e.customer_id == customer_id if customer_id else None) if c is not None]
    source = _open_items(as_of, known_at, inner)
    count = sa.literal(1)
    s = source.c
    banded = band(s.due_on, bands.thresholds(as_of)).label("band")
    filters = [c for c in (s.currency == currency if currency else None,
                           s.customer_id == customer_id if customer_id else None) if c is not None]
    if customer_id is not None:
        report.customers = _top_debtors(conn, source, banded, count, filters, bands, top)
        report.totals = [AgingLine(line.currency, line.buckets, line.invoices) for line in report.customers]
        return
    totals = conn.execute(sa.select(s.currency, banded, sa.func.sum(s.open_minor), sa.func.sum(count))
                          .where(*filters).group_by(s.currency, banded))
    by_currency: dict[str, AgingLine] = {}
    for cur, index, amount, n in totals:
        line = by_currency.setdefault(cur, AgingLine(cur, [0] * (len(bands.edges) + 2)))
        line.buckets[index] += int(amount)
        line.invoices += int(n)
    report.totals = sorted(by_currency.values(), key=lambda line: line.currency)
    report.customers = _top_debtors(conn, source, banded, count, filters, bands, top)


def _top_debtors(conn: sa.Connection, source: Any, banded: Any, count: Any, filters: list[Any], bands: Bands,
                 top: int) -> list[AgingLine]:
    s = source.c
    rows = conn.execute(sa.select(s.customer_id, s.currency, banded, sa.func.sum(s.open_minor), sa.func.sum(count))
                        .where(*filters).group_by(s.customer_id, s.currency, banded))
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
