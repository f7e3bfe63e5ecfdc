"""Random sequences of commands against the real aggregates and a plain-integer model of the balances.

The model predicts whether each command is accepted, refused or a no-op. A refused command must leave every
aggregate it touched at the same version; a no-op must not add an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import NAMESPACE_URL, uuid4, uuid5

from eventsourcing.domain import Aggregate
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from ar.domain import allocation
from ar.domain.errors import Conflict, DomainRuleViolation
from ar.domain.invoice import Invoice
from ar.domain.invoice_kind import Category, InvoiceKind
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod
from ar.domain.vat import VatLine

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ON = date(2026, 3, 1)
REFUNDS = uuid5(NAMESPACE_URL, "https://ar.invalid/tests/refunds")
RETURNABLE = {PaymentMethod.DIRECT_DEBIT, PaymentMethod.CHEQUE}
MAX_EACH = 4  # few aggregates, many commands on them: invoices get paid, credited, closed and reopened

currencies = st.sampled_from(["EUR", "EUR", "EUR", "EUR", "USD"])  # mostly one currency, so most pairs can match
amounts = st.integers(min_value=1, max_value=5_000)


@dataclass(frozen=True)
class Near:
    """As much as the command may take, give or take `delta` minor units: probes the exact boundaries."""

    delta: int


near = st.builds(Near, st.integers(min_value=-1, max_value=1))
requested = st.one_of(near, st.integers(min_value=-1, max_value=6_000))  # -1 and 0 must be refused
partial = st.one_of(near, st.integers(min_value=-1, max_value=2_000))


@dataclass
class InvoiceModel:
    total: int
    currency: str
    allocations: dict[str, int] = field(default_factory=dict)
    credits: dict[str, int] = field(default_factory=dict)
    written_off: int = 0

    @property
    def open(self) -> int:
        return self.total - sum(self.allocations.values()) - sum(self.credits.values()) - self.written_off

    @property
    def closed(self) -> bool:
        # settled by a write-off or by credit notes alone; a reversal that reopens an amount reopens the invoice
        return self.open == 0 and (self.written_off > 0 or not self.allocations)


@dataclass
class PaymentModel:
    amount: int
    currency: str
    method: PaymentMethod
    allocations: dict[str, int] = field(default_factory=dict)
    refunds: dict[int, int] = field(default_factory=dict)
    returned: bool = False

    @property
    def unapplied(self) -> int:
        return 0 if self.returned else self.amount - sum(self.allocations.values()) - sum(self.refunds.values())


@settings(max_examples=200, deadline=None, stateful_step_count=20)
class Balances(RuleBasedStateMachine):
    invoices = Bundle("invoices")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.customer_id = uuid4()
        self.real_invoices: dict[str, Invoice] = {}
        self.real_payments: dict[str, Payment] = {}
        self.model_invoices: dict[str, InvoiceModel] = {}
        self.model_payments: dict[str, PaymentModel] = {}

    # Helpers --------------------------------------------------------------------------------------------------
    def _run(self, command: Callable[[], object], touched: list[Aggregate], *, refused: bool,
             no_op: bool = False) -> None:
        """Run `command`; check it is refused exactly when the model says so, and that a refusal changes nothing."""
        before = [aggregate.version for aggregate in touched]
        try:
            command()
        except (DomainRuleViolation, Conflict):
            assert refused, "the aggregates refused a command the model accepts"
            assert [aggregate.version for aggregate in touched] == before, "a refused command changed an aggregate"
            return
        assert not refused, "the aggregates accepted a command the model refuses"
        if no_op:
            assert [aggregate.version for aggregate in touched] == before, "a no-op recorded an event"
        else:
            assert [aggregate.version for aggregate in touched] != before, "an accepted command recorded nothing"

    @staticmethod
    def _amount(wanted: int | Near, *limits: int) -> int:
        return min(limits) + wanted.delta if isinstance(wanted, Near) else wanted

    # Creations ------------------------------------------------------------------------------------------------
    @precondition(lambda self: len(self.real_invoices) < MAX_EACH)
    @rule(target=invoices, total=amounts, currency=currencies)
    def issue_invoice(self, total: int, currency: str) -> str:
        key = f"I{len(self.real_invoices) + 1}"
        money = Money(total, currency)
        self.real_invoices[key] = Invoice.issue(
            id=uuid4(), number=f"F2026-{len(self.real_invoices) + 1:06d}", series="F2026",
            customer_id=self.customer_id, kind=InvoiceKind.STANDARD, total=money,
            vat=[VatLine(Decimal(0), money, Money.zero(currency))], issued_on=ON, due_on=ON,
            category=Category.SERVICES, purchase_order=None, external_id=None, structured_reference="RF00",
            deposits=[], at=AT,
        )
        self.model_invoices[key] = InvoiceModel(total, currency)
        return key

    @precondition(lambda self: len(self.real_payments) < MAX_EACH)
    @rule(target=payments, amount=amounts, currency=currencies, method=st.sampled_from(PaymentMethod))
    def receive_payment(self, amount: int, currency: str, method: PaymentMethod) -> str:
        key = f"P{len(self.real_payments) + 1}"
        self.real_payments[key] = Payment.receive(
            id=uuid4(), customer_id=self.customer_id, amount=Money(amount, currency), method=method, value_on=ON,
            payer_reference=None, remittance=None, external_id=None, at=AT,
        )
        self.model_payments[key] = PaymentModel(amount, currency, method)
        return key

    # Commands -------------------------------------------------------------------------------------------------
    @rule(p=payments, i=invoices, wanted=requested)
    def allocate(self, p: str, i: str, wanted: int | Near) -> None:
        payment, invoice = self.real_payments[p], self.real_invoices[i]
        pay, inv = self.model_payments[p], self.model_invoices[i]
        amount = self._amount(wanted, inv.open, pay.unapplied)
        already = pay.allocations.get(i) == amount  # the same allocation again: a retry, a no-op
        refused = not already and (
            i in pay.allocations  # the pair exists with another amount: a conflict
            or amount <= 0 or pay.currency != inv.currency or inv.closed or pay.returned
            or amount > inv.open or amount > pay.unapplied
        )
        self._run(lambda: allocation.allocate(payment, invoice, Money(amount, pay.currency), AT), [payment, invoice],
                  refused=refused, no_op=already)
        if not refused and not already:
            pay.allocations[i] = amount
            inv.allocations[p] = amount

    def _payable_pairs(self) -> list[tuple[str, str]]:
        return [
            (p, i)
            for p, pay in self.model_payments.items()
            for i, inv in self.model_invoices.items()
            if pay.currency == inv.currency and pay.unapplied > 0 and inv.open > 0 and not inv.closed
            and i not in pay.allocations
        ]

    @precondition(lambda self: bool(self._payable_pairs()))
    @rule(data=st.data())
    def allocate_part_of_what_is_open(self, data: st.DataObject) -> None:
        p, i = data.draw(st.sampled_from(self._payable_pairs()), label="pair")
        limit = min(self.model_payments[p].unapplied, self.model_invoices[i].open)
        self.allocate(p, i, data.draw(st.integers(min_value=1, max_value=limit), label="amount"))

    @rule(p=payments, i=invoices)
    def reverse_allocation(self, p: str, i: str) -> None:
        payment, invoice = self.real_payments[p], self.real_invoices[i]
        present = i in self.model_payments[p].allocations
        self._run(lambda: allocation.reverse(payment, invoice, "reversed", AT), [payment, invoice],
                  refused=False, no_op=not present)
        self.model_payments[p].allocations.pop(i, None)
        self.model_invoices[i].allocations.pop(p, None)

    @precondition(lambda self: any(model.allocations for model in self.model_payments.values()))
    @rule(data=st.data())
    def reverse_an_existing_allocation(self, data: st.DataObject) -> None:
        pairs = sorted((p, i) for p, model in self.model_payments.items() for i in model.allocations)
        p, i = data.draw(st.sampled_from(pairs), label="allocation")
        self.reverse_allocation(p, i)

    @rule(i=invoices, note=st.integers(min_value=1, max_value=3), wanted=partial)
    def apply_credit_note(self, i: str, note: int, wanted: int | Near) -> None:
        invoice, inv = self.real_invoices[i], self.model_invoices[i]
        number = f"AV2026-{note:06d}"
        amount = self._amount(wanted, inv.open)
        already = number in inv.credits
        refused = not already and (amount <= 0 or inv.closed or amount > inv.open)
        self._run(lambda: invoice.apply_credit_note(number, Money(amount, inv.currency), ON, "credit", AT),
                  [invoice], refused=refused, no_op=already)
        if not refused and not already:
            inv.credits[number] = amount

    @rule(i=invoices)
    def write_off(self, i: str) -> None:
        invoice, inv = self.real_invoices[i], self.model_invoices[i]
        already = inv.written_off > 0 and inv.open <= 0
        refused = not already and inv.open <= 0
        self._run(lambda: invoice.write_off(ON, "bad debt", AT), [invoice], refused=refused, no_op=already)
        if not refused and not already:
            inv.written_off += inv.open

    @rule(p=payments, refund=st.integers(min_value=1, max_value=2), wanted=partial)
    def refund(self, p: str, refund: int, wanted: int | Near) -> None:
        payment, pay = self.real_payments[p], self.model_payments[p]
        amount = self._amount(wanted, pay.unapplied)
        already = refund in pay.refunds
        refused = not already and (amount <= 0 or pay.returned or amount > pay.unapplied)
        refund_id = uuid5(REFUNDS, f"{payment.id}:{refund}")
        self._run(lambda: payment.refund(refund_id, Money(amount, pay.currency), ON, AT), [payment],
                  refused=refused, no_op=already)
        if not refused and not already:
            pay.refunds[refund] = amount

    @rule(p=payments)
    def return_payment(self, p: str) -> None:
        """What the application does: the payment refuses or returns, then each invoice it paid reverses."""
        payment, pay = self.real_payments[p], self.model_payments[p]
        paid = [self.real_invoices[i] for i in pay.allocations]
        already = pay.returned
        refused = not already and (pay.method not in RETURNABLE or bool(pay.refunds))

        def mark_returned() -> None:
            payment.mark_returned(ON, "AM04 insufficient funds", AT)
            for invoice in paid:
                invoice.reverse_allocation(payment.id, "AM04 insufficient funds", AT)

        self._run(mark_returned, [payment, *paid], refused=refused, no_op=already)
        if not refused and not already:
            for i in pay.allocations:
                del self.model_invoices[i].allocations[p]
            pay.allocations.clear()
            pay.returned = True

    # Invariant (checked after every step) -------------------------------------------------------------------
    @invariant()
    def balances_match_the_model_on_both_sides(self) -> None:
        for key, invoice in self.real_invoices.items():
            inv = self.model_invoices[key]
            open_amount = invoice.open_amount
            assert open_amount == Money(inv.open, inv.currency), key
            assert open_amount.minor >= 0, key
            assert invoice.is_closed == inv.closed, key
        for key, payment in self.real_payments.items():
            pay = self.model_payments[key]
            unapplied = payment.unapplied
            assert unapplied == Money(pay.unapplied, pay.currency), key
            assert unapplied.minor >= 0, key
        by_invoice = {
            (payment_id, invoice.id): amount.minor
            for invoice in self.real_invoices.values()
            for payment_id, amount in invoice.allocations.items()
        }
        by_payment = {
            (payment.id, invoice_id): amount.minor
            for payment in self.real_payments.values()
            for invoice_id, amount in payment.allocations.items()
        }
        assert by_invoice == by_payment
        assert sum(by_invoice.values()) == sum(by_payment.values())


def test_balances_stay_consistent_under_random_commands() -> None:
    run_state_machine_as_test(Balances)
