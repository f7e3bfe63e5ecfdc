"""An early-payment discount in the read models: the invoice row paid, the ledger and balances settled from the
payment's value date, a withdrawn discount open again; rebuilt from event 1, the same rows. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

from tests.integration.test_read_models import READ_MODELS, assert_balances_add_up, issue, pay, table_rows

from ar.domain.customer import Language
from ar.domain.payment import PaymentMethod
from ar.domain.terms import CustomerKind, EarlyPaymentDiscount, PaymentTerms
from ar.projections.tables import invoices, ledger_entries
from ar.runtime import Runtime

ISSUED_ON = date(2026, 2, 10)  # the window's last day: 20 February


def test_a_discount_taken_and_one_withdrawn_rebuild_to_the_same_rows(runtime: Runtime) -> None:
    customer = runtime.app.register_customer(
        customer_id=uuid4(), name="Escompte SARL", kind=CustomerKind.PROFESSIONAL, country="FR",
        language=Language.FR, emails=[], terms=PaymentTerms(discount=EarlyPaymentDiscount(Decimal(2), 10)),
        credit_limit=None, external_id=None).aggregate
    taken = issue(runtime, customer.id, 120_000, issued_on=ISSUED_ON)
    pay(runtime, customer.id, 117_600, allocations=((taken.id, 117_600),), value_on=date(2026, 2, 20))
    withdrawn = issue(runtime, customer.id, 60_000, issued_on=ISSUED_ON)
    debit = pay(runtime, customer.id, 58_800, allocations=((withdrawn.id, 58_800),), value_on=date(2026, 2, 12),
                method=PaymentMethod.DIRECT_DEBIT)
    runtime.app.return_payment(debit.id, reason="MD06")

    assert assert_balances_add_up(runtime)[(customer.id, "EUR")] == (60_000, 60_000)
    rows = {r["invoice_id"]: r for r in table_rows(runtime, invoices)}
    assert (rows[taken.id]["status"], rows[taken.id]["open_minor"]) == ("paid", 0)
    assert (rows[withdrawn.id]["status"], rows[withdrawn.id]["open_minor"]) == ("issued", 60_000)
    discounts = [(r["invoice_id"], r["kind"], r["effective_on"], r["invoice_delta_minor"])
                 for r in table_rows(runtime, ledger_entries) if "discount" in r["kind"]]
    assert sorted(discounts, key=lambda d: (d[0] != taken.id, d[3])) == [
        (taken.id, "early_payment_discount", date(2026, 2, 20), -2_400),
        (withdrawn.id, "early_payment_discount", date(2026, 2, 12), -1_200),
        (withdrawn.id, "discount_withdrawn", runtime.clock.today(), 1_200)]

    incremental = {t.name: table_rows(runtime, t) for t in READ_MODELS}
    runtime.projections.rebuild("receivables")
    for table in READ_MODELS:
        assert table_rows(runtime, table) == incremental[table.name], table.name
