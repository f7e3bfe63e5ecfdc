"""Receivables KPIs over a period, computed from the ledger as of the period's last day.

Definitions (also on the OpenAPI page, from this docstring):
- invoiced: invoices issued in the period, incl. VAT, net of deposits deducted.
- DSO (simple): receivables at the end / invoiced in the period x days in the period.
- average days to pay / late: over invoices settled in the period (last payment in it, nothing left open):
  paid date - issue date, and max(0, paid date - due date). A payment counts from its value date.
- unpaid rate: what is overdue at the end on invoices issued in the period / invoiced in the period.
- overdue amount: open amounts past their due date at the end.
- CEI (collection effectiveness index): (receivables at the start + invoiced - receivables at the end) /
  (receivables at the start + invoiced - current receivables at the end) x 100.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.errors import DomainRuleViolation
from ar.projections.tables import customers, invoices, ledger_entries

TWO = Decimal("0.01")


def _ratio(numerator: int | Decimal, denominator: int, scale: int = 1) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) * scale / denominator).quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass
class Kpis:
    currency: str
    invoiced_minor: int = 0
    receivables_start_minor: int = 0
    receivables_end_minor: int = 0
    current_end_minor: int = 0
    overdue_minor: int = 0
    overdue_on_period_invoices_minor: int = 0
    settled: int = 0
    settled_late: int = 0
    days_to_pay_total: int = 0
    days_late_total: int = 0
    days: int = 0
    customer_id: UUID | None = None
    name: str | None = None
    credit_limit_minor: int | None = None

    def as_dict(self) -> dict[str, Any]:
        collected = self.receivables_start_minor + self.invoiced_minor - self.receivables_end_minor
        collectable = self.receivables_start_minor + self.invoiced_minor - self.current_end_minor
        return {
            "currency": self.currency, "customer_id": self.customer_id, "name": self.name,
            "invoiced_minor": self.invoiced_minor, "receivables_start_minor": self.receivables_start_minor,
            "receivables_end_minor": self.receivables_end_minor, "overdue_minor": self.overdue_minor,
            "dso_days": _ratio(self.receivables_end_minor * self.days, self.invoiced_minor),
            "average_days_to_pay": _ratio(self.days_to_pay_total, self.settled),
            "average_days_late": _ratio(self.days_late_total, self.settled),
            "share_paid_late_percent": _ratio(self.settled_late, self.settled, 100),
            "unpaid_rate_percent": _ratio(self.overdue_on_period_invoices_minor, self.invoiced_minor, 100),
            "cei_percent": _ratio(collected, collectable, 100),
            "invoices_settled": self.settled,
            "credit_limit_minor": self.credit_limit_minor,
            "overdue_to_credit_limit_percent": _ratio(self.overdue_minor, self.credit_limit_minor or 0, 100),
        }


@dataclass
class KpiReport:
    from_on: date
    to_on: date
    totals: list[Kpis] = field(default_factory=list)
    customers: list[Kpis] = field(default_factory=list)


def kpis(engine: sa.Engine, *, from_on: date, to_on: date, currency: str | None = None,
         customer_id: UUID | None = None, per_customer: bool = False) -> KpiReport:
    if to_on < from_on:
        raise DomainRuleViolation("`to` is before `from`", field="to")
    e, i = ledger_entries.c, invoices.c
    conditions = [e.invoice_id.is_not(None), e.effective_on <= to_on]
    if currency:
        conditions.append(e.currency == currency)
    if customer_id:
        conditions.append(e.customer_id == customer_id)
    allocated = e.kind == "payment_allocated"
    per_invoice = (
        sa.select(
            e.invoice_id, e.customer_id, e.currency, i.issued_on, i.due_on,
            sa.func.sum(e.invoice_delta_minor).label("open_end"),
            sa.func.sum(sa.case((e.effective_on < from_on, e.invoice_delta_minor), else_=0)).label("open_start"),
            sa.func.sum(sa.case((e.kind == "invoice", e.invoice_delta_minor), else_=0)).label("invoiced"),
            sa.func.max(sa.case((allocated, e.effective_on))).label("paid_on"),
        )
        .select_from(ledger_entries.join(invoices, invoices.c.invoice_id == e.invoice_id))
        .where(*conditions)
        .group_by(e.invoice_id, e.customer_id, e.currency, i.issued_on, i.due_on)
    )
    report = KpiReport(from_on, to_on)
    totals: dict[str, Kpis] = {}
    by_customer: dict[tuple[UUID, str], Kpis] = {}
    days = (to_on - from_on).days + 1
    with engine.connect() as conn:
        for row in conn.execute(per_invoice):
            targets = [totals.setdefault(row.currency, Kpis(row.currency, days=days))]
            if per_customer:
                targets.append(by_customer.setdefault((row.customer_id, row.currency),
                                                      Kpis(row.currency, days=days, customer_id=row.customer_id)))
            for k in targets:
                _add(k, row, from_on, to_on)
        if per_customer and by_customer:
            found = conn.execute(sa.select(customers.c.customer_id, customers.c.name, customers.c.credit_limit_minor,
                                           customers.c.credit_limit_currency)
                                 .where(customers.c.customer_id.in_({c for c, _ in by_customer}))).all()
            for cid, name, limit, limit_currency in found:
                for (kc, cur), k in by_customer.items():
                    if kc == cid:
                        k.name = name
                        k.credit_limit_minor = limit if limit_currency == cur else None
    report.totals = [totals[c] for c in sorted(totals)]
    report.customers = sorted(by_customer.values(), key=lambda k: (-k.overdue_minor, str(k.customer_id)))
    return report


def _add(k: Kpis, row: Any, from_on: date, to_on: date) -> None:
    open_end, issued_in_period = int(row.open_end), from_on <= row.issued_on <= to_on
    k.receivables_start_minor += int(row.open_start)
    k.receivables_end_minor += open_end
    if issued_in_period:
        k.invoiced_minor += int(row.invoiced)
    if row.due_on >= to_on:
        k.current_end_minor += open_end
    elif open_end > 0:
        k.overdue_minor += open_end
        if issued_in_period:
            k.overdue_on_period_invoices_minor += open_end
    if open_end == 0 and row.paid_on is not None and from_on <= row.paid_on <= to_on:
        k.settled += 1
        k.days_to_pay_total += (row.paid_on - row.issued_on).days
        late = max(0, (row.paid_on - row.due_on).days)
        k.days_late_total += late
        k.settled_late += late > 0
