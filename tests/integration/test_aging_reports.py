"""Aging, statements and KPIs read from the ledger: numbers checked by hand, past reports reproduced exactly."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

import ar.reports.aging as aging_module
from ar.adapters.clocks import SettableClock
from ar.domain.clock import BUSINESS_TZ
from ar.domain.customer import Language
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine
from ar.projections.tables import customer_balances, invoices
from ar.reports.aging import AgingLine, AgingReport, Bands, aging
from ar.reports.kpis import kpis
from ar.reports.statement import statement
from ar.runtime import Runtime

TODAY = date(2026, 3, 2)  # the `clock` fixture's business date
DAY = timedelta(days=1)
FAR = datetime(2100, 1, 1, tzinfo=BUSINESS_TZ)  # a known_at after everything: forces the ledger path


def money(minor: int, currency: str = "EUR") -> Money:
    return Money(minor, currency)


def issue(runtime: Runtime, customer_id: UUID, minor: int, *, currency: str = "EUR", issued_on: date | None = None,
          due_on: date | None = None) -> Invoice:
    """Due dates are the test's ladder, some beyond the legal maximum: stated as a derogation."""
    total = money(minor, currency)
    return runtime.app.issue_invoice(
        invoice_id=uuid4(), series="F2026", customer_id=customer_id, total=total,
        vat=[VatLine(Decimal(0), total, money(0, currency))], issued_on=issued_on, due_on=due_on,
        due_on_derogation="aging ladder" if due_on else None).aggregate


def pay(runtime: Runtime, customer_id: UUID, minor: int, *, currency: str = "EUR",
        allocations: tuple[tuple[UUID, int], ...] = (), method: PaymentMethod = PaymentMethod.TRANSFER,
        value_on: date | None = None) -> Payment:
    return runtime.app.record_payment(
        payment_id=uuid4(), customer_id=customer_id, amount=money(minor, currency), method=method,
        value_on=value_on, allocations=[(i, money(m, currency)) for i, m in allocations]).aggregate


def report(runtime: Runtime, **kwargs: Any) -> AgingReport:
    runtime.projections.catch_up()
    return aging(runtime.engine, **kwargs)


def figures(r: AgingReport) -> tuple[list[AgingLine], list[AgingLine]]:
    """What a reader sees: the totals and the customer lines (not the as_of / known_at echoed back)."""
    return r.totals, r.customers


def band_index(due_on: date, as_of: date, edges: tuple[int, ...]) -> int:
    """Days past due, then the first band whose upper edge holds them (0: not due yet, due today included)."""
    late = (as_of - due_on).days
    if late <= 0:
        return 0
    return next((i + 1 for i, edge in enumerate(edges) if late <= edge), len(edges) + 1)


def expected_buckets(runtime: Runtime, as_of: date, edges: tuple[int, ...]) -> dict[tuple[UUID, str], list[int]]:
    """Buckets per customer and currency from the invoices read model (valid when nothing took effect after as_of)."""
    with runtime.engine.connect() as conn:
        rows = conn.execute(sa.select(invoices).where(invoices.c.open_minor != 0)).mappings().all()
    out: dict[tuple[UUID, str], list[int]] = {}
    for row in rows:
        buckets = out.setdefault((row["customer_id"], row["currency"]), [0] * (len(edges) + 2))
        buckets[band_index(row["due_on"], as_of, edges)] += row["open_minor"]
    return out


