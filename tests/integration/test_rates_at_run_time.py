"""Rates are administered at run time and never block a reminder (issue 8, finding 4), on SQLite and PostgreSQL.

The shipped rates end with H2-2026. An invoice overdue since December 2026 is swept on 15 January 2027 with no
H1-2027 ECB rate: the formal notice still goes out, its penalty covers up to 31 December and says the rest will
follow, an ops need asks for the rate; once the rate is recorded (here, by another process), January is counted.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from tests.integration.conftest import Desk, eur

from ar.adapters.clocks import SettableClock
from ar.application.receivables import new_id
from ar.domain.clock import BUSINESS_TZ
from ar.domain.customer import Customer, Language
from ar.domain.rate_book import RateFact, RateTable
from ar.domain.reminder import Reminder
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.projections.dunning_tables import reminder_deliveries
from ar.runtime import Runtime

ISSUED, DUE = date(2026, 11, 20), date(2026, 12, 1)
# the default professional policy from a due date of 1 December 2026: courtesy (skipped), reminders, call, notice
STEP_DAYS = [date(2026, 11, 26), date(2026, 12, 8), date(2026, 12, 22), date(2026, 12, 29), date(2027, 1, 5),
             date(2027, 1, 15)]
H1_2027 = date(2027, 1, 1)
ECB_H1_2027 = RateFact(RateTable.ECB, H1_2027, Decimal("2.15"), "ECB decision of 17 December 2026 (MRO 2.15%)")


def move_to(clock: SettableClock, day: date) -> None:
    clock.set(datetime.combine(day, datetime.min.time().replace(hour=9), tzinfo=BUSINESS_TZ))


def english_customer(desk: Desk) -> Customer:
    return desk.app.register_customer(
        customer_id=new_id("customer"), name="Harbour Supplies Ltd", kind=CustomerKind.PROFESSIONAL, country="FR",
        language=Language.EN, emails=["ap@harbour.example"], terms=PaymentTerms(), credit_limit=None,
        external_id=None).aggregate


def notices(runtime: Runtime, on: date) -> list[Reminder]:
    runtime.projections.catch_up()
    with runtime.engine.connect() as conn:
        ids = conn.scalars(sa.select(reminder_deliveries.c.reminder_id)).all()
    found = [runtime.app.get_reminder(i) for i in ids]
    return sorted((r for r in found if r.run_on == on and r.step_kind == "formal_notice"),
                  key=lambda r: r.language)


def sweep_on(runtime: Runtime, clock: SettableClock, days: list[date]) -> list[dict[str, str]]:
    failures = []
    for day in days:
        move_to(clock, day)
        failures.append(runtime.sweeper.sweep().failures)
    return failures


def claims(runtime: Runtime, invoice_id: UUID) -> list[dict[str, Any]]:
    return [e["data"] for e in runtime.app.history(invoice_id) if e["type"] == "LatePenaltyClaimed"]


def test_a_notice_across_1_january_goes_out_without_the_new_rate_and_claims_only_the_known_interest(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    move_to(clock, ISSUED)
    fr, en = desk.customer(), english_customer(desk)
    fr_invoice = desk.invoice(fr.id, 1_000_000, due_on=DUE)
    en_invoice = desk.invoice(en.id, 1_000_000, due_on=DUE)

    failures = sweep_on(runtime, clock, STEP_DAYS)

    assert failures == [{}] * len(STEP_DAYS)  # no customer's run was refused for a missing rate
    en_notice, fr_notice = notices(runtime, date(2027, 1, 15))
    penalty = fr_notice.lines[0]["penalty"]
    # 10,000.00 x 12.40% x 30/365 (2 to 31 December), plus the EUR 40: January waits for the H1-2027 ECB rate
    assert (penalty["interest_minor"], penalty["indemnity_minor"]) == (10192, 4000)
    assert (penalty["complete"], penalty["known_until"], penalty["missing"]) == (False, "2026-12-31",
                                                                                 ["ecb:2027-01-01"])
    assert "ECB main refinancing rate for H1-2027" in penalty["explain"]
    assert fr_notice.lines[0]["remindable_minor"] == 1_000_000  # the principal is claimed in full

    renderer = runtime.app.ports.renderer
    fr_text = renderer.render(fr_notice.template, "fr", fr_notice.content).text
    assert "Intérêts de retard calculés jusqu'au 31/12/2026 : 101,92" in fr_text
    assert "applicable à partir du 01/01/2027 n'est pas encore publié" in fr_text
    assert "suivront dès sa publication" in fr_text
    en_text = renderer.render(en_notice.template, "en", en_notice.content).text
    assert "Late-payment interest up to" in en_text and "will follow once it is" in en_text
    assert "not yet published" in renderer.render(en_notice.template, "en", en_notice.content).html

    [claim] = claims(runtime, fr_invoice.id)
    assert (claim["interest"]["minor"], claim["indemnity"]["minor"], claim["as_of"]) == (10192, 4000, "2026-12-31")
    assert claim["computation"]["complete"] is False

    needs = [n.label for n in runtime.app.rate_needs()]
    assert needs.count("ecb:2027-01-01") == 1  # one need for the half-year, however many invoices wait for it

    runtime.app.record_rate(ECB_H1_2027, recorded_by="marie@finance")

    _, after = runtime.app.invoice_penalties(en_invoice.id, date(2027, 1, 15))
    assert after.complete and after.known_until == date(2027, 1, 15)
    assert [(line.start, line.end, line.rate) for line in after.lines] == [
        (date(2026, 12, 2), date(2026, 12, 31), Decimal("12.40")),
        (H1_2027, date(2027, 1, 15), Decimal("12.15")),
    ]
    assert after.interest == eur(10192 + 4993)  # + 10,000 x 12.15% x 15/365 = 49.93
    assert "ecb:2027-01-01" not in [n.label for n in runtime.app.rate_needs()]


def test_a_rate_recorded_by_another_process_is_used_without_a_restart(
        runtime: Runtime, second_runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    move_to(clock, ISSUED)
    invoice = desk.invoice(desk.customer().id, 1_000_000, due_on=DUE)
    move_to(clock, date(2027, 1, 15))
    runtime.app.RATES_CHECK_INTERVAL_S = 0.3
    _, before = runtime.app.invoice_penalties(invoice.id)
    assert before.missing == ("ecb:2027-01-01",)

    second_runtime.app.record_rate(ECB_H1_2027, recorded_by="paul@finance")

    _, cached = runtime.app.invoice_penalties(invoice.id)
    assert not cached.complete  # between two checks, a read does not go to the store
    time.sleep(0.35)
    _, seen = runtime.app.invoice_penalties(invoice.id)
    assert seen.complete and seen.lines[-1].rate == Decimal("12.15")
    assert runtime.app.rate_book().current[(RateTable.ECB, H1_2027)].recorded_by == "paul@finance"


def test_a_correction_is_a_new_event_and_the_latest_value_is_used(runtime: Runtime, desk: Desk,
                                                                  clock: SettableClock) -> None:
    move_to(clock, ISSUED)
    invoice = desk.invoice(desk.customer().id, 1_000_000, due_on=DUE)
    runtime.app.record_rate(RateFact(RateTable.ECB, H1_2027, Decimal("2.40"), "press, to confirm", to_confirm=True),
                            recorded_by="marie@finance")
    runtime.app.record_rate(ECB_H1_2027, recorded_by="paul@finance")
    _, computed = runtime.app.invoice_penalties(invoice.id, date(2027, 1, 15))
    assert computed.lines[-1].rate == Decimal("12.15")
    history = [e for e in runtime.app.history(runtime.app.rate_book().id) if e["type"] == "RateRecorded"]
    assert [(e["data"]["value"], e["data"]["recorded_by"], e["data"]["to_confirm"]) for e in history[-2:]] == [
        ("2.40", "marie@finance", True), ("2.15", "paul@finance", False)]
    assert "ecb:2027-01-01" not in runtime.app.rates_to_confirm()


def test_the_seed_is_recorded_once_and_never_overrides_a_rate_recorded_at_run_time(
        runtime: Runtime, second_runtime: Runtime) -> None:
    book = runtime.app.rate_book()
    seeded = len(book.entries)
    assert seeded == 14 and "ecb:2026-07-01" in book.to_confirm()
    runtime.app.record_rate(RateFact(RateTable.ECB, date(2026, 7, 1), Decimal("2.40"), "ECB decision of June 2026"),
                            recorded_by="marie@finance")
    second_runtime.app.ensure_rate_book()  # a process starting later
    book = second_runtime.app.rate_book()
    assert len(book.entries) == seeded + 1
    assert book.current[(RateTable.ECB, date(2026, 7, 1))].recorded_by == "marie@finance"
    assert "ecb:2026-07-01" not in book.to_confirm()
    assert book.version == seeded + 2  # opened, the seed, one entry: nothing recorded twice


def test_from_30_days_before_a_half_year_its_missing_rate_is_needed(runtime: Runtime, clock: SettableClock) -> None:
    move_to(clock, date(2026, 12, 1))
    assert "ecb:2027-01-01" not in [n.label for n in runtime.app.rate_needs()]
    move_to(clock, date(2026, 12, 2))
    [need] = [n for n in runtime.app.rate_needs() if n.label == "ecb:2027-01-01"]
    assert need.due_on == H1_2027 and need.needed_from == date(2026, 12, 2)
    assert need.summary.startswith("record the ECB rate for H1-2027")
    assert H1_2027 - need.needed_from == timedelta(days=30)


def test_ar_rates_add_records_a_rate_the_running_service_uses(runtime: Runtime) -> None:
    from typer.testing import CliRunner

    from ar.cli import cli

    env = {"AR_DATABASE_URL": runtime.settings.database_url, "AR_CREATE_TABLES": "false"}
    added = CliRunner().invoke(cli, ["rates", "add", "--table", "ecb", "--half-year", "2027-H1", "--value", "2.15",
                                     "--source", "ECB decision of 17 December 2026", "--by", "marie@finance"],
                               env=env)
    assert added.exit_code == 0, added.output
    assert "ecb 2027-H1: 2.15% recorded" in added.output
    refused = CliRunner().invoke(cli, ["rates", "add", "--table", "ecb", "--half-year", "2027-H3", "--value", "2",
                                       "--source", "x", "--by", "y"], env=env)
    assert refused.exit_code == 2 and "half_year" in refused.output
    listed = CliRunner().invoke(cli, ["rates", "list"], env=env)
    assert "H1-2027    2.15%  ECB decision of 17 December 2026  (by marie@finance" in listed.output
    assert "to confirm: ecb:2026-07-01" in listed.output
    entry = runtime.app.rate_book().current[(RateTable.ECB, H1_2027)]
    assert (entry.fact.value, entry.recorded_by) == (Decimal("2.15"), "marie@finance")
