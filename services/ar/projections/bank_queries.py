"""The bank import's port onto the read models (`ar.application.ports.BankCandidates`): whose IBAN a payer's is,
whose account number a customer reference carries, open invoices near an amount. Each catches up the read model it
reads first (as `lookups.py` does); a stopped one is read as it is, so a candidate may be missing: the credit then
waits for a person."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.money import Money
from ar.projections.payer_accounts import payer_accounts
from ar.projections.tables import invoices

NEAR = 0.2      # open amounts within 20 % of the credit
NEAR_LIMIT = 10


class BankLookups:
    def __init__(self, engine: sa.Engine, *, accounts_caught_up: Callable[[], Any],
                 invoices_caught_up: Callable[[], Any]) -> None:
        self.engine = engine
        self.accounts_caught_up, self.invoices_caught_up = accounts_caught_up, invoices_caught_up

    def customer_of(self, iban: str) -> UUID | None:
        self.accounts_caught_up()
        with self.engine.connect() as conn:
            found: UUID | None = conn.scalar(sa.select(payer_accounts.c.customer_id).where(
                payer_accounts.c.iban == iban.replace(" ", "").upper()))
            return found

    def near_amount(self, amount: Money) -> list[UUID]:
        self.invoices_caught_up()
        low, high = int(amount.minor * (1 - NEAR)), int(amount.minor * (1 + NEAR)) + 1
        with self.engine.connect() as conn:
            return list(conn.scalars(
                sa.select(invoices.c.invoice_id)
                .where(invoices.c.currency == amount.currency, invoices.c.open_minor.between(low, high))
                .order_by(sa.func.abs(invoices.c.open_minor - amount.minor), invoices.c.due_on)
                .limit(NEAR_LIMIT)))

    def customer_by_account(self, account_number: str) -> UUID | None:
        """An account number is the first ten hex digits of the customer's id: the ids between that prefix followed
        by zeros and by f's, a range of the customer index (on a uuid column and on SQLite's hex text alike). Read
        from the invoices (a customer with none has no balance to pay); two customers sharing the prefix (one
        chance in 10^12 per pair): neither."""
        prefix = account_number.lower()
        if len(prefix) != 10 or any(c not in "0123456789abcdef" for c in prefix):
            return None
        self.invoices_caught_up()
        low, high = UUID(prefix + "0" * 22), UUID(prefix + "f" * 22)
        with self.engine.connect() as conn:
            found = list(conn.scalars(sa.select(invoices.c.customer_id).distinct()
                                      .where(invoices.c.customer_id.between(low, high)).limit(2)))
        return found[0] if len(found) == 1 else None