def assert_adds_up(runtime: Runtime, r: AgingReport) -> None:
    """Each customer line adds up to that customer's open amount; the totals to the sum of open invoices."""
    with runtime.engine.connect() as conn:
        open_by_customer = {(c, cur): int(v) for c, cur, v in conn.execute(
            sa.select(invoices.c.customer_id, invoices.c.currency, sa.func.sum(invoices.c.open_minor))
            .group_by(invoices.c.customer_id, invoices.c.currency))}
        balances = {(r_.customer_id, r_.currency): r_.open_minor for r_ in conn.execute(sa.select(customer_balances))}
    for line in r.customers:
        assert sum(line.buckets) == open_by_customer[(line.customer_id, line.currency)]
        assert sum(line.buckets) == balances[(line.customer_id, line.currency)]
    for total in r.totals:
        assert sum(total.buckets) == sum(v for (_, cur), v in open_by_customer.items() if cur == total.currency)
        assert sum(total.buckets) == sum(sum(line.buckets) for line in r.customers if line.currency == total.currency)


# Buckets, bands, currencies, fast path ---------------------------------------------------------------------------
AS_OF = date(2026, 6, 30)
# (due date, total, paid today, band at AS_OF with 30/60/90); odd cents so a lost cent shows
LADDER = [
    (date(2026, 7, 15), 10_001, 0, 0), (date(2026, 6, 30), 20_002, 2, 0),  # due later; due on the day itself
    (date(2026, 6, 29), 30_003, 0, 1), (date(2026, 5, 31), 40_004, 4, 1),  # 1 and 30 days late
    (date(2026, 5, 30), 50_005, 0, 2), (date(2026, 5, 1), 60_006, 6, 2),  # 31 and 60
    (date(2026, 4, 30), 70_007, 0, 3), (date(2026, 4, 1), 80_008, 8, 3),  # 61 and 90
    (date(2026, 3, 31), 90_009, 0, 4),  # 91
]


def ladder(runtime: Runtime, desk) -> tuple[UUID, UUID]:
    """The LADDER spread over two customers, plus an invoice credited in full (nothing left to age)."""
    martin, dupont = desk.customer(name="Martin"), desk.customer(name="Dupont")
    for n, (due_on, total, paid, _) in enumerate(LADDER):
        customer = (martin, dupont)[n % 2]
        invoice = issue(runtime, customer.id, total, due_on=due_on)
        if paid:
            pay(runtime, customer.id, paid, allocations=((invoice.id, paid),))
    credited = issue(runtime, martin.id, 12_345)
    runtime.app.issue_credit_note(credited.id, amount=money(12_345), reason="annulation", series="AV")
    return martin.id, dupont.id


def test_aging_puts_each_open_amount_in_its_band_and_adds_up_to_the_cent(runtime: Runtime, desk) -> None:
    martin, dupont = ladder(runtime, desk)

    r = report(runtime, as_of=AS_OF)

    by_band = [0] * 5
    for _, total, paid, band in LADDER:
        by_band[band] += total - paid
    assert by_band == [30_001, 70_003, 110_005, 150_007, 90_009]
    assert Bands().labels == ["not_due", "1-30", "31-60", "61-90", "over_90"]
    assert r.totals == [AgingLine("EUR", by_band, invoices=9)]
    assert {(line.customer_id, line.name): line.buckets for line in r.customers} == {
        (martin, "Martin"): [10_001, 30_003, 50_005, 70_007, 90_009],
        (dupont, "Dupont"): [20_000, 40_000, 60_000, 80_000, 0],
    }
    assert sum(sum(line.buckets) for line in r.customers) == 450_025
    assert_adds_up(runtime, r)


def test_aging_by_any_bands_on_any_date_matches_days_past_due(runtime: Runtime, desk) -> None:
    ladder(runtime, desk)
    assert figures(report(runtime, as_of=date(2026, 3, 1))) == ([], [])  # the day before anything was issued

    for as_of, edges in ((TODAY, (30, 60, 90)), (date(2026, 5, 15), (30, 60, 90)), (AS_OF, (15, 45)),
                         (date(2026, 9, 1), (15, 45)), (date(2026, 12, 31), (7, 14, 30, 60, 120, 180))):
        bands = Bands(edges)

        r = report(runtime, as_of=as_of, bands=bands)

        expected = expected_buckets(runtime, as_of, edges)
        assert {(line.customer_id, line.currency): line.buckets for line in r.customers} == expected
        assert [line.buckets for line in r.totals] == [
            [sum(b[i] for b in expected.values()) for i in range(len(edges) + 2)]]
        assert len(r.totals[0].buckets) == len(bands.labels) == len(edges) + 2
        assert_adds_up(runtime, r)
        assert figures(report(runtime, as_of=as_of, bands=bands, known_at=FAR)) == figures(r)


