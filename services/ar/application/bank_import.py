"""Bank statement import: each credit a payment (idempotently), returned direct debits returned, other debits
listed, and so is a credit that reverses one of our own debits (money back, not a customer paying); credits matched
in the domain (`ar.domain.bank_matching`) or left waiting with ranked suggestions.

A credit's payment id derives from its entry's key (`bank:<key>`), so the same statement, or one that overlaps,
imported again records nothing new: the entries already there are counted as duplicates. A credit's payment, its
allocations and a tolerance write-off are one save (`bank_credits.record_credit`); returns and a person's match go
through the existing `Receivables` commands; each import and its entries are kept for audit by the
`BankImportStore` port. Candidates come from the read models (`BankCandidates`), which may lag the
event store by the projections' interval: an invoice issued a moment ago may not be found yet, and its credit
then waits for a person."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID, uuid4

from ar.application import actor
from ar.application.bank_credits import RecordedCredit, WriteOff, record_credit
from ar.application.commands import new_id
from ar.application.ports import BankCandidates, BankImportStore
from ar.application.receivables import Receivables
from ar.domain.allocation import numbers_in
from ar.domain.bank_entry import BankEntry, BankStatement, Direction, TransactionFamily
from ar.domain.bank_matching import (
    TOLERANCE_REASON,
    Candidates,
    Match,
    OfferedDiscount,
    OpenItem,
    Suggestion,
    decide,
    normalised_reference,
    rank,
)
from ar.domain.errors import DomainError
from ar.domain.invoice import Invoice
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.reference import account_in_reference

MATCHED, WAITING, DUPLICATE, RETURNED, LISTED = "matched", "waiting", "duplicate", "returned", "listed"
# A credit that reverses one of our own debits (MT940 `RD`, GVC 159/181/059, a camt credit with `RvslInd`): a
# refunded direct debit we had paid, a transfer of ours sent back, charges given back. The money is the bank's or a
# supplier's, not a customer's payment: neither recorded as one nor queued for a person to match.
REVERSAL_CREDIT = "a reversal of one of our debits (money back, not a customer's payment): not recorded as a payment"
REVERSAL_DEBIT = "a reversal that is not a returned direct debit or cheque: no payment returned"
METHOD_OF_FAMILY = {
    TransactionFamily.DIRECT_DEBIT: PaymentMethod.DIRECT_DEBIT, TransactionFamily.CARD: PaymentMethod.CARD,
    TransactionFamily.CHEQUE: PaymentMethod.CHEQUE, TransactionFamily.CASH: PaymentMethod.CASH,
}


@dataclass(frozen=True)
class EntryOutcome:
    entry: BankEntry
    state: str
    payment_id: UUID | None = None
    rule: str | None = None
    invoices: list[tuple[UUID, Money]] = field(default_factory=list)
    written_off: Money | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class ImportReport:
    import_id: UUID
    format: str
    account: str
    statement_id: str | None
    received_at: datetime
    caused_by: str
    entries: list[EntryOutcome]
    duplicates_not_kept: int = 0  # a stored import keeps its duplicates' count, not the entries

    def count(self, state: str) -> int:
        return sum(1 for e in self.entries if e.state == state) + (
            self.duplicates_not_kept if state == DUPLICATE else 0)

    @property
    def credits(self) -> int:
        """Customers' credits seen for the first time: a reversal credit (money back, listed) is not one."""
        return sum(1 for e in self.entries
                   if e.entry.direction is Direction.CREDIT and e.state not in (DUPLICATE, LISTED))

    @property
    def all_duplicates(self) -> bool:
        return all(e.state == DUPLICATE for e in self.entries)


def credit_method(entry: BankEntry) -> PaymentMethod:
    """The payment method is the family the bank gives the credit: a direct debit we collected can later be
    returned, a transfer cannot. An end-to-end id says nothing (SEPA credit transfers carry one too), and a credit
    whose file gives no code, or a code we do not classify, is taken for a transfer."""
    if entry.family is None:
        return PaymentMethod.TRANSFER
    return METHOD_OF_FAMILY.get(entry.family, PaymentMethod.TRANSFER)


def open_item(invoice: Invoice) -> OpenItem | None:
    """An invoice as a candidate for a credit, None when nothing may be paid on it: nothing open but a disputed
    part (paid, credited, written off), or refused (210) or found invalid (213) by its e-invoice platform. Its
    early-payment discount counts while none is taken and nothing is disputed (a disputed part left open would
    keep the invoice from taking it)."""
    payable = invoice.open_amount - invoice.disputed
    if not payable.is_positive or invoice.lifecycle.verdict is not None:
        return None
    offer = invoice.discount_offer
    discount = None
    if offer is not None and invoice.discount_taken is None and not invoice.disputed.is_positive:
        discount = OfferedDiscount(offer.amount(invoice.total), offer.until)
    return OpenItem(invoice.id, invoice.number, invoice.customer_id, payable, invoice.due_on,
                    invoice.structured_reference, discount)


