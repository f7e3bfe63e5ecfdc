"""Matching a bank credit to open invoices: pure. The application finds the candidates (read models), this module
decides: an automatic match (allocations, the rule, a tolerance write-off) or ranked suggestions for a person.

Rules, in order of confidence:
1. `reference`: the structured creditor reference (RF, ISO 11649) equals an open invoice's;
2. `customer-reference`: it is a customer's reference (`reference.customer_reference`, printed on statements and in
   their EPC QR code): that customer's open items, oldest due first; what is beyond them stays unapplied;
3. `numbers`: invoice numbers quoted in the remittance text (ours or an issuer's), allocated in the order quoted,
   each up to its open amount (one credit may pay several invoices);
4. `known-payer`: the payer's IBAN is known for a customer and the amount equals one of its open invoices (or its
   whole open balance);
5. amount and date proximity: suggestions only, never automatic.

An invoice whose early-payment discount (escompte) is still open at the credit's value date is paid exactly by its
discounted amount: the invoice then takes the discount when allocated (`Invoice.allocate`). A shortfall within
`tolerance` (bank charges; or within the charges the bank reports) settles the last invoice paid: the application
writes the rest off, in the same save; beyond it the invoice stays partly paid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from ar.domain.allocation import numbers_in
from ar.domain.bank_entry import BankEntry
from ar.domain.money import Money

TOLERANCE_REASON = "bank charges within tolerance"
MAX_SUGGESTIONS = 5


@dataclass(frozen=True)
class OfferedDiscount:
    """An early-payment discount an invoice still offers (none taken yet): `amount` off when paid by `until`."""

    amount: Money
    until: date


@dataclass(frozen=True)
class OpenItem:
    """An open invoice as a candidate: `open` is what may still be paid (open and not disputed)."""

    invoice_id: UUID
    number: str
    customer_id: UUID
    open: Money
    due_on: date
    structured_reference: str | None = None
    discount: OfferedDiscount | None = None

    def settled_by(self, value_on: date) -> Money:
        """The least that settles it with a value date of `value_on`: the discounted amount within the discount's
        window (`early_payment.discount_taken`: what is left open is then no more than the discount), else the open
        amount."""
        offer = self.discount
        if offer is None or value_on > offer.until or self.open <= offer.amount:
            return self.open
        return self.open - offer.amount


@dataclass(frozen=True)
class Candidates:
    """What the application found for one credit, each list already restricted to open items."""

    by_reference: list[OpenItem] = field(default_factory=list)
    referenced_customer: UUID | None = None                     # whose customer reference the credit carries
    referenced_items: list[OpenItem] = field(default_factory=list)  # that customer's open items, oldest due first
    by_numbers: list[OpenItem] = field(default_factory=list)   # in the order the remittance quotes them
    known_customer: UUID | None = None                          # whose payer IBAN this is, if known
    customer_items: list[OpenItem] = field(default_factory=list)  # that customer's open items, oldest due first
    near_amount: list[OpenItem] = field(default_factory=list)     # other open items of a similar amount


@dataclass(frozen=True)
class Match:
    rule: str                                  # reference, customer-reference, numbers, known-payer
    customer_id: UUID
    allocations: list[tuple[UUID, Money]]
    write_off: UUID | None = None              # the invoice whose small rest is settled as bank charges
    difference: Money | None = None            # the rest written off


@dataclass(frozen=True)
class Suggestion:
    invoice_id: UUID
    number: str
    customer_id: UUID
    open: Money
    score: int        # 0-100
    why: str


@dataclass(frozen=True)
class Decision:
    match: Match | None
    customer_id: UUID | None                  # the payer, when known (the match's, or the known IBAN's)
    suggestions: list[Suggestion] = field(default_factory=list)


def normalised_reference(reference: str | None) -> str | None:
    return reference.replace(" ", "").upper() if reference else None


def _usable(items: list[OpenItem], currency: str) -> list[OpenItem]:
    seen: set[UUID] = set()
    kept = []
    for item in items:
        if item.invoice_id not in seen and item.open.currency == currency and item.open.is_positive:
            seen.add(item.invoice_id)
            kept.append(item)
    return kept


def _total(items: list[OpenItem], value_on: date | None, currency: str) -> Money:
    """What settles every item: their open amounts (`value_on` None), or what settles each on `value_on`."""
    return Money(sum((i.open if value_on is None else i.settled_by(value_on)).minor for i in items), currency)


def _spread(rule: str, entry: BankEntry, items: list[OpenItem], tolerance: Money) -> Match:
    """Allocate in order, each up to its open amount; a shortfall on the last within tolerance is settled.

    A credit that reaches what settles every item at its value date (discounted amounts within their windows) pays
    each that much first, then tops them up in order with the rest: no discount is lost to the order of the
    items, and a credit of the full amounts takes none."""
    amount, value_on = entry.amount, entry.value_on
    currency = amount.currency
    least = _total(items, value_on, currency)
    paid = {i.invoice_id: 0 for i in items}
    remaining = amount.minor
    if least <= amount:
        for item in items:
            paid[item.invoice_id] = item.settled_by(value_on).minor
        remaining -= least.minor
    for item in items:
        more = min(remaining, item.open.minor - paid[item.invoice_id])
        paid[item.invoice_id] += more
        remaining -= more
    allocations = [(i.invoice_id, Money(paid[i.invoice_id], currency)) for i in items if paid[i.invoice_id] > 0]
    reached = [i for i in items if paid[i.invoice_id] > 0]
    last = reached[-1]
    short = last.open - Money(paid[last.invoice_id], currency)
    settled = Money(paid[last.invoice_id], currency) >= last.settled_by(value_on)
    if short.is_positive and not settled and short <= tolerance and len(reached) == len(items):  # all reached
        return Match(rule, items[0].customer_id, allocations, write_off=last.invoice_id, difference=short)
    return Match(rule, items[0].customer_id, allocations)


def _pays(entry: BankEntry, items: list[OpenItem], tolerance: Money) -> bool:
    """The credit settles these items: at least what settles them at its value date (discounted amounts within
    their windows), at most their open amounts; or short of the open amounts by no more than the tolerance."""
    amount = entry.amount
    full = _total(items, None, amount.currency)
    least = min(_total(items, entry.value_on, amount.currency).minor, full.minor - tolerance.minor)
    return least <= amount.minor <= full.minor


def _exact(entry: BankEntry, item: OpenItem) -> bool:
    return entry.amount == item.open or entry.amount == item.settled_by(entry.value_on)


def decide(entry: BankEntry, found: Candidates, tolerance: Money) -> Decision:
    """`tolerance`: the setting; charges the bank itself reports on the entry (camt `Chrgs`) settle as much."""
    amount = entry.amount
    charges = entry.charges
    if charges is not None and charges.currency == tolerance.currency and charges > tolerance:
        tolerance = charges
    by_reference = _usable(found.by_reference, amount.currency)
    if len(by_reference) == 1:
        return Decision(_spread("reference", entry, by_reference, tolerance), by_reference[0].customer_id)
    if found.referenced_customer is not None and not by_reference:
        referenced = [i for i in _usable(found.referenced_items, amount.currency)
                      if i.customer_id == found.referenced_customer]
        if not referenced:  # nothing open: the credit is the customer's, unapplied, for a person to look at
            return Decision(None, found.referenced_customer)
        return Decision(_spread("customer-reference", entry, referenced, tolerance), found.referenced_customer)
    by_numbers = _usable(found.by_numbers, amount.currency)
    if by_numbers:
        return Decision(_spread("numbers", entry, by_numbers, tolerance), by_numbers[0].customer_id)
    own = _usable(found.customer_items, amount.currency)
    if found.known_customer is not None and own:
        exact = [i for i in own if _exact(entry, i)]
        close = [i for i in own if _pays(entry, [i], tolerance)]
        one = exact[:1] if exact else close if len(close) == 1 else []
        if one:
            return Decision(_spread("known-payer", entry, one, tolerance), found.known_customer)
        if len(own) > 1 and _pays(entry, own, tolerance):
            return Decision(_spread("known-payer", entry, own, tolerance), found.known_customer)
    return Decision(None, found.known_customer, rank(entry, by_reference + own + _usable(
        found.near_amount, amount.currency), found.known_customer))


def score(entry: BankEntry, item: OpenItem, known_customer: UUID | None) -> tuple[int, str]:
    """Amount closeness (up to 60: to the open amount, or to the discounted one within its window), due date near
    the value date (up to 25), the payer known for it (15)."""
    amount, why = entry.amount, []
    discounted = item.settled_by(entry.value_on)
    gap = min(abs(target.minor - amount.minor) / max(target.minor, amount.minor)
              for target in (item.open, discounted))
    points = round(60 * max(0.0, 1 - gap * 5))  # 20 % apart or more: nothing for the amount
    if gap == 0:
        why.append("same amount" if amount == item.open else "the amount less its early-payment discount")
    else:
        why.append(f"amount {round(gap * 100)} % apart")
    days = abs((entry.value_on - item.due_on).days)
    points += round(25 * max(0.0, 1 - days / 60))
    why.append(f"due {days} days from the value date")
    if known_customer is not None and item.customer_id == known_customer:
        points += 15
        why.append("payer's IBAN known for this customer")
    if entry.creditor_reference and normalised_reference(entry.creditor_reference) == item.structured_reference:
        why.append("same creditor reference")
    if item.number.upper() in {n.upper() for n in numbers_in(entry.remittance)}:
        why.append("number in the remittance")
    return min(points, 100), ", ".join(why)


def rank(entry: BankEntry, items: list[OpenItem], known_customer: UUID | None) -> list[Suggestion]:
    scored = []
    for item in {i.invoice_id: i for i in items if i.open.is_positive}.values():
        points, why = score(entry, item, known_customer)
        if points > 0:
            scored.append(Suggestion(item.invoice_id, item.number, item.customer_id, item.open, points, why))
    scored.sort(key=lambda s: (-s.score, s.number))
    return scored[:MAX_SUGGESTIONS]
