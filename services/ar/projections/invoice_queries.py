"""Queries on the invoices read model. `as_of` always comes from the caller: no now() in SQL."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.errors import DomainRuleViolation
from ar.domain.lifecycle import DISPUTED, PAYMENT_SENT, REFUSED, REJECTED, SUSPENDED, LifecycleState
from ar.projections.tables import invoices as t

# An e-invoice platform's statuses about an invoice as the read models name them (`lifecycle_status`)
LIFECYCLE_NAMES = {DISPUTED: "disputed", SUSPENDED: "suspended", REFUSED: "refused", PAYMENT_SENT: "payment_sent",
                   REJECTED: "invalid"}


def last_platform_status(lifecycle: LifecycleState) -> tuple[str, str] | None:
    """The last status a platform sent about the invoice, (name, code); None when none came (ours, 212, aside)."""
    received = [e for e in lifecycle.entries if e.direction == "in"]
    if not received:
        return None
    code = received[-1].code
    return LIFECYCLE_NAMES.get(code, code), code


def parse_lifecycle(values: list[str]) -> tuple[str, ...]:
    """The `lifecycle` filter: names repeated or separated by commas; an unknown one is the caller's mistake."""
    names = tuple(dict.fromkeys(v.strip() for value in values for v in value.split(",") if v.strip()))
    unknown = [n for n in names if n not in LIFECYCLE_NAMES.values()]
    if unknown:
        raise DomainRuleViolation(f"unknown lifecycle status {unknown[0][:40]!r}; known: "
                                  f"{', '.join(LIFECYCLE_NAMES.values())}", field="lifecycle")
    return names


@dataclass(frozen=True)
class InvoiceFilter:
    as_of: date
    customer_id: UUID | None = None
    statuses: tuple[str, ...] = ()
    currency: str | None = None
    series: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None
    external_id: str | None = None
    number: str | None = None
    lifecycle: tuple[str, ...] = ()  # the platform's last status (`lifecycle_status`), any of these


def encode_cursor(issued_on: date, number: str) -> str:
    return base64.urlsafe_b64encode(f"{issued_on.isoformat()}|{number}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[date, str]:
    try:
        issued, number = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        if not number.isprintable():  # a crafted cursor must not carry a NUL or a control character to the database
            raise ValueError(number)
        return date.fromisoformat(issued), number
    except ValueError:
        raise DomainRuleViolation("not a cursor returned by this list", field="cursor") from None


def list_invoices(engine: sa.Engine, f: InvoiceFilter, cursor: str | None,
                  limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first (issue date, then number), keyset-paginated so pages stay stable as invoices arrive."""
    query = sa.select(t).order_by(t.c.issued_on.desc(), t.c.number.desc()).limit(limit + 1)
    conditions = [
        t.c.customer_id == f.customer_id if f.customer_id else None,
        t.c.status.in_(f.statuses) if f.statuses else None,
        t.c.currency == f.currency if f.currency else None,
        t.c.series == f.series if f.series else None,
        t.c.due_on >= f.due_from if f.due_from else None,
        t.c.due_on <= f.due_to if f.due_to else None,
        t.c.external_id == f.external_id if f.external_id else None,
        t.c.number == f.number if f.number else None,
        t.c.lifecycle_status.in_(f.lifecycle) if f.lifecycle else None,
    ]
    if f.overdue is not None:
        overdue = (t.c.open_minor > 0) & (t.c.due_on < f.as_of)
        conditions.append(overdue if f.overdue else ~overdue)
    if cursor:
        issued_on, number = decode_cursor(cursor)
        conditions.append(sa.tuple_(t.c.issued_on, t.c.number) < sa.tuple_(sa.literal(issued_on), sa.literal(number)))
    query = query.where(*[c for c in conditions if c is not None])
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["issued_on"], rows[-1]["number"]) if more and rows else None
    return rows, next_cursor
