"""A customer statement: opening balance, every movement of the account with its running balance, closing balance,
and the aging of what is open at the end of the period; as a document a customer pays from, also the creditor's
identity, the customer's account number, each invoice's due date and payment reference, the legal mentions and how
to pay the open balance (`payment`: the customer's RF reference, see `ar.reports.payment_block`)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ar.domain.early_payment import mention
from ar.domain.errors import DomainRuleViolation, NotFound
from ar.domain.postal_address import PostalAddress
from ar.domain.reference import creditor_reference
from ar.domain.terms import PaymentTerms
from ar.projections.tables import customer_balances, customers, invoices, ledger_entries
from ar.reports.aging import AgingLine, aging_on, instant, refused_open
from ar.reports.bands import Bands
from ar.reports.payment_block import Creditor, PaymentBlock, account_number, customer_reference


@dataclass(frozen=True)
class Movement:
    effective_on: date
    kind: str  # invoice, payment, refund, payment_returned, credit_note, write_off, paid_for_other, ...
    reference: str | None  # invoice or credit-note number, payer reference
    invoice_number: str | None  # on paid_for_other: the other customer's invoice this customer's payment settled
    debit_minor: int  # raises what the customer owes
    credit_minor: int  # lowers it
    balance_minor: int
    position: int
    # third-party cash: on payment_allocated, the customer who paid this customer's invoice; on paid_for_other, the
    # customer whose invoice this customer's payment settled
    counterparty_id: UUID | None = None
    counterparty_name: str | None = None
    due_on: date | None = None  # of the invoice the movement concerns
    payment_reference: str | None = None  # on an invoice: the RF reference to quote when paying it (not if refused)
    # on an invoice the buyer refused (e-invoice status 210: "refused") or its platform rejected (213: "invalid"):
    # still in the balance until a credit note cancels it, but marked, and not asked to be paid
    refusal: str | None = None


REFUSALS = {"fr": {"refused": "refusée par le client", "invalid": "rejetée par la plateforme (invalide)"},
            "en": {"refused": "refused by the customer", "invalid": "rejected by the platform (invalid)"}}


@dataclass
class StatementSection:
    currency: str
    opening_minor: int
    movements: list[Movement] = field(default_factory=list)
    aging: AgingLine | None = None
    refused_minor: int = 0  # of the closing balance: invoices refused or invalid, still open at the period's end

    @property
    def closing_minor(self) -> int:
        return self.movements[-1].balance_minor if self.movements else self.opening_minor

    @property
    def payable_minor(self) -> int:
        """What the customer is asked to pay: the closing balance but the refused invoices, which wait for a credit
        note (or for the refusal to be settled) rather than for a payment."""
        return max(self.closing_minor - self.refused_minor, 0)


@dataclass
class Statement:
    customer_id: UUID
    name: str
    language: str
    from_on: date
    to_on: date
    known_at: datetime | None
    bands: Bands
    sections: list[StatementSection]
    external_id: str | None = None
    kind: str = "professional"  # professional, public or individual: which penalties the law gives
    creditor: Creditor | None = None
    discount_mention: str | None = None  # L441-9, from the customer's payment terms
    billing_address: tuple[str, ...] = ()  # the recipient block under the name (street, postcode CITY, country)
    siren: str | None = None

    @property
    def account_number(self) -> str:
        return account_number(self.customer_id)

    @property
    def payment_reference(self) -> str:
        """The RF reference that pays the customer's balance (several invoices in one transfer)."""
        return customer_reference(self.customer_id)

    def payment(self, section: StatementSection) -> PaymentBlock | None:
        """How to pay a section's balance but its refused invoices (`payable_minor`); None when nothing is to be
        paid or no IBAN is set."""
        if self.creditor is None or section.payable_minor <= 0:
            return None
        return PaymentBlock.of(self.creditor, section.payable_minor, section.currency, self.payment_reference)

    def refusal_text(self, movement: Movement) -> str | None:
        """The mark on a refused invoice's line, in the customer's language ("refusée par le client")."""
        if movement.refusal is None:
            return None
        return REFUSALS["fr" if self.language == "fr" else "en"].get(movement.refusal, movement.refusal)

    def legal_mentions(self) -> list[str]:
        """L441-9 / L441-10 / D441-5 for professionals, R2192-31 / D2192-35 for public buyers; a consumer owes
        interest at the legal rate from a formal notice only (Code civil 1231-6, 1344-1), and no EUR 40."""
        fr = self.language == "fr"
        texts = [self.discount_mention or mention(None, self.language)]
        if self.kind == "individual":
            texts.append("En cas de retard, les sommes dues portent intérêts au taux légal à compter de la mise en "
                         "demeure (art. 1231-6 et 1344-1 du Code civil)." if fr else
                         "Late payment: amounts due bear interest at the legal rate from a formal notice to pay "
                         "(French Civil Code, art. 1231-6 and 1344-1).")
            return texts
        if self.kind == "public":
            texts.append("Intérêts moratoires de plein droit dès le lendemain de l'échéance, au taux de la BCE en "
                         "vigueur au premier jour du semestre majoré de 8 points, et indemnité forfaitaire pour "
                         "frais de recouvrement de 40 € (art. R2192-31 et D2192-35 du Code de la commande publique)."
                         if fr else
                         "Moratory interest runs automatically from the day after the due date at the ECB rate in "
                         "force on the first day of the half-year plus 8 points, with a fixed recovery indemnity of "
                         "EUR 40 (French Public Procurement Code, R2192-31 and D2192-35).")
            return texts
        texts.append("Pénalités de retard exigibles de plein droit dès le lendemain de l'échéance, sans rappel "
                     "préalable : taux de refinancement de la BCE en vigueur au 1er janvier ou au 1er juillet, "
                     "majoré de 10 points (art. L441-10 du Code de commerce). Indemnité forfaitaire pour frais de "
                     "recouvrement : 40 € par facture (art. D441-5 du Code de commerce)." if fr else
                     "Late-payment penalties are due without reminder from the day after the due date: the ECB "
                     "main refinancing rate in force on 1 January or 1 July plus 10 points (French Commercial "
                     "Code, L441-10), and a fixed recovery indemnity of EUR 40 per invoice (D441-5).")
        return texts