def test_configurable_bands_regroup_the_same_amounts(runtime: Runtime, desk) -> None:
    ladder(runtime, desk)

    r = report(runtime, as_of=AS_OF, bands=Bands((15, 45)))

    # days late: 0, 0 | 1 | 30, 31 | 60, 61, 90, 91
    assert r.bands.labels == ["not_due", "1-15", "16-45", "over_45"]
    assert r.totals[0].buckets == [30_001, 30_003, 40_000 + 50_005, 60_000 + 70_007 + 80_000 + 90_009]


def test_aging_is_kept_per_currency(runtime: Runtime, desk) -> None:
    martin, smith = desk.customer(name="Martin"), desk.customer(name="Smith Ltd")
    issue(runtime, martin.id, 1_000, due_on=TODAY)  # 2 March: 120 days late on 30 June
    issue(runtime, martin.id, 2_000, currency="USD", due_on=date(2026, 6, 1))
    dollars = issue(runtime, smith.id, 5_555, currency="USD", due_on=date(2026, 7, 1))
    pay(runtime, smith.id, 555, currency="USD", allocations=((dollars.id, 555),))
    issue(runtime, smith.id, 3_000, due_on=date(2026, 6, 20))

    r = report(runtime, as_of=AS_OF)

    assert r.totals == [AgingLine("EUR", [0, 3_000, 0, 0, 1_000], invoices=2),
                        AgingLine("USD", [5_000, 2_000, 0, 0, 0], invoices=2)]
    assert sorted((line.name, line.currency, line.buckets) for line in r.customers) == [
        ("Martin", "EUR", [0, 0, 0, 0, 1_000]), ("Martin", "USD", [0, 2_000, 0, 0, 0]),
        ("Smith Ltd", "EUR", [0, 3_000, 0, 0, 0]), ("Smith Ltd", "USD", [5_000, 0, 0, 0, 0])]
    assert_adds_up(runtime, r)
    dollars_only = report(runtime, as_of=AS_OF, currency="USD")
    assert dollars_only.totals == [r.totals[1]]
    assert [line.currency for line in dollars_only.customers] == ["USD", "USD"]
    assert figures(report(runtime, as_of=AS_OF, currency="USD", known_at=FAR)) == figures(dollars_only)


def busy_book(runtime: Runtime, desk, clock: SettableClock) -> list[UUID]:
    """Several customers in two currencies after payments, credit notes, a write-off, a dispute and a bounced debit."""
    names = ["Martin", "Dupont", "Smith Ltd", "Durand"]
    people = [desk.customer(name=n).id for n in names]
    opened = []
    for n, customer in enumerate(people):
        for k in range(3):
            opened.append(issue(runtime, customer, 10_000 * (n + 1) + 1_111 * k + 7, due_on=TODAY + (15 * k) * DAY,
                                currency="USD" if (n, k) == (2, 1) else "EUR"))
    clock.advance(20 * DAY)
    pay(runtime, people[0], 5_000, allocations=((opened[0].id, 5_000),))
    runtime.app.issue_credit_note(opened[4].id, amount=money(4_000), reason="remise", series="AV")
    runtime.app.write_off_invoice(opened[9].id, reason="liquidation")
    runtime.app.open_dispute(opened[10].id, dispute_id=uuid4(), amount=money(1_000), reason="litige")
    debit = pay(runtime, people[1], 22_229, method=PaymentMethod.DIRECT_DEBIT, allocations=((opened[5].id, 22_229),))
    clock.advance(40 * DAY)
    runtime.app.return_payment(debit.id, reason="AM04")
    pay(runtime, people[3], 40_007, allocations=((opened[11].id, 40_007),))
    pay(runtime, people[2], 1_000, currency="USD", allocations=((opened[7].id, 1_000),))
    return people


