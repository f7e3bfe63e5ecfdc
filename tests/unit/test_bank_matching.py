"""Matching a bank credit: each rule (an invoice's or a customer's reference, numbers, a known payer), a split,
several invoices in one credit, the tolerance, the early-payment discount, the ranking."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID, uuid4

from ar.domain.bank_entry import BankEntry, Direction
from ar.domain.bank_matching import Candidates, OfferedDiscount, OpenItem, decide, rank
from ar.domain.money import Money

TOLERANCE = Money(100, "EUR")
ALICE, BOB = uuid4(), uuid4()


def credit(minor: int, *, remittance: str | None = None, reference: str | None = None,
           value_on: date = date(2026, 3, 10)) -> BankEntry:
    return BankEntry(account="FR7630006000011234567890189", bank_reference="B1", booked_on=value_on,
                     value_on=value_on, amount=Money(minor, "EUR"), direction=Direction.CREDIT,
                     remittance=remittance, creditor_reference=reference, payer_iban="DE89370400440532013000")


def item(number: str, minor: int, customer: UUID = ALICE, due_on: date = date(2026, 3, 1)) -> OpenItem:
    return OpenItem(uuid4(), number, customer, Money(minor, "EUR"), due_on, f"RF00{number}")


def test_rule_1_the_creditor_reference_pays_its_invoice() -> None:
    invoice = item("FA-000001", 12_000)
    decision = decide(credit(12_000, reference="rf00 fa-000001"), Candidates(by_reference=[invoice]), TOLERANCE)
    assert decision.match is not None and decision.match.rule == "reference"
    assert decision.match.allocations == [(invoice.invoice_id, Money(12_000, "EUR"))]
    assert decision.match.write_off is None and decision.customer_id == ALICE


def test_rule_2_several_numbers_pay_several_invoices_in_the_order_quoted() -> None:
    a, b = item("FA-000002", 5_000), item("FA-000003", 7_000)
    decision = decide(credit(9_000, remittance="FA-000003 FA-000002"), Candidates(by_numbers=[b, a]), TOLERANCE)
    assert decision.match is not None and decision.match.rule == "numbers"
    assert decision.match.allocations == [(b.invoice_id, Money(7_000, "EUR")), (a.invoice_id, Money(2_000, "EUR"))]
    assert decision.match.write_off is None  # 30.00 short: beyond the tolerance, the invoice stays partly paid


def test_a_split_overpayment_leaves_the_rest_unapplied() -> None:
    a = item("FA-000004", 5_000)
    decision = decide(credit(6_000), Candidates(by_numbers=[a]), TOLERANCE)
    assert decision.match is not None and decision.match.allocations == [(a.invoice_id, Money(5_000, "EUR"))]


def test_a_shortfall_within_the_tolerance_is_settled_beyond_it_not() -> None:
    a = item("FA-000005", 10_000)
    settled = decide(credit(9_950), Candidates(by_reference=[a]), TOLERANCE).match
    assert settled is not None and settled.write_off == a.invoice_id and settled.difference == Money(50, "EUR")
    partly = decide(credit(9_899), Candidates(by_reference=[a]), TOLERANCE).match
    assert partly is not None and partly.write_off is None
    assert partly.allocations == [(a.invoice_id, Money(9_899, "EUR"))]


def test_charges_the_bank_reports_settle_a_shortfall_beyond_the_tolerance() -> None:
    from dataclasses import replace
    a = item("FA-000020", 92_040)
    charged = replace(credit(91_540), charges=Money(500, "EUR"))
    settled = decide(charged, Candidates(by_numbers=[a]), TOLERANCE).match
    assert settled is not None and settled.write_off == a.invoice_id and settled.difference == Money(500, "EUR")
    more = decide(replace(credit(91_500), charges=Money(500, "EUR")), Candidates(by_numbers=[a]), TOLERANCE).match
    assert more is not None and more.write_off is None


def test_a_shortfall_on_the_last_of_several_invoices_is_settled_only_when_every_one_is_reached() -> None:
    a, b, c = item("FA-000006", 5_000), item("FA-000007", 5_000), item("FA-000008", 5_000)
    reached = decide(credit(9_980), Candidates(by_numbers=[a, b]), TOLERANCE).match
    assert reached is not None and reached.write_off == b.invoice_id
    not_reached = decide(credit(9_980), Candidates(by_numbers=[a, b, c]), TOLERANCE).match
    assert not_reached is not None and not_reached.write_off is None and len(not_reached.allocations) == 2


def test_rule_3_a_known_payer_with_the_amount_of_one_open_invoice_or_of_the_whole_balance() -> None:
    a, b = item("FA-000009", 3_000), item("FA-000010", 4_000)
    one = decide(credit(4_000), Candidates(known_customer=ALICE, customer_items=[a, b]), TOLERANCE).match
    assert one is not None and one.rule == "known-payer" and one.allocations == [(b.invoice_id, Money(4_000, "EUR"))]
    whole = decide(credit(7_000), Candidates(known_customer=ALICE, customer_items=[a, b]), TOLERANCE).match
    assert whole is not None and [m for _, m in whole.allocations] == [Money(3_000, "EUR"), Money(4_000, "EUR")]
    neither = decide(credit(4_400), Candidates(known_customer=ALICE, customer_items=[a, b]), TOLERANCE)
    assert neither.match is None and neither.customer_id == ALICE
    assert [s.number for s in neither.suggestions][:1] == ["FA-000010"]  # the closer amount first


def test_the_reference_wins_over_numbers_and_the_known_payer() -> None:
    by_ref, by_number = item("FA-000011", 1_000), item("FA-000012", 1_000, BOB)
    decision = decide(credit(1_000, remittance="FA-000012"), Candidates(
        by_reference=[by_ref], by_numbers=[by_number], known_customer=BOB, customer_items=[by_number]), TOLERANCE)
    assert decision.match is not None and decision.match.rule == "reference"


def test_a_closed_or_foreign_currency_candidate_is_no_match() -> None:
    closed = item("FA-000013", 0)
    dollars = OpenItem(uuid4(), "FA-000014", ALICE, Money(1_000, "USD"), date(2026, 3, 1))
    decision = decide(credit(1_000), Candidates(by_reference=[closed], by_numbers=[dollars]), TOLERANCE)
    assert decision.match is None and decision.customer_id is None


def test_rule_4_amount_and_date_proximity_is_only_suggested_and_ranked() -> None:
    near = item("FA-000015", 10_000, BOB, due_on=date(2026, 3, 9))
    later = item("FA-000016", 10_000, BOB, due_on=date(2026, 1, 5))
    apart = item("FA-000017", 11_500, BOB, due_on=date(2026, 3, 9))
    decision = decide(credit(10_000), Candidates(near_amount=[apart, later, near]), TOLERANCE)
    assert decision.match is None
    assert [s.number for s in decision.suggestions] == ["FA-000015", "FA-000016", "FA-000017"]
    assert decision.suggestions[0].score > decision.suggestions[1].score > decision.suggestions[2].score
    assert "same amount" in decision.suggestions[0].why and 0 <= decision.suggestions[-1].score <= 100


def test_a_known_payer_adds_to_the_score_and_says_why() -> None:
    mine, theirs = item("FA-000018", 10_000, ALICE), item("FA-000019", 10_000, BOB)
    ranked = rank(credit(10_000), [theirs, mine], known_customer=ALICE)
    assert ranked[0].invoice_id == mine.invoice_id and "IBAN known" in ranked[0].why
    assert ranked[0].score == ranked[1].score + 15


def test_a_customer_reference_pays_that_customers_open_items_oldest_due_first_the_rest_unapplied() -> None:
    older, newer = item("FA-000021", 3_000, due_on=date(2026, 2, 1)), item("FA-000022", 4_000)
    found = Candidates(referenced_customer=ALICE, referenced_items=[older, newer])
    decision = decide(credit(9_000, reference="RF00CAAAA"), found, TOLERANCE)
    assert decision.match is not None and decision.match.rule == "customer-reference"
    assert decision.match.allocations == [(older.invoice_id, Money(3_000, "EUR")), (newer.invoice_id,
                                                                                 Money(4_000, "EUR"))]
    assert decision.customer_id == ALICE and decision.match.write_off is None  # 20.00 stays unapplied
    part = decide(credit(5_000), found, TOLERANCE).match
    assert part is not None and part.allocations == [(older.invoice_id, Money(3_000, "EUR")),
                                                     (newer.invoice_id, Money(2_000, "EUR"))]
    nothing_open = decide(credit(5_000), Candidates(referenced_customer=BOB), TOLERANCE)
    assert nothing_open.match is None and nothing_open.customer_id == BOB


def test_an_invoice_reference_wins_over_a_customer_reference() -> None:
    own, other = item("FA-000023", 1_000), item("FA-000024", 1_000, BOB)
    decision = decide(credit(1_000), Candidates(by_reference=[own], referenced_customer=BOB,
                                                referenced_items=[other]), TOLERANCE)
    assert decision.match is not None and decision.match.rule == "reference"


def discounted(number: str, minor: int, discount: int, until: date, customer: UUID = ALICE) -> OpenItem:
    return replace(item(number, minor, customer), discount=OfferedDiscount(Money(discount, "EUR"), until))


def test_the_discounted_amount_within_the_window_is_an_exact_match_not_a_shortfall() -> None:
    invoice = discounted("FA-000025", 120_000, 2_400, until=date(2026, 3, 10))
    match = decide(credit(117_600), Candidates(by_reference=[invoice]), TOLERANCE).match
    assert match is not None and match.allocations == [(invoice.invoice_id, Money(117_600, "EUR"))]
    assert match.write_off is None
    known = decide(credit(117_600), Candidates(known_customer=ALICE, customer_items=[invoice]), TOLERANCE).match
    assert known is not None and known.rule == "known-payer"
    late = decide(credit(117_600, value_on=date(2026, 3, 11)), Candidates(known_customer=ALICE,
                                                                          customer_items=[invoice]), TOLERANCE)
    assert late.match is None  # the window closed the day before: 24.00 short, beyond the tolerance


def test_one_credit_of_two_discounted_amounts_pays_each_its_discounted_amount() -> None:
    a = discounted("FA-000026", 50_000, 1_000, until=date(2026, 3, 10))
    b = discounted("FA-000027", 30_000, 600, until=date(2026, 3, 10))
    match = decide(credit(78_400, remittance="FA-000026 FA-000027"), Candidates(by_numbers=[a, b]), TOLERANCE).match
    assert match is not None and match.allocations == [(a.invoice_id, Money(49_000, "EUR")),
                                                       (b.invoice_id, Money(29_400, "EUR"))]
    full = decide(credit(80_000), Candidates(by_numbers=[a, b]), TOLERANCE).match
    assert full is not None and [m.minor for _, m in full.allocations] == [50_000, 30_000]  # no discount taken
    whole = decide(credit(78_400), Candidates(known_customer=ALICE, customer_items=[a, b]), TOLERANCE).match
    assert whole is not None and [m.minor for _, m in whole.allocations] == [49_000, 29_400]


def test_a_discounted_amount_is_suggested_as_the_same_amount() -> None:
    invoice = discounted("FA-000028", 120_000, 2_400, until=date(2026, 3, 10), customer=BOB)
    [suggestion] = rank(credit(117_600), [invoice], known_customer=None)
    assert "early-payment discount" in suggestion.why and suggestion.score >= 60