class BankImports:
    def __init__(self, app: Receivables, *, store: BankImportStore, candidates: BankCandidates,
                 tolerance_minor: int) -> None:
        self.app, self.store, self.candidates, self.tolerance_minor = app, store, candidates, tolerance_minor

    # Import ------------------------------------------------------------------------------------------------------
    def import_statements(self, statements: Sequence[BankStatement], *, format: str) -> list[ImportReport]:
        return [self.import_statement(s, format=format or s.format) for s in statements]

    def import_statement(self, statement: BankStatement, *, format: str | None = None) -> ImportReport:
        import_id, now = uuid4(), self.app.clock.now()
        report = ImportReport(import_id, format or statement.format, statement.account, statement.statement_id,
                              now, actor.current(), [])
        self.store.begin(report)
        known = self.store.known_keys([e.key for e in statement.entries])
        for entry in statement.entries:
            if entry.key in known:
                outcome = EntryOutcome(entry, DUPLICATE, payment_id=self.store.payment_of(entry.key))
            elif entry.direction is Direction.CREDIT and entry.reversal:
                outcome = EntryOutcome(entry, LISTED, note=REVERSAL_CREDIT)
            elif entry.direction is Direction.CREDIT:
                outcome = self._credit(entry)
            else:
                outcome = self._debit(entry)
            if outcome.state != DUPLICATE:
                self.store.add_entry(import_id, outcome)
            known.add(entry.key)  # the same entry twice in one file is a duplicate too
            report.entries.append(outcome)
        self.store.finish(report)
        return report

    def _credit(self, entry: BankEntry) -> EntryOutcome:
        payment_id = new_id("payment", external_id="bank:" + entry.key)
        tolerance = Money(self.tolerance_minor, entry.amount.currency)
        decision = decide(entry, self._candidates(entry, near=False), tolerance)
        if decision.match is None:  # only then are other customers' invoices of a similar amount worth a look
            decision = decide(entry, self._candidates(entry, near=True), tolerance)
        match = decision.match
        try:
            recorded = self._record(entry, payment_id, decision.customer_id, match)
        except DomainError as e:  # an invoice changed since it was found: the credit waits for a person
            recorded, match = self._record(entry, payment_id, decision.customer_id, None), None
            note: str | None = f"not matched automatically: {e.detail}"
        else:
            note = None
        if recorded.saved.position is None:  # recorded already (a concurrent import, or one cut short)
            return self._as_recorded(entry, recorded.saved.aggregate)
        if match is None:
            return EntryOutcome(entry, WAITING, payment_id, suggestions=decision.suggestions, note=note)
        return EntryOutcome(entry, MATCHED, payment_id, rule=match.rule, invoices=match.allocations,
                            written_off=recorded.written_off)

    def _record(self, entry: BankEntry, payment_id: UUID, customer_id: UUID | None,
                match: Match | None) -> RecordedCredit:
        """The payment, its allocations and the write-off of a shortfall, in one save."""
        write_off = None
        if match is not None and match.write_off is not None and match.difference is not None:
            write_off = WriteOff(match.write_off, match.difference, TOLERANCE_REASON)
        return record_credit(
            self.app, payment_id=payment_id, customer_id=customer_id, amount=entry.amount,
            method=credit_method(entry), value_on=entry.value_on,
            payer_reference=normalised_reference(entry.creditor_reference), remittance=entry.remittance,
            external_id="bank:" + entry.key, allocations=match.allocations if match else None, write_off=write_off)

    @staticmethod
    def _as_recorded(entry: BankEntry, payment: Payment) -> EntryOutcome:
        """The payment is there but not its entry (an import cut short, or a concurrent one that the store keeps
        once): the entry is recorded as the payment stands."""
        state = MATCHED if payment.allocations else WAITING
        return EntryOutcome(entry, state, payment.id, invoices=list(payment.allocations.items()),
                            note="recorded by an earlier import")

    def _debit(self, entry: BankEntry) -> EntryOutcome:
        """Only a return (a direct debit we collected, or a cheque deposited, coming back) returns a payment; any
        other debit, a reversed transfer, card payment or charge included, is listed."""
        if not entry.is_return:
            return EntryOutcome(entry, LISTED, note=REVERSAL_DEBIT if entry.reversal else None)
        payment_id = self.store.returned_credit(entry)
        if payment_id is None:
            return EntryOutcome(entry, LISTED, note="no imported credit matches this return")
        reason = f"bank return {entry.return_reason}" if entry.return_reason else "bank return"
        reopened = list(self.app.get_payment(payment_id).allocations.items())
        try:
            self.app.return_payment(payment_id, reason=reason, returned_on=entry.value_on)
        except DomainError as e:
            return EntryOutcome(entry, LISTED, payment_id, note=f"the return cannot be applied: {e}")
        return EntryOutcome(entry, RETURNED, payment_id, invoices=reopened, note=reason)

    def _candidates(self, entry: BankEntry, *, near: bool) -> Candidates:
        currency = entry.amount.currency
        finder = self.app.ports.finder
        reference = normalised_reference(entry.creditor_reference)
        by_reference = finder.by_reference(reference) if reference else []
        account = account_in_reference(reference)
        referenced = self.candidates.customer_by_account(account) if account and not by_reference else None
        of_referenced = finder.open_for_customer(referenced, currency) if referenced is not None else []
        by_numbers = finder.by_numbers(numbers_in(entry.remittance))
        customer = self.candidates.customer_of(entry.payer_iban) if entry.payer_iban else None
        own = finder.open_for_customer(customer, currency) if customer is not None else []
        close = self.candidates.near_amount(entry.amount) if near else []
        items = self._open_items([*by_reference, *of_referenced, *by_numbers, *own, *close])

        def pick(ids: list[UUID]) -> list[OpenItem]:
            return [items[i] for i in ids if i in items]

        return Candidates(by_reference=pick(by_reference), referenced_customer=referenced,
                          referenced_items=pick(of_referenced), by_numbers=pick(by_numbers),
                          known_customer=customer, customer_items=pick(own), near_amount=pick(close))

    def _open_items(self, ids: list[UUID]) -> dict[UUID, OpenItem]:
        """The invoices' current state from the event store (the read models only found them): those still open
        to a payment, that is not settled and not refused or found invalid by an e-invoice platform."""
        return {i: item for i, invoice in self.app.load_many(Invoice, ids).items()
                if (item := open_item(invoice)) is not None}

    # The unmatched queue -----------------------------------------------------------------------------------------
    def unmatched(self, limit: int = 100) -> list[EntryOutcome]:
        """Credits waiting for a person, oldest first, each with its suggestions ranked again from the invoices as
        they are now: one paid, credited, written off or refused since is no longer suggested, and the open amounts
        are today's. A credit allocated meanwhile another way (`POST /v1/payments/{id}/allocations`) leaves the
        queue, and its entry is recorded as confirmed so that it no longer takes a place in it."""
        while True:
            outcomes = [o for o in self.store.waiting(limit) if o.payment_id is not None]
            payments = self.app.load_many(Payment, [o.payment_id for o in outcomes if o.payment_id is not None])
            gone = [p for p in payments.values() if p.allocations or not p.unapplied.is_positive]
            if not gone:
                break
            for payment in gone:  # each leaves the store's queue for good: the loop ends
                self.store.confirmed(payment.id, list(payment.allocations.items()))
        invoices = self.app.load_many(Invoice, [s.invoice_id for o in outcomes for s in o.suggestions])
        still_open = {i: item for i, invoice in invoices.items() if (item := open_item(invoice)) is not None}
        waiting = []
        for outcome in outcomes:
            paying = payments.get(outcome.payment_id) if outcome.payment_id is not None else None
            if paying is not None:
                items = [still_open[s.invoice_id] for s in outcome.suggestions if s.invoice_id in still_open]
                waiting.append(replace(outcome, suggestions=rank(outcome.entry, items, paying.customer_id)))
        return waiting

    def confirm_match(self, payment_id: UUID, allocations: list[tuple[UUID, Money]],
                      expected_version: int | None = None) -> Payment:
        """A person's match (one invoice, or a split over several): allocated by the existing command; the payer's
        IBAN is then known for the customer of the first invoice, so its next credit matches by itself."""
        saved = self.app.allocate_payment(payment_id, allocations=allocations, expected_version=expected_version)
        iban = self.store.payer_iban_of(payment_id)
        if iban and allocations:
            customer_id = self.app.get_invoice(allocations[0][0]).customer_id
            self.app.learn_payer_account(customer_id, iban)
        self.store.confirmed(payment_id, allocations)
        return saved.aggregate

    def imports(self, limit: int = 100) -> list[ImportReport]:
        return self.store.imports(limit)

    def get_import(self, import_id: UUID) -> ImportReport | None:
        return self.store.get(import_id)

