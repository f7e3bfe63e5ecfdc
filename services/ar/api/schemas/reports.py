from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from ar.projections.stalls import Stall
from ar.reports.aging import AgingLine, AgingReport
from ar.reports.kpis import KpiReport
from ar.reports.penalties import PenaltyRow
from ar.reports.statement import Statement


class AgingLineOut(BaseModel):
    currency: str
    customer_id: UUID | None = None
    name: str | None = None
    buckets: dict[str, int] = Field(description="open amount in minor units per band; they add up to open_minor")
    open_minor: int
    invoices: int
    refused_minor: int = Field(0, description=(
        "of open_minor, the invoices refused by the buyer (e-invoice 210) or rejected as invalid (213): still owed "
        "until credited, so in the bands, but not dunned"))
    refused_invoices: int = Field(0, description="how many invoices refused_minor is")

    @classmethod
    def of(cls, line: AgingLine, labels: list[str]) -> AgingLineOut:
        return cls(currency=line.currency, customer_id=line.customer_id, name=line.name,
                   buckets=dict(zip(labels, line.buckets, strict=True)), open_minor=line.open_minor,
                   invoices=line.invoices, refused_minor=line.refused_minor, refused_invoices=line.refused_invoices)


class AgingOut(BaseModel):
    as_of: date
    known_at: datetime | None
    bands: list[str]
    totals: list[AgingLineOut] = Field(description="per currency")
    customers: list[AgingLineOut] = Field(description="the largest debtors, per currency")

    @classmethod
    def of(cls, r: AgingReport) -> AgingOut:
        labels = r.bands.labels
        return cls(as_of=r.as_of, known_at=r.known_at, bands=labels,
                   totals=[AgingLineOut.of(line, labels) for line in r.totals],
                   customers=[AgingLineOut.of(line, labels) for line in r.customers])


class MovementOut(BaseModel):
    effective_on: date
    kind: str = Field(examples=["invoice"], description="invoice, payment, payment_allocated (another payer's cash "
                      "settling an invoice), allocation_reversed, refund, payment_returned, credit_note, write_off, "
                      "paid_for_other (this customer's payment settling another customer's invoice), "
                      "paid_for_other_reversed")
    reference: str | None
    invoice_number: str | None = Field(description="on paid_for_other: the other customer's invoice it settled")
    debit_minor: int
    credit_minor: int
    balance_minor: int
    counterparty_id: UUID | None = Field(None, description=(
        "third-party cash: on payment_allocated, the customer who paid (e.g. a parent company); on paid_for_other, "
        "the customer whose invoice this payment settled"))
    counterparty_name: str | None = None
    due_on: date | None = Field(None, description="on an invoice: its due date")
    payment_reference: str | None = Field(None, description="on an invoice: the ISO 11649 reference to quote when "
                                          "paying it (none on a refused one)")
    refusal: str | None = Field(None, examples=["refused"], description=(
        "on an invoice the buyer refused (e-invoice 210, `refused`) or its platform rejected (213, `invalid`): "
        "still owed until credited, not asked to be paid"))
    refusal_text: str | None = Field(None, examples=["refusée par le client"],
                                     description="the mark the document shows, in the customer's language")


class CreditorOut(BaseModel):
    """Who is paid, from the settings (AR_CREDITOR_*)."""

    name: str
    legal_name: str
    address: list[str] = Field(description="street lines, then postcode and city, then the country if not FR")
    siren: str
    vat_id: str
    phone: str
    email: str


class HowToPayOut(BaseModel):
    """How to pay a currency's closing balance by bank transfer."""

    beneficiary: str
    iban: str
    bic: str
    amount_minor: int
    currency: str
    reference: str = Field(description="the customer's ISO 11649 reference (RF + the account number)")
    epc_qr: str | None = Field(description="the EPC069-12 payload of the QR code (euro amounts only)")
    qr_png_data_uri: str | None = Field(description="the QR code as a PNG data URI (euro amounts only)")


class StatementSectionOut(BaseModel):
    currency: str
    opening_minor: int
    movements: list[MovementOut]
    closing_minor: int
    aging: AgingLineOut | None
    refused_minor: int = Field(0, description="of closing_minor, the refused or invalid invoices still open")
    payable_minor: int = Field(0, description="what is asked to be paid: closing_minor but refused_minor")


class StatementPenaltyOut(BaseModel):
    """Late-payment penalties accrued on one invoice up to the statement's end (not part of the balances above)."""

    invoice_id: UUID
    number: str
    due_on: date
    currency: str
    regime: str
    interest_minor: int
    indemnity_minor: int
    total_minor: int
    claimed: bool = Field(description="claimed already by a dunning step (LatePenaltyClaimed)")
    explain: str