def statement(engine: sa.Engine, customer_id: UUID, *, from_on: date, to_on: date, known_at: datetime | None = None,
              bands: Bands = Bands(), creditor: Mapping[str, str] | None = None,
              terms: PaymentTerms | None = None) -> Statement:
    """`creditor` (`Settings.creditor()`) and the customer's `terms` make it a document to pay from."""
    if to_on < from_on:
        raise DomainRuleViolation("`to` is before `from`", field="to")
    known_at = instant(known_at)
    params = {"customer_id": customer_id, "from_on": from_on, "to_on": to_on, "known_at": known_at}
    with engine.connect() as conn:  # one connection; the refusals only for a customer who has some
        customer = conn.execute(_customer_query(), params).first()
        if customer is None:
            raise NotFound(f"no customer {customer_id}", field="customer_id")
        rows = conn.execute(_movements_query(known_at is not None), params).all()
        others = {row.counterparty_id for row in rows if row.counterparty_id is not None}
        names = dict(conn.execute(sa.select(customers.c.customer_id, customers.c.name)
                                  .where(customers.c.customer_id.in_(others))).all()) if others else {}
        report = aging_on(conn, as_of=to_on, known_at=known_at, bands=bands, currency=None,
                          customer_id=customer_id, top=100)
        refusals: dict[UUID, str] = {i: v for i, v in conn.execute(_refusals_query(), params)}
        refused = refused_open(conn, as_of=to_on, known_at=known_at, customer_id=customer_id) if refusals else []
    # the opening balances (position NULL) come first; then the movements in order, each with its running balance
    # A large customer's period holds thousands of movements: a frozen dataclass's __init__ (one
    # object.__setattr__ per field) cost more than the query. Filling the new instance's __dict__ gives the same
    # object (equality, hash, repr and immutability afterwards unchanged); Movement has no __post_init__ or slots.
    new = object.__new__
    sections: dict[str, StatementSection] = {}
    balances: dict[str, int] = {}
    for position, currency, kind, effective_on, reference, delta, number, external_id, other, due_on, invoice in rows:
        delta = int(delta)
        if position is None:
            sections[currency], balances[currency] = StatementSection(currency, delta), delta
            continue
        if currency not in sections:
            sections[currency], balances[currency] = StatementSection(currency, 0), 0
        balance = balances[currency] = balances[currency] + delta
        movement = new(Movement)  # Movement(...) without the frozen __init__: see above
        refusal = refusals.get(invoice) if kind == "invoice" and refusals else None
        vars(movement).update(
            effective_on=effective_on, kind=kind, reference=reference or external_id, invoice_number=number,
            debit_minor=max(delta, 0), credit_minor=max(-delta, 0), balance_minor=balance, position=position,
            counterparty_id=other, counterparty_name=names.get(other, str(other)) if other is not None else None,
            due_on=due_on, refusal=refusal,
            payment_reference=creditor_reference(number) if kind == "invoice" and number and not refusal else None)
        sections[currency].movements.append(movement)
    for line in report.customers:
        sections.setdefault(line.currency, StatementSection(line.currency, 0)).aging = line
    for _, _, currency, open_minor in refused:
        sections.setdefault(currency, StatementSection(currency, 0)).refused_minor += open_minor
    return Statement(customer_id=customer_id, name=customer.name, language=customer.language, from_on=from_on,
                     to_on=to_on, known_at=known_at, bands=bands,
                     sections=[sections[c] for c in sorted(sections)], external_id=customer.external_id,
                     kind=customer.kind, creditor=Creditor.of(creditor) if creditor else None,
                     discount_mention=mention(terms, customer.language) if terms is not None else None,
                     billing_address=_address(customer), siren=customer.siren)


