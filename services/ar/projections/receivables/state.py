"""What a batch (or a whole rebuild) accumulates before writing: the invoice and payment rows, each invoice's
deltas by effective date, and the deltas of the summary tables as typed cells."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

from ar.projections.receivables.bulk import Rows
from ar.projections.tables import invoices, payments

new_tuple: Any = tuple.__new__  # builds a NamedTuple without its __new__'s argument handling: the hot path


class Cell(NamedTuple):
    """A summary cell's deltas: the open amount and the count of open invoices."""

    open_minor: int = 0
    invoices: int = 0

    def plus(self, open_minor: int, invoices: int) -> Cell:
        cell: Cell = new_tuple(Cell, (self[0] + open_minor, self[1] + invoices))  # faster than Cell(...)
        return cell


class Balance(NamedTuple):
    """A customer balance's deltas: what its invoices leave open, and its account (open less unapplied cash)."""

    open_minor: int = 0
    account_minor: int = 0


ZERO, NO_BALANCE = Cell(), Balance()


def add(cells: dict[Any, Cell], key: Any, open_minor: int, invoices: int) -> None:
    cells[key] = cells.get(key, ZERO).plus(open_minor, invoices)


class State:
    """What a batch (or, during a rebuild, the whole rebuild) accumulates before writing: rows of invoices and
    payments, each invoice's deltas by effective date, and the deltas of the summary tables."""

    def __init__(self) -> None:
        self.invoices = Rows(invoices, invoices.c.invoice_id)
        self.payments = Rows(payments, payments.c.payment_id)
        self.histories: dict[UUID, list[tuple[date, int]]] = {}
        self.by_due: dict[tuple[UUID, str, date], Cell] = {}
        self.balances: dict[tuple[UUID, str], Balance] = {}
        self.steps: dict[tuple[UUID, str, date, date], Cell] = {}
        self.months: defaultdict[tuple[UUID, str, date], int] = defaultdict(int)
        # one object per customer id, currency, date... kept by many rows (each event decodes its own copies)
        self.shared: dict[Any, Any] = {}