def test_the_fast_path_and_the_ledger_path_give_the_same_numbers(runtime: Runtime, desk, clock: SettableClock,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    people = busy_book(runtime, desk, clock)
    from_ledger = []
    real = aging_module._open_items
    monkeypatch.setattr(aging_module, "_open_items", lambda *a: from_ledger.append(a) or real(*a))
    today = clock.today()

    for kwargs in ({}, {"bands": Bands((15, 45))}, {"currency": "USD"}, {"customer_id": people[1]}, {"top": 2},
                   {"currency": "EUR", "top": 1}):
        fast = report(runtime, as_of=today, **kwargs)
        assert not from_ledger, "today's aging is read from open_by_due"
        ledger = report(runtime, as_of=today, known_at=FAR, **kwargs)
        assert len(from_ledger) == 1
        from_ledger.clear()
        assert figures(ledger) == figures(fast), kwargs
        assert fast.totals

    full = report(runtime, as_of=today)
    assert len(full.customers) == 5  # four customers in euros, one in dollars
    assert_adds_up(runtime, full)
    assert {(line.customer_id, line.currency): line.buckets for line in full.customers} == expected_buckets(
        runtime, today, (30, 60, 90))


def test_a_past_aging_from_the_aging_steps_equals_the_one_summed_from_the_ledger(runtime: Runtime, desk,
                                                                                 clock: SettableClock) -> None:
    people = busy_book(runtime, desk, clock)
    # recorded late with an earlier value date: the steps must count it on its value date
    late = issue(runtime, people[3], 8_888, issued_on=TODAY, due_on=TODAY + 5 * DAY)
    pay(runtime, people[3], 8_888, value_on=TODAY + 9 * DAY, allocations=((late.id, 8_888),))
    today = clock.today()
    days = [TODAY - DAY, TODAY, TODAY + 5 * DAY, TODAY + 9 * DAY, TODAY + 19 * DAY, TODAY + 20 * DAY,
            TODAY + 21 * DAY, TODAY + 45 * DAY, TODAY + 59 * DAY, TODAY + 60 * DAY, today - DAY, today]
    for as_of in days:
        for kwargs in ({}, {"bands": Bands((15, 45))}, {"currency": "USD"}, {"currency": "EUR", "top": 2},
                       *({"customer_id": p} for p in people)):
            steps = report(runtime, as_of=as_of, **kwargs)
            ledger = report(runtime, as_of=as_of, known_at=FAR, **kwargs)
            assert figures(steps) == figures(ledger), (as_of, kwargs)
            for total in steps.totals:
                assert total.open_minor == sum(total.buckets)


def test_top_debtors_with_equal_balances_are_the_same_on_both_paths(runtime: Runtime, desk) -> None:
    # registered (and so first stored) from the highest id down: a first-come tie-break is not the id order
    for n in (9, 5, 7, 1, 3):
        runtime.app.register_customer(
            customer_id=UUID(int=n), name=f"Client {n}", kind=CustomerKind.PROFESSIONAL, country="FR",
            language=Language.FR, emails=[], terms=PaymentTerms(), credit_limit=None, external_id=None)
        issue(runtime, UUID(int=n), 1_000)

    for top in (1, 2, 3, 4):
        fast = report(runtime, as_of=TODAY, top=top)
        ledger = report(runtime, as_of=TODAY, top=top, known_at=FAR)
        assert [line.customer_id for line in ledger.customers] == [UUID(int=n) for n in (1, 3, 5, 7, 9)][:top]
        assert [line.customer_id for line in fast.customers] == [line.customer_id for line in ledger.customers]


def test_known_at_is_an_instant_whatever_its_offset(runtime: Runtime, desk, clock: SettableClock) -> None:
    customer = desk.customer()
    first = issue(runtime, customer.id, 1_000)
    known_at = clock.now()
    clock.advance(timedelta(minutes=30))
    issue(runtime, customer.id, 2_000)

    in_utc = report(runtime, as_of=TODAY, known_at=known_at)
    in_paris = report(runtime, as_of=TODAY, known_at=known_at.astimezone(BUSINESS_TZ))

    assert in_utc.totals == [AgingLine("EUR", [1_000, 0, 0, 0, 0], invoices=1)]
    assert figures(in_paris) == figures(in_utc)
    in_paris_statement = statement(runtime.engine, customer.id, from_on=TODAY, to_on=TODAY,
                                   known_at=known_at.astimezone(BUSINESS_TZ))
    assert [m.invoice_number for m in in_paris_statement.sections[0].movements] == [first.number]


# Past aging -----------------------------------------------------------------------------------------------------
def test_a_past_aging_is_reproduced_exactly_after_later_events(runtime: Runtime, desk, clock: SettableClock) -> None:
    martin, dupont = desk.customer(name="Martin"), desk.customer(name="Dupont")
    old = issue(runtime, martin.id, 100_000, issued_on=date(2026, 1, 10), due_on=date(2026, 2, 9))
    recent = issue(runtime, martin.id, 50_000)  # due 1 April
    late = issue(runtime, dupont.id, 70_000, issued_on=date(2026, 2, 1), due_on=date(2026, 3, 3))
    pay(runtime, dupont.id, 20_000, allocations=((late.id, 20_000),))
    clock.set(datetime(2026, 3, 31, 16, 0, tzinfo=BUSINESS_TZ))
    d = clock.today()
    pay(runtime, martin.id, 30_000, allocations=((old.id, 30_000),))

    first = report(runtime, as_of=d)
    first_at = clock.now()
    # 31 March: old 70 000 is 50 days late, recent 50 000 not due, late 50 000 28 days late
    assert first.totals == [AgingLine("EUR", [50_000, 50_000, 70_000, 0, 0], invoices=3)]

    clock.advance(timedelta(minutes=1))  # the same day, after the report
    pay(runtime, martin.id, 50_000, allocations=((recent.id, 50_000),))
    issue(runtime, dupont.id, 40_000)  # issued on 31 March, due 30 April
    clock.advance(40 * DAY)  # 10 May
    runtime.app.issue_credit_note(late.id, amount=money(10_000), reason="remise", series="AV")
    issue(runtime, martin.id, 9_999)

    assert figures(report(runtime, as_of=d, known_at=first_at)) == figures(first)
    now_known = report(runtime, as_of=d)
    assert now_known.totals == [AgingLine("EUR", [40_000, 50_000, 70_000, 0, 0], invoices=3)]
    before_back_dated = clock.now()

    clock.advance(timedelta(minutes=1))
    pay(runtime, martin.id, 25_000, value_on=date(2026, 3, 20), allocations=((old.id, 25_000),))

    assert report(runtime, as_of=d).totals == [AgingLine("EUR", [40_000, 50_000, 45_000, 0, 0], invoices=3)]
    assert figures(report(runtime, as_of=d, known_at=before_back_dated)) == figures(now_known)
    assert figures(report(runtime, as_of=d, known_at=first_at)) == figures(first)
    # on the 19th neither the back-dated payment (20th) nor the one of the 31st counted yet
    assert report(runtime, as_of=date(2026, 3, 19)).totals == [
        AgingLine("EUR", [50_000, 50_000, 100_000, 0, 0], invoices=3)]


# Statement ------------------------------------------------------------------------------------------------------
def test_a_statement_opens_on_the_same_balance_from_todays_balance_and_from_the_ledger(runtime: Runtime, desk,
                                                                                      clock: SettableClock) -> None:
    people = busy_book(runtime, desk, clock)
    runtime.projections.catch_up()
    today = clock.today()
    for customer in people:
        for from_on, to_on in ((TODAY - DAY, today), (TODAY + 20 * DAY, today), (TODAY + 21 * DAY, TODAY + 40 * DAY),
                               (today, today), (today + DAY, today + 30 * DAY)):
            fast = statement(runtime.engine, customer, from_on=from_on, to_on=to_on)
            from_ledger = statement(runtime.engine, customer, from_on=from_on, to_on=to_on, known_at=FAR)
            assert fast.sections == from_ledger.sections, (customer, from_on, to_on)


def test_statement_runs_from_opening_to_closing_balance_in_business_date_order(runtime: Runtime, desk,
                                                                              clock: SettableClock) -> None:
    customer = desk.customer(name="Martin").id
    first = issue(runtime, customer, 100_000)  # 2 March, due 1 April
    clock.set(datetime(2026, 3, 15, 10, 0, tzinfo=BUSINESS_TZ))
    pay(runtime, customer, 40_000, allocations=((first.id, 40_000),))
    clock.set(datetime(2026, 4, 5, 10, 0, tzinfo=BUSINESS_TZ))
    second = issue(runtime, customer, 30_000)  # due 5 May
    debit = pay(runtime, customer, 30_000, method=PaymentMethod.DIRECT_DEBIT, allocations=((second.id, 30_000),))
    clock.set(datetime(2026, 4, 10, 10, 0, tzinfo=BUSINESS_TZ))
    runtime.app.return_payment(debit.id, reason="AM04", returned_on=date(2026, 4, 9))
    runtime.app.issue_credit_note(first.id, amount=money(5_000), reason="remise", series="AV")
    clock.set(datetime(2026, 4, 20, 10, 0, tzinfo=BUSINESS_TZ))
    over = pay(runtime, customer, 60_000, allocations=((first.id, 55_000),))
    clock.set(datetime(2026, 4, 21, 10, 0, tzinfo=BUSINESS_TZ))
    runtime.app.refund_payment(over.id, refund_id=uuid4(), amount=money(5_000))
    third = issue(runtime, customer, 8_000)
    clock.set(datetime(2026, 4, 25, 10, 0, tzinfo=BUSINESS_TZ))
    runtime.app.write_off_invoice(third.id, reason="geste commercial")
    known_at = clock.now()
    clock.set(datetime(2026, 5, 5, 10, 0, tzinfo=BUSINESS_TZ))
    pay(runtime, customer, 10_000, value_on=date(2026, 4, 15), allocations=((second.id, 10_000),))  # back-dated
    issue(runtime, customer, 1_234)  # after the period
    runtime.projections.catch_up()

    st = statement(runtime.engine, customer, from_on=date(2026, 4, 1), to_on=date(2026, 4, 30))

    [section] = st.sections
    assert (section.currency, section.opening_minor) == ("EUR", 60_000)
    rows = [(m.effective_on.day, m.kind, m.debit_minor, m.credit_minor, m.balance_minor) for m in section.movements]
    assert rows == [
        (5, "invoice", 30_000, 0, 90_000), (5, "payment", 0, 30_000, 60_000),
        (9, "payment_returned", 30_000, 0, 90_000), (10, "credit_note", 0, 5_000, 85_000),
        (15, "payment", 0, 10_000, 75_000),  # recorded on 5 May, listed on its value date
        (20, "payment", 0, 60_000, 15_000), (21, "refund", 5_000, 0, 20_000), (21, "invoice", 8_000, 0, 28_000),
        (25, "write_off", 0, 8_000, 20_000),
    ]
    running = section.opening_minor
    for m in section.movements:
        running += m.debit_minor - m.credit_minor
        assert m.balance_minor == running
    assert section.closing_minor == running == 20_000
    assert [m.invoice_number for m in section.movements if m.kind in ("invoice", "credit_note", "write_off")] == [
        second.number, first.number, third.number, third.number]
    assert section.movements[3].reference == "AV-000001"
    assert section.aging == report(runtime, as_of=date(2026, 4, 30), customer_id=customer).customers[0]
    assert section.aging.buckets == [20_000, 0, 0, 0, 0]

    as_known = statement(runtime.engine, customer, from_on=date(2026, 4, 1), to_on=date(2026, 4, 30),
                         known_at=known_at).sections[0]
    assert [m.position for m in as_known.movements] == [m.position for m in section.movements if m.effective_on.day
                                                        != 15]
    assert (as_known.opening_minor, as_known.closing_minor) == (60_000, 30_000)
    assert as_known.aging == report(runtime, as_of=date(2026, 4, 30), customer_id=customer,
                                    known_at=known_at).customers[0]
    assert as_known.aging.buckets == [30_000, 0, 0, 0, 0]

    whole = statement(runtime.engine, customer, from_on=date(2026, 1, 1), to_on=date(2026, 12, 31)).sections[0]
    with runtime.engine.connect() as conn:
        account = conn.scalar(sa.select(customer_balances.c.account_minor)
                              .where(customer_balances.c.customer_id == customer))
    assert (whole.opening_minor, whole.closing_minor) == (0, account) == (0, 21_234)


def test_statement_lines_carry_the_invoice_number_and_the_payers_reference(runtime: Runtime, desk) -> None:
    """The movements read both from the ledger entries alone (copied there by the projection, migration 0005)."""
    customer, parent = desk.customer(name="Filiale").id, desk.customer(name="Maison mère").id
    invoice = issue(runtime, customer, 50_000)
    runtime.app.record_payment(payment_id=uuid4(), customer_id=customer, amount=money(20_000),
                               method=PaymentMethod.TRANSFER, external_id="VIR-7781",
                               allocations=[(invoice.id, money(20_000))])
    runtime.app.record_payment(payment_id=uuid4(), customer_id=parent, amount=money(30_000),
                               method=PaymentMethod.TRANSFER, external_id="VIR-9000",
                               allocations=[(invoice.id, money(30_000))])  # the parent pays the rest
    runtime.projections.catch_up()

    [section] = statement(runtime.engine, customer, from_on=TODAY, to_on=TODAY).sections

    assert [(m.kind, m.reference, m.invoice_number, m.debit_minor - m.credit_minor, m.balance_minor)
            for m in section.movements] == [
        ("invoice", invoice.number, invoice.number, 50_000, 50_000),
        ("payment", "VIR-7781", None, -20_000, 30_000),
        ("payment_allocated", "VIR-9000", invoice.number, -30_000, 0),
    ]
    [parents] = statement(runtime.engine, parent, from_on=TODAY, to_on=TODAY).sections
    assert [(m.kind, m.reference, m.invoice_number) for m in parents.movements] == [
        ("payment", "VIR-9000", None), ("paid_for_other", "VIR-9000", invoice.number)]
    assert parents.closing_minor == 0

def test_kpis_on_a_scenario_computed_by_hand(runtime: Runtime, desk, clock: SettableClock) -> None:
    """Period 1 March - 30 April 2026 (61 days), all in EUR.

    invoice  issued  due    total    paid                 at 30 April
    F        10 Feb  12 Mar  80 000  30 000 on 20 Mar     50 000 open, overdue, issued before the period
    A         2 Mar   1 Apr 100 000  all on 11 Apr        settled: 40 days to pay, 10 late
    D         2 Mar   1 Apr  30 000  all on 25 Mar        settled: 23 days to pay, on time
    B        10 Mar   9 Apr 200 000  all on 29 Apr        settled: 50 days to pay, 20 late
    C        16 Mar  15 Apr  50 000  on 3 May (after)     50 000 open, overdue
    E        20 Apr  20 May  40 000  -                    40 000 open, not due

    invoiced = A+D+B+C+E = 420 000; receivables at the start = F = 80 000; at the end = 50+50+40 = 140 000;
    current at the end = E = 40 000; overdue = F+C = 100 000, of which on invoices of the period C = 50 000.
    average days to pay = (40+23+50)/3 = 37.666 -> 37.67; average days late = (10+0+20)/3 = 10.00;
    share paid late = 2/3 = 66.67 %; unpaid rate = 50 000/420 000 = 11.904 -> 11.90 %;
    DSO = 140 000 x 61 / 420 000 = 20.333 -> 20.33 days;
    CEI = (80 000 + 420 000 - 140 000) / (80 000 + 420 000 - 40 000) = 360/460 = 78.260 -> 78.26 %.
    """
    customer = desk.customer().id

    def on(day: date) -> None:
        clock.set(datetime.combine(day, datetime.min.time(), BUSINESS_TZ).replace(hour=11))

    f = issue(runtime, customer, 80_000, issued_on=date(2026, 2, 10), due_on=date(2026, 3, 12))
    a, d = issue(runtime, customer, 100_000), issue(runtime, customer, 30_000)
    on(date(2026, 3, 10))
    b = issue(runtime, customer, 200_000)
    on(date(2026, 3, 16))
    c = issue(runtime, customer, 50_000)
    on(date(2026, 3, 20))
    pay(runtime, customer, 30_000, allocations=((f.id, 30_000),))
    on(date(2026, 3, 25))
    pay(runtime, customer, 30_000, allocations=((d.id, 30_000),))
    on(date(2026, 4, 11))
    pay(runtime, customer, 100_000, allocations=((a.id, 100_000),))
    on(date(2026, 4, 20))
    issue(runtime, customer, 40_000)
    on(date(2026, 4, 29))
    pay(runtime, customer, 200_000, allocations=((b.id, 200_000),))
    on(date(2026, 5, 3))
    pay(runtime, customer, 50_000, allocations=((c.id, 50_000),))
    runtime.projections.catch_up()
    assert [(i.issued_on, i.due_on) for i in (a, b, c)] == [
        (date(2026, 3, 2), date(2026, 4, 1)), (date(2026, 3, 10), date(2026, 4, 9)),
        (date(2026, 3, 16), date(2026, 4, 15))]

    r = kpis(runtime.engine, from_on=date(2026, 3, 1), to_on=date(2026, 4, 30), per_customer=True)

    [totals] = r.totals
    figures_ = totals.as_dict()
    assert {k: figures_[k] for k in (
        "invoiced_minor", "receivables_start_minor", "receivables_end_minor", "overdue_minor", "invoices_settled",
        "average_days_to_pay", "average_days_late", "share_paid_late_percent", "unpaid_rate_percent", "dso_days",
        "cei_percent")} == {
        "invoiced_minor": 420_000, "receivables_start_minor": 80_000, "receivables_end_minor": 140_000,
        "overdue_minor": 100_000, "invoices_settled": 3,
        "average_days_to_pay": Decimal("37.67"), "average_days_late": Decimal("10.00"),
        "share_paid_late_percent": Decimal("66.67"), "unpaid_rate_percent": Decimal("11.90"),
        "dso_days": Decimal("20.33"), "cei_percent": Decimal("78.26"),
    }
    assert (totals.days, totals.current_end_minor, totals.overdue_on_period_invoices_minor) == (61, 40_000, 50_000)
    [mine] = r.customers
    assert {k: v for k, v in mine.as_dict().items() if k not in ("customer_id", "name")} == {
        k: v for k, v in figures_.items() if k not in ("customer_id", "name")}
    assert (mine.customer_id, mine.name) == (customer, "Boulangerie Martin SARL")