def _address(row: Any) -> tuple[str, ...]:
    if row.address_city is None:
        return ()
    return tuple(PostalAddress(tuple(row.address_lines.split("\n")), row.address_postcode, row.address_city,
                               row.address_country).block())


@functools.cache
def _customer_query() -> sa.Select[Any]:
    return sa.select(customers.c.name, customers.c.language, customers.c.external_id, customers.c.kind,
                     customers.c.address_lines, customers.c.address_postcode, customers.c.address_city,
                     customers.c.address_country, customers.c.siren).where(
        customers.c.customer_id == sa.bindparam("customer_id", type_=sa.Uuid))


@functools.cache
def _refusals_query() -> sa.Select[Any]:
    """The customer's invoices with a standing refusal (refused, invalid): few, found in the small index of those
    with a platform status (ix_invoices_lifecycle) rather than among all the customer's invoices."""
    i = invoices.c
    return sa.select(i.invoice_id, i.lifecycle_verdict).where(
        i.lifecycle_status.is_not(None), i.customer_id == sa.bindparam("customer_id", type_=sa.Uuid),
        i.lifecycle_verdict.is_not(None))


@functools.cache
def _movements_query(known: bool) -> sa.Select[Any]:
    """The opening balances (position NULL) and the movements of the period, in one query, built once."""
    e = ledger_entries.c
    customer_id = sa.bindparam("customer_id", type_=sa.Uuid)
    mine = [e.customer_id == customer_id, e.account_delta_minor != 0]
    if known:
        mine.append(e.recorded_at <= sa.bindparam("known_at", type_=sa.DateTime(timezone=True)))
    from_on, to_on = sa.bindparam("from_on", type_=sa.Date), sa.bindparam("to_on", type_=sa.Date)
    columns = (sa.null().label("kind"), sa.null().label("effective_on"), sa.null().label("reference"))
    names = (sa.null().label("invoice_number"), sa.null().label("payment_external_id"),
             sa.null().label("counterparty_id"), sa.null().label("due_on"), sa.null().label("invoice_id"))
    if known:  # as known then: the entries before the period, summed
        openings = (sa.select(sa.null().label("position"), e.currency, *columns,
                              sa.func.sum(e.account_delta_minor).label("account_delta_minor"), *names)
                    .where(*mine, e.effective_on < from_on).group_by(e.currency))
    else:  # today's balance minus what took effect since the period began: reads the period, not all before it
        b = customer_balances.c
        since = (sa.select(sa.func.coalesce(sa.func.sum(e.account_delta_minor), 0))
                 .where(*mine, e.currency == b.currency, e.effective_on >= from_on).scalar_subquery())
        before = sa.exists().where(*mine, e.currency == b.currency, e.effective_on < from_on)
        openings = (sa.select(sa.null().label("position"), b.currency, *columns,
                              (b.account_minor - since).label("account_delta_minor"), *names)
                    .where(b.customer_id == customer_id, before))
    # the invoice number and the payment's external id are copied into each entry (migration 0005): the movements
    # are one range of ix_ledger_customer_effective, which carries every column read here (migration 0018 added
    # due_on and invoice_id): an index-only scan on PostgreSQL, checked by tests/integration/test_statement_index.py
    movements = (sa.select(e.position, e.currency, e.kind, e.effective_on, e.reference, e.account_delta_minor,
                           e.invoice_number, e.payment_external_id, e.counterparty_id, e.due_on, e.invoice_id)
                 .where(*mine, e.effective_on >= from_on, e.effective_on <= to_on))
    both = sa.union_all(movements, openings).subquery()  # the movements first: their column types are kept
    return sa.select(both).order_by(both.c.position.is_not(None), both.c.effective_on, both.c.position)


def default_period(today: date) -> tuple[date, date]:
    """The current month to date."""
    return today.replace(day=1), today
