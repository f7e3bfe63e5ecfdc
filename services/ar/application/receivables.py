"""`Receivables`: the service layer. Each public method decides, then saves once (one transaction)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from copy import deepcopy
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ar.application.commands import Saved, derived_id, new_id
from ar.application.einvoices import EInvoices
from ar.application.group_commit import Ticket, broken
from ar.application.history import event_to_dict
from ar.application.issuer_numbers import AskedInvoice, numbered_invoice_id
from ar.application.ports import Ports
from ar.application.rates import RateSeed
from ar.domain import allocation
from ar.domain.clock import Clock
from ar.domain.customer import UNCHANGED, CreditLimitPolicy, Customer, Language, Unchanged
from ar.domain.errors import (
    CreditLimitExceeded,
    DomainRuleViolation,
)
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.postal_address import PostalAddress
from ar.domain.reference import creditor_reference
from ar.domain.series import BY_AR, BY_ISSUER, NumberingSeries, check_issuer_number, check_series_name
from ar.domain.terms import CustomerKind, PaymentTerms
from ar.domain.vat import VatLine

__all__ = ["Receivables", "Saved", "derived_id", "new_id"]


class Receivables(EInvoices):
    name = "ar"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {NumberingSeries: 100}
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "5000"}

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock, ports: Ports, rate_seed: RateSeed,
                 creditor: Mapping[str, str], split_by_half_year: bool, lifecycle_snooze_days: int = 10):
        """`lifecycle_snooze_days`: how long an e-invoice status 211 (payment sent) snoozes the reminders (the
        setting `lifecycle_payment_sent_snooze_days`)."""
        super().__init__(env, clock=clock, ports=ports, rate_seed=rate_seed, creditor=creditor,
                         split_by_half_year=split_by_half_year)
        self.lifecycle_snooze_days = lifecycle_snooze_days
        self._series_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        # Each series as this process last advanced it, and the ticket of that number (see `_series`).
        self._live_series: dict[str, tuple[NumberingSeries, Ticket | None]] = {}

    # Customers -------------------------------------------------------------------------------------------------
    def register_customer(self, *, customer_id: UUID, name: str, kind: CustomerKind, country: str,
                          language: Language, emails: list[str], terms: PaymentTerms, credit_limit: Money | None,
                          external_id: str | None,
                          credit_limit_policy: CreditLimitPolicy = CreditLimitPolicy.FLAG,
                          billing_address: PostalAddress | None = None,
                          siren: str | None = None) -> Saved[Customer]:
        def decide() -> Saved[Customer]:
            customer = Customer.register(id=customer_id, name=name, kind=kind, country=country, language=language,
                                         emails=emails, terms=terms, credit_limit=credit_limit,
                                         credit_limit_policy=credit_limit_policy,
                                         external_id=external_id, at=self.clock.now(),
                                         billing_address=billing_address, siren=siren)
            return Saved(customer, self._save(customer))

        return self._create(Customer, customer_id, decide)

    def change_customer_terms(self, customer_id: UUID, terms: PaymentTerms,
                              expected_version: int | None = None) -> Saved[Customer]:
        return self._update(Customer, customer_id, expected_version,
                            lambda c: c.change_terms(terms, self.clock.now()), "customer_id")

    def change_credit_limit(self, customer_id: UUID, credit_limit: Money | None,
                            policy: CreditLimitPolicy | None = None,
                            expected_version: int | None = None) -> Saved[Customer]:
        return self._update(Customer, customer_id, expected_version,
                            lambda c: c.change_credit_limit(credit_limit, self.clock.now(), policy), "customer_id")

    def update_customer(self, customer_id: UUID, *, name: str, country: str, language: Language, emails: list[str],
                        terms: PaymentTerms, credit_limit: Money | None,
                        credit_limit_policy: CreditLimitPolicy | None = None,
                        expected_version: int | None = None,
                        billing_address: PostalAddress | Unchanged | None = UNCHANGED,
                        siren: str | Unchanged | None = UNCHANGED) -> Saved[Customer]:
        """The customer as its system of record (an ERP) now has it: each part that differs is recorded, in one
        transaction; nothing when nothing differs. `billing_address` and `siren` left out stay as they are (None
        clears them): an ERP that does not send them does not erase what another door recorded."""

        def change(customer: Customer) -> None:
            now = self.clock.now()
            customer.change_details(name=name, country=country, language=language, emails=emails, at=now)
            customer.change_terms(terms, now)
            customer.change_credit_limit(credit_limit, now, credit_limit_policy)
            if not isinstance(billing_address, Unchanged):
                customer.change_billing_address(billing_address, now)
            if not isinstance(siren, Unchanged):
                customer.record_siren(siren, now)

        return self._update(Customer, customer_id, expected_version, change, "customer_id")

    def update_billing_identity(self, customer_id: UUID, *, billing_address: PostalAddress | None,
                                siren: str | None, expected_version: int | None = None) -> Saved[Customer]:
        """Where letters and statements go and the SIREN, as they now are (None clears), in one save."""

        def change(customer: Customer) -> None:
            now = self.clock.now()
            customer.change_billing_address(billing_address, now)
            customer.record_siren(siren, now)

        return self._update(Customer, customer_id, expected_version, change, "customer_id")

    def get_customer(self, customer_id: UUID) -> Customer:
        return self._get(Customer, customer_id, "customer_id")

    def learn_payer_account(self, customer_id: UUID, iban: str) -> Saved[Customer]:
        """A confirmed bank match: credits from `iban` are this customer's (see `ar.application.bank_import`)."""
        return self._update(Customer, customer_id, None, lambda c: c.learn_payer_account(iban, self.clock.now()),
                            "customer_id")

    # Invoices --------------------------------------------------------------------------------------------------
    def _series(self, name: str, numbered_by: str = BY_AR) -> tuple[NumberingSeries, Ticket | None]:
        """The series (opened at its first use by whoever numbers it: ar, or the issuer of its first invoice), and
        the ticket its next number must follow. Called under the series' lock.

        Numbers are handed out while earlier ones are still waiting for their group commit: the series is kept as
        this process last advanced it, so a batch holds consecutive numbers. Once its last number is written, or when
        one of those in flight was not (a conflict, or another process numbering the same series), the series is
        read again from the store: another process may have numbered since."""
        live = self._live_series.get(name)
        if live is not None and live[1] is not None and not live[1].done and not broken(live[1]):
            return deepcopy(live[0]), live[1]
        series_id = NumberingSeries.create_id(name)
        found = self._exists(NumberingSeries, series_id)
        return (found if found is not None else NumberingSeries(name=name, numbered_by=numbered_by)), None

    def issue_invoice(self, *, invoice_id: UUID, series: str, customer_id: UUID, total: Money, vat: list[VatLine],
                      issued_on: date | None = None, due_on: date | None = None,
                      kind: InvoiceKind = InvoiceKind.STANDARD, category: Category = Category.SERVICES,
                      purchase_order: str | None = None, external_id: str | None = None,
                      deposit_invoice_ids: Sequence[UUID] = (), due_on_derogation: str | None = None,
                      number: str | None = None,
                      attach: Callable[[Invoice], None] | None = None,
                      also: Callable[[Invoice], Sequence[Aggregate]] | None = None) -> Saved[Invoice]:
        """An explicit `due_on` beyond the legal maximum for the customer (L441-10, R2192-10) needs
        `due_on_derogation`, the reason it is agreed anyway; it is recorded on the Issued event.

        `number`: the number the invoicing system (an ERP) gave the invoice, kept as given, in a series numbered by
        the issuer (opened so by its first invoice; a series ar numbers refuses it, 422 `series-numbered-elsewhere`).
        The invoice's id is then `numbered_invoice_id(series, number)`, whatever `invoice_id` says: the same
        invoice again is the existing one (nothing written), another under that number 409 `number-taken`.
        Without `number`, ar gives the next number of `series`, gapless. See `ar.application.issuer_numbers`.
        `attach`: records more on the new invoice before the one save (an e-invoice's document). `also`: other
        aggregates, made or changed for the new invoice (an e-invoice's prepaid payment), saved with it."""
        check_series_name(series)
        if number is not None:
            check_issuer_number(number)
            invoice_id = numbered_invoice_id(series, number)
        numbered_by = BY_AR if number is None else BY_ISSUER

        def decide() -> Saved[Invoice]:
            customer = self._get(Customer, customer_id, "customer_id", read_only=True)
            deposits = [self._get(Invoice, d, f"deposit_invoice_ids[{i}]") for i, d in enumerate(deposit_invoice_ids)]
            on = issued_on or self.clock.today()
            now = self.clock.now()
            with self._series_locks[series]:
                numbering, follows = self._series(series, numbered_by)
                if number is None:
                    given = numbering.next_number(invoice_id, now)
                else:
                    numbering.check_issuer_may_number(number)
                    given = number
                invoice = Invoice.issue(
                    id=invoice_id, number=given, series=series, customer_id=customer.id, kind=kind, total=total,
                    vat=vat, issued_on=on, due_on=due_on or customer.terms.due_on(on), category=category,
                    purchase_order=purchase_order, external_id=external_id,
                    structured_reference=creditor_reference(given), deposits=deposits, at=now,
                    ceiling=customer.terms.legal_ceiling(customer.kind, on), due_on_derogation=due_on_derogation,
                    numbered_by=numbered_by)
                if attach is not None:
                    attach(invoice)
                self._check_credit(customer, invoice, now)
                if customer.terms.discount is not None:
                    invoice.offer_early_payment_discount(customer.terms.discount, now)
                others = also(invoice) if also is not None else ()
                numbered = bool(numbering.pending_events)  # an issuer's number changes nothing in the series
                pending = self._submit(numbering, invoice, *deposits, *others, follows=follows)
                self._live_series[series] = (numbering, pending.ticket if numbered else follows)
            return Saved(invoice, self._wait(pending))

        saved = self._create(Invoice, invoice_id, decide)
        if number is not None and saved.position is None:  # the number was taken already: by this invoice?
            AskedInvoice(customer_id=customer_id, kind=kind, category=category, total=total, vat=vat,
                         issued_on=issued_on, due_on=due_on, purchase_order=purchase_order, external_id=external_id,
                         deposit_invoice_ids=deposit_invoice_ids).check_same_as(saved.aggregate)
        return saved

    def _check_credit(self, customer: Customer, invoice: Invoice, now: datetime) -> None:
        """Exposure comes from the read models (caught up first): it may lag a concurrent issue by one invoice."""
        if customer.credit_limit is None:
            return
        exposure = Money(self.ports.exposure.open_amount(customer.id, invoice.currency), invoice.currency)
        excess = customer.credit_excess(exposure, invoice.open_amount)
        if excess is None:
            return
        if customer.credit_limit_policy is CreditLimitPolicy.REFUSE:
            raise CreditLimitExceeded(
                f"{invoice.open_amount} on top of the open {exposure} exceeds the credit limit {customer.credit_limit} "
                f"of {customer.name} by {excess}", field="total_minor",
                figures={"exposure_minor": exposure.minor, "credit_limit_minor": customer.credit_limit.minor,
                         "invoice_minor": invoice.open_amount.minor, "excess_minor": excess.minor,
                         "currency": invoice.currency})
        invoice.flag_over_credit_limit(exposure, customer.credit_limit, excess, now)

    def get_invoice(self, invoice_id: UUID) -> Invoice:
        return self._get(Invoice, invoice_id, "invoice_id")

    def history(self, aggregate_id: UUID) -> list[dict[str, Any]]:
        return [event_to_dict(e) for e in self.events.get(aggregate_id)]

    def issue_credit_note(self, invoice_id: UUID, *, amount: Money, reason: str, series: str,
                          credited_on: date | None = None, expected_version: int | None = None,
                          credit_note_id: UUID | None = None) -> Saved[Invoice]:
        """`credit_note_id` (derived from the Idempotency-Key) makes a retry a no-op even when the first response
        was lost with its process: the invoice remembers the id, so no second number is taken."""
        check_series_name(series, "series")

        def attempt() -> Saved[Invoice]:
            invoice = self._get(Invoice, invoice_id, "invoice_id")
            if credit_note_id is not None and invoice.has_credit_note(credit_note_id):
                return Saved(invoice, None)
            self._check_version(invoice, expected_version)
            now = self.clock.now()
            with self._series_locks[series]:
                numbering, follows = self._series(series)
                number = numbering.next_number(invoice.id, now)
                invoice.apply_credit_note(number, amount, credited_on or self.clock.today(), reason, now,
                                          credit_note_id)
                pending = self._submit(numbering, invoice, follows=follows)
                self._live_series[series] = (numbering, pending.ticket)
            return Saved(invoice, self._wait(pending))

        return self._retrying(attempt)

    def write_off_invoice(self, invoice_id: UUID, *, reason: str, written_off_on: date | None = None,
                          expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version, lambda i: i.write_off(
            written_off_on or self.clock.today(), reason, self.clock.now()), "invoice_id")

    def open_dispute(self, invoice_id: UUID, *, dispute_id: UUID, amount: Money | None, reason: str,
                     opened_on: date | None = None, expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version, lambda i: i.open_dispute(
            dispute_id, amount or i.open_amount, reason, opened_on or self.clock.today(), self.clock.now()),
            "invoice_id")

    def resolve_dispute(self, invoice_id: UUID, *, dispute_id: UUID, outcome: str, resolved_on: date | None = None,
                        expected_version: int | None = None) -> Saved[Invoice]:
        return self._update(Invoice, invoice_id, expected_version, lambda i: i.resolve_dispute(
            dispute_id, outcome, resolved_on or self.clock.today(), self.clock.now()), "invoice_id")

    # Payments --------------------------------------------------------------------------------------------------
    def record_payment(self, *, payment_id: UUID, customer_id: UUID | None, amount: Money, method: PaymentMethod,
                       value_on: date | None = None, payer_reference: str | None = None,
                       remittance: str | None = None, external_id: str | None = None,
                       allocations: list[tuple[UUID, Money]] | None = None,
                       auto_allocate: bool = False) -> Saved[Payment]:
        """Record a payment and, in the same transaction, apply it explicitly or automatically."""

        def decide() -> Saved[Payment]:
            if customer_id is not None:
                self._get(Customer, customer_id, "customer_id", read_only=True)
            payment = Payment.receive(id=payment_id, customer_id=customer_id, amount=amount, method=method,
                                      value_on=value_on or self.clock.today(), payer_reference=payer_reference,
                                      remittance=remittance, external_id=external_id, at=self.clock.now())
            invoices = self._apply(payment, allocations, auto_allocate)
            return Saved(payment, self._save(payment, *invoices))

        return self._create(Payment, payment_id, decide)

    def _apply(self, payment: Payment, allocations: list[tuple[UUID, Money]] | None,
               auto: bool) -> list[Invoice]:
        now = self.clock.now()
        if allocations:
            if len({i for i, _ in allocations}) != len(allocations):
                raise DomainRuleViolation("an invoice is listed twice", field="allocations")
            touched = []
            for n, (invoice_id, amount) in enumerate(allocations):
                invoice = self._get(Invoice, invoice_id, f"allocations[{n}].invoice_id")
                try:
                    allocation.allocate(payment, invoice, amount, now)
                except DomainRuleViolation as e:
                    e.field = f"allocations[{n}].{e.field}" if e.field else f"allocations[{n}]"
                    raise
                touched.append(invoice)
            return touched
        if not auto:
            return []
        planned = allocation.plan(payment, self._candidates(payment))
        for invoice, amount in planned:
            allocation.allocate(payment, invoice, amount, now)
        return [invoice for invoice, _ in planned]

    def _candidates(self, payment: Payment) -> list[Invoice]:
        ids: list[UUID] = []
        if payment.payer_reference:
            ids += self.ports.finder.by_reference(payment.payer_reference.replace(" ", "").upper())
        ids += self.ports.finder.by_numbers(allocation.numbers_in(payment.remittance))
        if payment.customer_id is not None:
            ids += self.ports.finder.open_for_customer(payment.customer_id, payment.currency)
        unique = list(dict.fromkeys(ids))
        return [invoice for i in unique if (invoice := self._exists(Invoice, i)) is not None]

    def allocate_payment(self, payment_id: UUID, *, allocations: list[tuple[UUID, Money]] | None,
                         expected_version: int | None = None) -> Saved[Payment]:
        """Apply unapplied cash: to the invoices given, or automatically when none are given."""

        def attempt() -> Saved[Payment]:
            payment = self._get(Payment, payment_id, "payment_id")
            self._check_version(payment, expected_version)
            invoices = self._apply(payment, allocations, auto=not allocations)
            return Saved(payment, self._save(payment, *invoices))

        return self._retrying(attempt)

    def refund_payment(self, payment_id: UUID, *, refund_id: UUID, amount: Money, refunded_on: date | None = None,
                       expected_version: int | None = None) -> Saved[Payment]:
        return self._update(Payment, payment_id, expected_version, lambda p: p.refund(
            refund_id, amount, refunded_on or self.clock.today(), self.clock.now()), "payment_id")

    def return_payment(self, payment_id: UUID, *, reason: str, returned_on: date | None = None,
                       expected_version: int | None = None) -> Saved[Payment]:
        """A returned direct debit: the payment and every invoice it paid change in one transaction."""

        def attempt() -> Saved[Payment]:
            payment = self._get(Payment, payment_id, "payment_id")
            self._check_version(payment, expected_version)
            invoices = [self._get(Invoice, i, "payment_id") for i in payment.allocations]
            now = self.clock.now()
            for invoice in invoices:
                invoice.reverse_allocation(payment.id, reason, now)
            payment.mark_returned(returned_on or self.clock.today(), reason, now)
            return Saved(payment, self._save(payment, *invoices))

        return self._retrying(attempt)

    def get_payment(self, payment_id: UUID) -> Payment:
        return self._get(Payment, payment_id, "payment_id")