class StatementOut(BaseModel):
    customer_id: UUID
    name: str
    language: str
    from_on: date
    to_on: date
    known_at: datetime | None
    sections: list[StatementSectionOut]
    penalties: list[StatementPenaltyOut] = Field(default_factory=list, description=(
        "late-payment penalties accrued up to `to` on every invoice paid or still owed late (L441-10: interest "
        "from the day after the due date and the EUR 40 indemnity for professionals); not included in the "
        "balances, which hold what was invoiced"))
    account_number: str = Field("", description="the customer's account number on documents (10 hex digits of its id)")
    external_id: str | None = None
    billing_address: list[str] = Field(default_factory=list, description=(
        "the customer's billing address as printed under its name (street lines, postcode and city, the country "
        "abroad); empty when none is known"))
    siren: str | None = Field(None, description="the customer's SIREN, when recorded")
    creditor: CreditorOut | None = None
    payment: list[HowToPayOut] = Field(default_factory=list, description=(
        "how to pay each currency's closing balance, when one is owed"))
    legal_mentions: list[str] = Field(default_factory=list, description=(
        "L441-9 early-payment discount (or none), late-payment penalties and the EUR 40 indemnity as the law gives "
        "them for this kind of customer"))

    @classmethod
    def of(cls, st: Statement, penalties: list[PenaltyRow] | None = None) -> StatementOut:
        labels = st.bands.labels
        return cls(customer_id=st.customer_id, name=st.name, language=st.language, from_on=st.from_on,
                   to_on=st.to_on, known_at=st.known_at, sections=[StatementSectionOut(
                       currency=s.currency, opening_minor=s.opening_minor, closing_minor=s.closing_minor,
                       refused_minor=s.refused_minor, payable_minor=s.payable_minor,
                       movements=[MovementOut(effective_on=m.effective_on, kind=m.kind, reference=m.reference,
                                              invoice_number=m.invoice_number, debit_minor=m.debit_minor,
                                              credit_minor=m.credit_minor, balance_minor=m.balance_minor,
                                              counterparty_id=m.counterparty_id,
                                              counterparty_name=m.counterparty_name, due_on=m.due_on,
                                              payment_reference=m.payment_reference, refusal=m.refusal,
                                              refusal_text=st.refusal_text(m))
                                  for m in s.movements],
                       aging=AgingLineOut.of(s.aging, labels) if s.aging else None) for s in st.sections],
                   penalties=[StatementPenaltyOut(**asdict(p)) for p in penalties or []],
                   account_number=st.account_number, external_id=st.external_id,
                   billing_address=list(st.billing_address), siren=st.siren,
                   creditor=None if st.creditor is None else CreditorOut(
                       name=st.creditor.name, legal_name=st.creditor.legal_name,
                       address=st.creditor.address_lines, siren=st.creditor.siren, vat_id=st.creditor.vat_id,
                       phone=st.creditor.phone, email=st.creditor.email),
                   payment=[HowToPayOut.model_validate(block.to_dict()) for s in st.sections
                            if (block := st.payment(s)) is not None],
                   legal_mentions=st.legal_mentions())


class KpisOut(BaseModel):
    currency: str
    customer_id: UUID | None
    name: str | None
    invoiced_minor: int
    receivables_start_minor: int
    receivables_end_minor: int
    overdue_minor: int
    dso_days: Decimal | None
    average_days_to_pay: Decimal | None
    average_days_late: Decimal | None
    share_paid_late_percent: Decimal | None
    unpaid_rate_percent: Decimal | None
    cei_percent: Decimal | None
    invoices_settled: int
    credit_limit_minor: int | None
    overdue_to_credit_limit_percent: Decimal | None


class KpiReportOut(BaseModel):
    from_on: date
    to_on: date
    totals: list[KpisOut]
    customers: list[KpisOut]

    @classmethod
    def of(cls, r: KpiReport) -> KpiReportOut:
        return cls(from_on=r.from_on, to_on=r.to_on, totals=[KpisOut(**k.as_dict()) for k in r.totals],
                   customers=[KpisOut(**k.as_dict()) for k in r.customers])


class FailingEventOut(BaseModel):
    topic: str = Field(description="the stored event's class, e.g. ar.domain.customer:Customer.Registered")
    originator_id: str = Field(description="the aggregate it belongs to (a customer, an invoice, ...)")
    originator_version: int


class StuckOut(BaseModel):
    """A projection stopped at an event it cannot apply. It never skips it (its read model stays exact): it retries
    with a back-off and stays here until the cause is fixed (see the README, "When a read model stops")."""

    failed_position: int = Field(description="position of the event it cannot apply; `position` rests before it")
    event: FailingEventOut | None = Field(description="that event, as the event store names it")
    error: str = Field(description="why applying it failed (the error's type and first line)")
    first_failed_at: datetime = Field(description="stuck since")
    attempts: int = Field(description="attempts so far, by every process running this projection")
    next_retry_at: datetime = Field(description="the next attempt (the back-off doubles from 1 s up to 60 s)")

    @classmethod
    def of(cls, s: Stall) -> StuckOut:
        event = None if s.event is None else FailingEventOut(
            topic=s.event.topic, originator_id=str(s.event.originator_id),
            originator_version=s.event.originator_version)
        return cls(failed_position=s.position, event=event, error=s.error, first_failed_at=s.first_failed_at,
                   attempts=s.attempts, next_retry_at=s.next_retry_at)


class ProjectionOut(BaseModel):
    name: str
    position: int
    lag_events: int = Field(description="events recorded but not yet applied (an upper bound on PostgreSQL, where "
                            "notification ids can skip)")
    lag_seconds: float = Field(description="age of the oldest event not yet applied; 0 when caught up")
    stuck: StuckOut | None = Field(None, description="set while the projection is stopped at an event it cannot "
                                   "apply; null when it is running")


class ProjectionsOut(BaseModel):
    head: int = Field(description="position of the last recorded event")
    projections: list[ProjectionOut]
