"""Payer accounts: the IBANs a confirmed bank match taught ar, each the customer's it was learned for (the
`Customer.PayerAccountLearned` events; an IBAN learned again for another customer is that customer's now). The
bank import reads it (`bank_queries.BankLookups.customer_of`) to match a known payer's credit by amount."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ar.domain.customer import Customer
from ar.projections.sql import upsert
from ar.projections.topics import event_topics

metadata = sa.MetaData()

payer_accounts = sa.Table(
    "payer_accounts",
    metadata,
    sa.Column("iban", sa.String(34), primary_key=True),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
)


class PayerAccountsProjection:
    name = "payer_accounts"

    @property
    def topics(self) -> tuple[str, ...]:
        return event_topics(Customer.PayerAccountLearned)

    def apply(self, conn: sa.Connection, events: list[tuple[int, Any]]) -> None:
        for _position, event in events:
            if isinstance(event, Customer.PayerAccountLearned):
                upsert(conn, payer_accounts, [{"iban": event.iban, "customer_id": event.originator_id,
                                               "learned_at": event.at}], ["iban"])

    def reset(self, conn: sa.Connection) -> None:
        conn.execute(payer_accounts.delete())
