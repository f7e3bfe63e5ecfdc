"""Early-payment discount (escompte): the terms that carry it, its mention, its VAT split, when a payment takes it."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from tests.unit.conftest import AT, IssueInvoice

from ar.domain.early_payment import DiscountOffer, discount_taken, mention
from ar.domain.errors import DomainRuleViolation
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.status import InvoiceStatus
from ar.domain.terms import EarlyPaymentDiscount, PaymentTerms
from ar.domain.vat import VatLine, split_amount

TWO_PERCENT = EarlyPaymentDiscount(Decimal(2), 10)
ISSUED_ON = date(2026, 3, 5)
OFFER = DiscountOffer.of(TWO_PERCENT, ISSUED_ON)


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


# Terms ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("rate", "days", "field"), [
    (Decimal(0), 10, "terms.discount.rate"),
    (Decimal("-1"), 10, "terms.discount.rate"),
    (Decimal("10.01"), 10, "terms.discount.rate"),
    (Decimal("NaN"), 10, "terms.discount.rate"),
    (Decimal(2), 0, "terms.discount.days"),
    (Decimal(2), 91, "terms.discount.days"),
])
def test_a_discount_outside_its_bounds_is_refused_naming_the_field(rate: Decimal, days: int, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as refused:
        EarlyPaymentDiscount(rate, days)
    assert refused.value.field == field


@pytest.mark.parametrize(("rate", "days"), [(Decimal("0.01"), 1), (Decimal(10), 90), (Decimal("1.5"), 30)])
def test_a_discount_within_its_bounds_is_accepted(rate: Decimal, days: int) -> None:
    assert EarlyPaymentDiscount(rate, days).until(ISSUED_ON) == date.fromordinal(ISSUED_ON.toordinal() + days)


def test_terms_with_a_discount_round_trip_and_old_terms_read_as_none() -> None:
    terms = PaymentTerms(days=30, discount=EarlyPaymentDiscount(Decimal("1.5"), 10))
    assert terms.to_dict()["discount"] == {"rate": "1.5", "days": 10}
    assert PaymentTerms.from_dict(terms.to_dict()) == terms
    stored_before_discounts = {"kind": "net", "days": 45, "reading": None}
    assert PaymentTerms.from_dict(stored_before_discounts) == PaymentTerms(days=45)
    assert PaymentTerms(days=45).to_dict() == stored_before_discounts  # encodes as it was stored


def test_the_window_ends_days_after_the_issue_date() -> None:
    assert DiscountOffer(Decimal(2), date(2026, 3, 15)) == OFFER
    assert OFFER.amount(eur(120_000)) == eur(2_400)
    assert OFFER.discounted(eur(120_000)) == eur(117_600)


def test_the_discount_is_rounded_half_up_to_the_cent() -> None:
    assert DiscountOffer(Decimal("1.5"), ISSUED_ON).amount(eur(12_345)) == eur(185)  # 185.175
    assert DiscountOffer(Decimal(2), ISSUED_ON).amount(eur(12_525)) == eur(251)  # 250.5


# Mention -------------------------------------------------------------------------------------------------------
def test_without_a_discount_the_mention_says_none() -> None:
    assert mention(None, "fr") == "Escompte pour paiement anticipé : néant"
    assert mention(PaymentTerms(), "fr") == "Escompte pour paiement anticipé : néant"
    assert mention(PaymentTerms(), "en") == "Early payment discount: none"


def test_an_invoice_offer_is_mentioned_with_its_last_day() -> None:
    assert mention(OFFER, "fr") == "Escompte pour paiement anticipé : 2 % si paiement avant le 15/03/2026"
    assert mention(OFFER, "en") == "Early payment discount: 2% if paid by 15/03/2026"
    half = DiscountOffer(Decimal("1.50"), date(2026, 3, 15))
    assert mention(half, "fr") == "Escompte pour paiement anticipé : 1,5 % si paiement avant le 15/03/2026"
    assert mention(half, "en") == "Early payment discount: 1.5% if paid by 15/03/2026"


def test_terms_are_mentioned_with_their_days() -> None:
    terms = PaymentTerms(discount=TWO_PERCENT)
    assert mention(terms, "fr") == "Escompte pour paiement anticipé : 2 % si paiement sous 10 jours"
    assert mention(TWO_PERCENT, "en") == "Early payment discount: 2% if paid within 10 days of the invoice date"


# VAT split -----------------------------------------------------------------------------------------------------
def test_the_discount_carries_the_vat_of_a_single_rate() -> None:
    split = split_amount(eur(2_400), [VatLine(Decimal(20), eur(100_000), eur(20_000))])
    assert split == [VatLine(Decimal(20), eur(2_000), eur(400))]


def test_the_vat_split_adds_up_to_the_cent_with_the_cent_left_to_the_largest_remainder() -> None:
    lines = [VatLine(Decimal("5.5"), eur(33_333), eur(1_833)), VatLine(Decimal(20), eur(66_667), eur(13_333)),
             VatLine(Decimal(0), eur(1), eur(0))]
    amount = eur(2_223)  # 2 % of 1,111.67 + the VAT, rounded
    split = split_amount(amount, lines)
    assert sum(line.base.minor + line.vat.minor for line in split) == amount.minor
    assert [line.rate for line in split] == [Decimal("5.5"), Decimal(20), Decimal(0)]
    # gross 351.66, 800.00, 0.01: exact shares 6.7879, 15.4419, 0.0002 rounded down 6.78 + 15.44 + 0.00, the
    # cent left to the largest remainder (.79): 22.23
    assert [line.base.minor + line.vat.minor for line in split] == [679, 1_544, 0]
    assert split[0].vat == eur(35) and split[1].vat == eur(257)  # 6.79 x 5.5/105.5, 15.44 x 20/120


def test_a_cent_left_between_equal_remainders_goes_to_the_line_with_the_largest_base() -> None:
    lines = [VatLine(Decimal(20), eur(500), eur(100)), VatLine(Decimal(10), eur(545), eur(55)),
             VatLine(Decimal(0), eur(600), eur(0))]
    split = split_amount(eur(100), lines)  # thirds: 33.33 each, rounded down 33 + 33 + 33, one cent left over
    assert [line.base.minor + line.vat.minor for line in split] == [33, 33, 34]


# The decision --------------------------------------------------------------------------------------------------
def test_the_full_discounted_amount_within_the_window_takes_the_discount() -> None:
    assert discount_taken(OFFER, total=eur(120_000), open_after=eur(2_400), value_on=date(2026, 3, 10)) == eur(2_400)


def test_the_last_day_of_the_window_still_takes_it_and_the_next_does_not() -> None:
    assert discount_taken(OFFER, total=eur(120_000), open_after=eur(2_400), value_on=date(2026, 3, 15)) == eur(2_400)
    assert discount_taken(OFFER, total=eur(120_000), open_after=eur(2_400), value_on=date(2026, 3, 16)) is None


def test_a_payment_short_of_the_discounted_amount_takes_none() -> None:
    assert discount_taken(OFFER, total=eur(120_000), open_after=eur(2_401), value_on=date(2026, 3, 10)) is None


def test_paying_a_little_more_than_the_discounted_amount_takes_what_is_left() -> None:
    assert discount_taken(OFFER, total=eur(120_000), open_after=eur(400), value_on=date(2026, 3, 10)) == eur(400)


def test_nothing_left_open_or_no_offer_takes_none() -> None:
    assert discount_taken(OFFER, total=eur(120_000), open_after=eur(0), value_on=date(2026, 3, 10)) is None
    assert discount_taken(None, total=eur(120_000), open_after=eur(2_400), value_on=date(2026, 3, 10)) is None


# The invoice: the decision taken when a payment is allocated, recorded by an event that only assigns -------------
def offering(issue_invoice: IssueInvoice) -> Invoice:
    invoice = issue_invoice(120_000, issued_on=ISSUED_ON, due_on=date(2026, 4, 4))
    invoice.offer_early_payment_discount(TWO_PERCENT, AT)
    invoice.collect_events()
    return invoice


def test_an_invoice_paid_in_time_records_the_discount_and_is_paid(issue_invoice: IssueInvoice) -> None:
    invoice = offering(issue_invoice)
    payment_id = uuid4()
    invoice.allocate(payment_id, eur(117_600), AT, value_on=date(2026, 3, 15))

    allocated, taken = invoice.collect_events()
    assert isinstance(allocated, Invoice.PaymentAllocated) and isinstance(taken, Invoice.EarlyPaymentDiscountTaken)
    assert (taken.payment_id, taken.amount, taken.on) == (payment_id, eur(2_400), date(2026, 3, 15))
    assert taken.vat_split == [{"rate": "0", "base_minor": 2_400, "vat_minor": 0}]
    assert (invoice.status, invoice.open_amount) == (InvoiceStatus.PAID, eur(0))
    invoice.allocate(payment_id, eur(117_600), AT, value_on=date(2026, 3, 15))  # a retry: nothing more
    assert invoice.collect_events() == []


def test_an_invoice_paid_a_day_late_stays_partly_paid(issue_invoice: IssueInvoice) -> None:
    invoice = offering(issue_invoice)
    invoice.allocate(uuid4(), eur(117_600), AT, value_on=date(2026, 3, 16))

    assert [type(e) for e in invoice.collect_events()] == [Invoice.PaymentAllocated]
    assert (invoice.status, invoice.open_amount, invoice.discount_taken) == (
        InvoiceStatus.PARTLY_PAID, eur(2_400), None)


def test_two_payments_in_time_take_the_discount_with_the_second(issue_invoice: IssueInvoice) -> None:
    invoice = offering(issue_invoice)
    invoice.allocate(uuid4(), eur(60_000), AT, value_on=date(2026, 3, 6))
    assert invoice.discount_taken is None
    invoice.allocate(uuid4(), eur(57_600), AT, value_on=date(2026, 3, 14))
    assert invoice.discount_taken is not None and invoice.discount_taken.amount == eur(2_400)
    assert invoice.open_amount == eur(0)


def test_an_invoice_without_an_offer_takes_no_discount(issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(120_000, issued_on=ISSUED_ON, due_on=date(2026, 4, 4))
    invoice.allocate(uuid4(), eur(117_600), AT, value_on=ISSUED_ON)
    assert (invoice.discount_offer, invoice.discount_taken, invoice.open_amount) == (None, None, eur(2_400))


def test_replaying_the_events_rebuilds_the_discount_without_deciding_it_again(issue_invoice: IssueInvoice) -> None:
    invoice = issue_invoice(120_000, issued_on=ISSUED_ON, due_on=date(2026, 4, 4))
    issued = copy.deepcopy(invoice)  # the state its Issued event left
    invoice.offer_early_payment_discount(TWO_PERCENT, AT)
    payment_id = uuid4()
    invoice.allocate(payment_id, eur(117_600), AT, value_on=date(2026, 3, 10))
    invoice.reverse_allocation(payment_id, "MD06", AT)
    events = invoice.collect_events()
    assert [type(e) for e in events][-2:] == [Invoice.AllocationReversed, Invoice.EarlyPaymentDiscountWithdrawn]

    replayed: Invoice | None = issued
    for e in events:
        replayed = e.mutate(replayed)
    assert isinstance(replayed, Invoice)
    assert (replayed.discount_offer, replayed.discount_taken, replayed.open_amount) == (
        OFFER, None, eur(120_000))
