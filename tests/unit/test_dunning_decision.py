"""The dunning schedule, one rule a test, on the pure decision: no application, no database, no clock.

The policy below: a courtesy note 3 days before the due date, reminders at +7, +15 (stating penalties) and +30 (a
phone call), a formal notice at +45 by letter (claiming penalties). The invoice is due Thursday 19 February 2026.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from tests.unit.conftest import IssueInvoice

from ar.domain.calendar import BusinessCalendar, WeekdaysOnly
from ar.domain.customer import Customer, Language
from ar.domain.dunning_decision import COURTESY_TOO_LATE, DunningDecision, StepSkipped, carry_out, decide
from ar.domain.dunning_policy import Channel, PolicyRules, Step, StepKind
from ar.domain.errors import DomainRuleViolation
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.rate_tables import StaticRateTables
from ar.domain.terms import CustomerKind, PaymentTerms

RULES = PolicyRules(steps=(
    Step("courtesy", -3, StepKind.COURTESY, Channel.EMAIL, "courtesy"),
    Step("first", 7, StepKind.REMINDER, Channel.EMAIL, "reminder"),
    Step("second", 15, StepKind.REMINDER, Channel.EMAIL, "reminder", states_penalties=True),
    Step("call", 30, StepKind.REMINDER, Channel.PHONE, "call"),
    Step("notice", 45, StepKind.FORMAL_NOTICE, Channel.LETTER, "notice", states_penalties=True,
         claims_penalties=True),
))
H1 = date(2026, 1, 1)
RATES = StaticRateTables(ecb={H1: Decimal("2.15")}, legal={H1: Decimal("2.62")})  # H2-2026 not yet published
DUE_ON = date(2026, 2, 19)


def at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


@pytest.fixture
def customer(customer_id: UUID) -> Customer:
    return Customer.register(id=customer_id, name="Acme SARL", kind=CustomerKind.PROFESSIONAL, country="FR",
                             language=Language.FR, emails=["ap@acme.example"], terms=PaymentTerms(),
                             credit_limit=None, external_id=None, at=at(date(2026, 1, 2)))


def run(customer: Customer, invoices: list[Invoice], today: date, *, rules: PolicyRules = RULES,
        calendar: BusinessCalendar | None = None) -> DunningDecision:
    """Decide, then carry the decision out on the invoices (as the sweeper does, without saving)."""
    decision = decide(customer=customer, rules=rules, invoices=invoices, today=today,
                      calendar=calendar or WeekdaysOnly(), rates=RATES)
    carry_out(decision, {i.id: i for i in invoices}, policy_id=uuid4(), policy_version=1, at=at(today))
    return decision


def sweep(customer: Customer, invoices: list[Invoice], first: date, last: date, *, rules: PolicyRules = RULES,
          calendar: BusinessCalendar | None = None) -> list[tuple[date, list[str]]]:
    """A sweeper running every day: the steps taken each day something was."""
    taken = []
    day = first
    while day <= last:
        decision = run(customer, invoices, day, rules=rules, calendar=calendar)
        keys = [t.step.key for r in decision.reminders for t in r.steps]
        if keys:
            taken.append((day, keys))
        day += timedelta(days=1)
    return taken


class Holidays:
    def __init__(self, *days: date) -> None:
        self.days = set(days)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.days


def test_the_steps_go_out_on_schedule_each_once_and_on_business_days(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    assert sweep(customer, [invoice], date(2026, 2, 1), date(2026, 4, 30)) == [
        (date(2026, 2, 16), ["courtesy"]), (date(2026, 2, 26), ["first"]), (date(2026, 3, 6), ["second"]),
        (date(2026, 3, 23), ["call"]),  # +30 is Saturday 21 March: the next business day
        (date(2026, 4, 7), ["notice"])]  # +45 is Sunday 5 April, but the gap (15 days) holds after the late call


def test_a_holiday_moves_a_step_to_the_next_business_day(customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    taken = sweep(customer, [invoice], date(2026, 2, 20), date(2026, 2, 28),
                  calendar=Holidays(date(2026, 2, 26)))
    assert taken == [(date(2026, 2, 27), ["first"])]


def test_nothing_is_decided_on_a_day_that_is_not_a_business_day(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    assert run(customer, [invoice], date(2026, 2, 28)) == DunningDecision(customer.id, date(2026, 2, 28))


def test_deciding_writes_nothing_and_a_step_taken_is_not_decided_again(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    decision = decide(customer=customer, rules=RULES, invoices=[invoice], today=date(2026, 2, 16),
                      calendar=WeekdaysOnly(), rates=RATES)
    assert (invoice.collect_events(), invoice.dunning.steps) == ([], ())
    again = decide(customer=customer, rules=RULES, invoices=[invoice], today=date(2026, 2, 16),
                   calendar=WeekdaysOnly(), rates=RATES)
    assert again == decision  # the same inputs, the same decision, the same derived reminder id
    invoices = {invoice.id: invoice}
    carry_out(decision, invoices, policy_id=uuid4(), policy_version=1, at=at(date(2026, 2, 16)))
    carry_out(decision, invoices, policy_id=uuid4(), policy_version=1, at=at(date(2026, 2, 16)))
    assert [type(e).__name__ for e in invoice.collect_events()] == ["DunningStepTaken"]  # the repeat is a no-op
    assert run(customer, [invoice], date(2026, 2, 16)).reminders == ()


def test_a_courtesy_note_whose_moment_passed_is_skipped_and_recorded(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    decision = run(customer, [invoice], DUE_ON)
    assert (decision.skipped, decision.reminders) == (
        (StepSkipped(invoice.id, "courtesy", COURTESY_TOO_LATE, DUE_ON),), ())
    assert [(s.key, s.kind, s.channel) for s in invoice.dunning.steps] == [("courtesy", "skipped", None)]
    assert [type(e).__name__ for e in invoice.collect_events()] == ["DunningStepSkipped"]


def test_after_a_sweeper_outage_only_the_next_step_goes_out_and_the_gap_holds(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    late = date(2026, 4, 10)  # every step is overdue
    decision = run(customer, [invoice], late)
    assert [s.step_key for s in decision.skipped] == ["courtesy"]
    assert [[t.step.key for t in r.steps] for r in decision.reminders] == [["first"]]
    # the second waits its gap (15 - 7 = 8 days) after the late first: Saturday 18 April, so Monday 20 April
    assert sweep(customer, [invoice], late + timedelta(days=1), date(2026, 4, 20)) == [(date(2026, 4, 20),
                                                                                        ["second"])]


def test_a_partial_settlement_re_anchors_the_next_step(customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    run(customer, [invoice], date(2026, 2, 26))  # skips the courtesy note, takes the first reminder
    invoice.apply_credit_note("AV-1", Money(30_000, "EUR"), date(2026, 3, 4), "returned goods", at(date(2026, 3, 4)))
    # due on 6 March without it; now 8 days (the gap) after the settlement
    assert sweep(customer, [invoice], date(2026, 3, 5), date(2026, 3, 20)) == [(date(2026, 3, 12), ["second"])]
    [line] = invoice.collect_events()[-1:]
    assert isinstance(line, Invoice.DunningStepTaken) and line.remindable == Money(70_000, "EUR")


def test_an_open_dispute_pauses_the_reminders(customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    invoice.open_dispute(uuid4(), Money(100_000, "EUR"), "not delivered", date(2026, 2, 20), at(date(2026, 2, 20)))
    assert sweep(customer, [invoice], date(2026, 2, 20), date(2026, 4, 30)) == []


def test_the_undisputed_part_is_still_reminded_if_the_policy_says_so(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    invoice.open_dispute(uuid4(), Money(40_000, "EUR"), "one item missing", date(2026, 2, 20),
                         at(date(2026, 2, 20)))
    decision = run(customer, [invoice], date(2026, 2, 26))
    [reminder] = decision.reminders
    assert [(line.step_key, line.remindable_minor, line.disputed_minor) for line in reminder.lines] == [
        ("first", 60_000, 40_000)]
    quiet = PolicyRules(steps=RULES.steps, remind_undisputed=False)
    other = issue_invoice(100_000)
    other.open_dispute(uuid4(), Money(40_000, "EUR"), "one item missing", date(2026, 2, 20), at(date(2026, 2, 20)))
    assert run(customer, [other], date(2026, 2, 26), rules=quiet).reminders == ()


def test_a_promise_snoozes_and_a_broken_one_sends_the_next_step_at_once(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    run(customer, [invoice], date(2026, 2, 26))  # the first reminder
    promise_id = uuid4()
    invoice.promise_payment(promise_id=promise_id, promised_on=date(2026, 3, 16), amount=Money(100_000, "EUR"),
                            made_on=date(2026, 3, 2), at=at(date(2026, 3, 2)))
    assert sweep(customer, [invoice], date(2026, 3, 2), date(2026, 3, 16)) == []  # the second (6 March) waits
    decision = run(customer, [invoice], date(2026, 3, 17))
    assert [(p.invoice_id, p.broken_on) for p in decision.promises_broken] == [(invoice.id, date(2026, 3, 17))]
    assert [[t.step.key for t in r.steps] for r in decision.reminders] == [["second"]]
    assert (invoice.dunning.promise, invoice.dunning.escalate_on) == (None, None)


def test_a_kept_promise_is_not_broken(customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(100_000)
    invoice.promise_payment(promise_id=uuid4(), promised_on=date(2026, 3, 16), amount=Money(40_000, "EUR"),
                            made_on=date(2026, 3, 2), at=at(date(2026, 3, 2)))
    invoice.apply_credit_note("AV-1", Money(40_000, "EUR"), date(2026, 3, 10), "agreed", at(date(2026, 3, 10)))
    decision = run(customer, [invoice], date(2026, 3, 17))
    assert decision.promises_broken == () and invoice.dunning.promise is None


def test_a_formal_notice_needs_at_least_three_reminders_before_it() -> None:
    too_soon = PolicyRules(steps=(*RULES.steps[1:3], RULES.steps[4]))
    with pytest.raises(DomainRuleViolation) as refused:
        too_soon.check()
    assert refused.value.figures == {"reminders_before": 2, "required": 3}
    RULES.check()


def test_one_reminder_per_customer_and_channel_with_every_step_due(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    early, later = issue_invoice(50_000, due_on=date(2026, 2, 10)), issue_invoice(70_000)
    called = issue_invoice(20_000, due_on=date(2026, 1, 27))
    for invoice, day in ((early, date(2026, 2, 17)), (called, date(2026, 2, 3)), (called, date(2026, 2, 11)),
                         (later, date(2026, 2, 16))):
        run(customer, [invoice], day)
    someone_elses = issue_invoice(90_000, customer=uuid4())
    decision = run(customer, [later, someone_elses, called, early], date(2026, 2, 26))
    assert [(r.channel, r.step_kind, [line.number for line in r.lines]) for r in decision.reminders] == [
        ("email", "reminder", [early.number, later.number]),  # by due date
        ("phone", "reminder", [called.number])]
    assert len({r.id for r in decision.reminders}) == 2
    assert someone_elses.dunning.steps == ()


def test_a_formal_notice_claims_the_penalties_and_gives_its_deadline(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(1_000_000)
    sweep(customer, [invoice], date(2026, 2, 16), date(2026, 4, 6))
    [notice] = run(customer, [invoice], date(2026, 4, 7)).reminders
    [taken] = notice.steps
    assert (notice.step_kind, notice.notice_deadline_on) == ("formal_notice", date(2026, 4, 15))
    assert taken.claim is not None and taken.claim.indemnity == Money(4_000, "EUR")
    # 10,000.00 x 12.15% x 47/365 = 156.45 (20 February to 7 April)
    assert (taken.claim.interest, taken.claim.as_of) == (Money(15_645, "EUR"), date(2026, 4, 7))
    assert invoice.dunning.indemnity_claimed
    [claimed] = [e for e in invoice.collect_events() if isinstance(e, Invoice.LatePenaltyClaimed)]
    assert claimed.indemnity == Money(4_000, "EUR")


def test_the_indemnity_is_claimed_once(customer: Customer, issue_invoice: IssueInvoice) -> None:
    claiming = PolicyRules(steps=tuple(replace(s, claims_penalties=s.key == "second" or s.claims_penalties)
                                       for s in RULES.steps))
    invoice = issue_invoice(1_000_000)
    sweep(customer, [invoice], date(2026, 2, 16), date(2026, 4, 30), rules=claiming)
    claims = [(e.as_of, e.indemnity.minor) for e in invoice.collect_events()
              if isinstance(e, Invoice.LatePenaltyClaimed)]
    assert claims == [(date(2026, 3, 6), 4_000), (date(2026, 4, 7), 0)]  # each restates the interest, not the 40


def test_a_missing_rate_still_sends_the_reminder_with_a_partial_penalty(
        customer: Customer, issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(1_000_000, due_on=date(2026, 6, 1))
    sweep(customer, [invoice], date(2026, 5, 25), date(2026, 7, 15))
    [notice] = run(customer, [invoice], date(2026, 7, 16)).reminders  # H2-2026's ECB rate is not recorded
    [line] = notice.lines
    assert line.penalty is not None and not line.penalty.complete
    penalty = line.to_dict()["penalty"]
    assert (penalty["known_until"], penalty["missing"]) == ("2026-06-30", ["ecb:2026-07-01"])
    [taken] = notice.steps
    assert taken.claim is not None and taken.claim.as_of == date(2026, 6, 30)  # what is known, as of when
