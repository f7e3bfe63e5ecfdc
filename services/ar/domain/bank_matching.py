"""Matching a bank credit to open invoices: pure. The application finds the candidates (read models), this module
decides: an automatic match (allocations, the rule, a tolerance write-off) or ranked suggestions for a person.

Rules, in order of confidence:
1. `reference`: the structured creditor reference (RF, ISO 11649) equals an open invoice's;
2. `numbers`: invoice numbers quoted in the remittance text, allocated in the order quoted, each up to its open
   amount (one credit may pay several invoices);
3. `known-payer`: the payer's IBAN is known for a customer and the amount equals one of its open invoices (or its
   whole open balance);
4. amount and date proximity: suggestions only, never automatic.

A shortfall within `tolerance` (bank charges; or within the charges the bank reports) settles the last invoice
paid: the application writes the rest off; beyond it the invoice stays partly paid."""

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
class OpenItem:
    """An open invoice as a candidate: `open` is what may still be paid (open and not disputed)."""

    invoice_id: UUID
    number: str
    customer_id: UUID
    open: Money
    due_on: date
    structured_reference: str | None = None


@dataclass(frozen=True)
class Candidates:
    """What the application found for one credit, each list already restricted to open items."""

    by_reference: list[OpenItem] = field(default_factory=list)
    by_numbers: list[OpenItem] = field(default_factory=list)   # in the order the remittance quotes them
    known_customer: UUID | None = None                          # whose payer IBAN this is, if known
    customer_items: list[OpenItem] = field(default_factory=list)  # that customer's open items, oldest due first
    near_amount: list[OpenItem] = field(default_factory=list)     # other open items of a similar amount


@dataclass(frozen=True)
class Match:
    rule: str                                  # reference, numbers, known-payer
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


def _spread(rule: str, amount: Money, items: list[OpenItem], tolerance: Money) -> Match:
    """Allocate in order, each up to its open amount; a shortfall on the last within tolerance is settled."""
    remaining, allocations = amount, []
    last: OpenItem | None = None
    for item in items:
        if not remaining.is_positive:
            break
        paid = min(remaining.minor, item.open.minor)
        allocations.append((item.invoice_id, Money(paid, amount.currency)))
        remaining -= Money(paid, amount.currency)
        last = item
    assert last is not None
    short = last.open - allocations[-1][1]
    if short.is_positive and short <= tolerance and len(allocations) == len(items):  # every item reached
        return Match(rule, items[0].customer_id, allocations, write_off=last.invoice_id, difference=short)
    return Match(rule, items[0].customer_id, allocations)


def _within(amount: Money, target: Money, tolerance: Money) -> bool:
    """The credit pays `target` exactly, or short by no more than the tolerance."""
    return target.minor - tolerance.minor <= amount.minor <= target.minor


def decide(entry: BankEntry, found: Candidates, tolerance: Money) -> Decision:
    """`tolerance`: the setting; charges the bank itself reports on the entry (camt `Chrgs`) settle as much."""
    amount = entry.amount
    charges = entry.charges
    if charges is not None and charges.currency == tolerance.currency and charges > tolerance:
        tolerance = charges
    by_reference = _usable(found.by_reference, amount.currency)
    if len(by_reference) == 1:
        return Decision(_spread("reference", amount, by_reference, tolerance), by_reference[0].customer_id)
    by_numbers = _usable(found.by_numbers, amount.currency)
    if by_numbers:
        return Decision(_spread("numbers", amount, by_numbers, tolerance), by_numbers[0].customer_id)
    own = _usable(found.customer_items, amount.currency)
    if found.known_customer is not None and own:
        exact = [i for i in own if i.open == amount]
        close = [i for i in own if _within(amount, i.open, tolerance)]
        one = exact[:1] if exact else close if len(close) == 1 else []
        if one:
            return Decision(_spread("known-payer", amount, one, tolerance), found.known_customer)
        balance = Money(sum(i.open.minor for i in own), amount.currency)
        if len(own) > 1 and _within(amount, balance, tolerance):
            return Decision(_spread("known-payer", amount, own, tolerance), found.known_customer)
    return Decision(None, found.known_customer, rank(entry, by_reference + own + _usable(
        found.near_amount, amount.currency), found.known_customer))


def score(entry: BankEntry, item: OpenItem, known_customer: UUID | None) -> tuple[int, str]:
    """Amount closeness (up to 60), due date near the value date (up to 25), the payer known for it (15)."""
    amount, why = entry.amount, []
    gap = abs(item.open.minor - amount.minor) / max(item.open.minor, amount.minor)
    points = round(60 * max(0.0, 1 - gap * 5))  # 20 % apart or more: nothing for the amount
    why.append("same amount" if gap == 0 else f"amount {round(gap * 100)} % apart")
    days = abs((entry.value_on - item.due_on).days)
    points += round(25 * max(0.0, 1 - days / 60))
    why.append(f"due {days} days from the value date")
    if known_customer is not None and item.customer_id == known_customer:
        points += 15
        why.append("payer's IBAN known for this customer")
    if entry.creditor_reference and normalised_reference(entry.creditor_reference) == item.structured_reference:
        why.append("same creditor reference")
    if item.number.upper() in numbers_in(entry.remittance):
        why.append("number in the remittance")
    return min(points, 100), ", ".join(why)


def rank(entry: BankEntry, items: list[OpenItem], known_customer: UUID | None) -> list[Suggestion]:
    scored = []
    for item in {i.invoice_id: i for i in items}.values():
        points, why = score(entry, item, known_customer)
        if points > 0:
            scored.append(Suggestion(item.invoice_id, item.number, item.customer_id, item.open, points, why))
    scored.sort(key=lambda s: (-s.score, s.number))
    return scored[:MAX_SUGGESTIONS]
