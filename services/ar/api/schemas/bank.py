"""Bank statement imports: the report per import and per entry, the unmatched queue, a person's match."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ar.api.schemas.common import In, MoneyOut
from ar.api.schemas.payments import AllocationIn
from ar.application.bank_import import DUPLICATE, LISTED, MATCHED, RETURNED, WAITING, EntryOutcome, ImportReport
from ar.domain.bank_matching import Suggestion


class SuggestionOut(BaseModel):
    invoice_id: UUID
    number: str
    customer_id: UUID
    open: MoneyOut = Field(description="what is open (and undisputed) on the invoice: the queue ranks its "
                           "suggestions again when read, and leaves out an invoice settled or refused since")
    score: int = Field(ge=0, le=100, description="0-100: amount closeness, due date near the value date, a known "
                       "payer")
    why: str

    @classmethod
    def of(cls, s: Suggestion) -> SuggestionOut:
        return cls(invoice_id=s.invoice_id, number=s.number, customer_id=s.customer_id, open=MoneyOut.of(s.open),
                   score=s.score, why=s.why)


class PaidOut(BaseModel):
    invoice_id: UUID
    amount_minor: int


class EntryOut(BaseModel):
    direction: str
    amount: MoneyOut
    booked_on: date
    value_on: date = Field(description="the payment's date, for late-payment penalties")
    payer_name: str | None
    payer_iban: str | None
    remittance: str | None
    creditor_reference: str | None
    end_to_end_id: str | None
    return_reason: str | None
    family: str | None = Field(description="what the bank says the movement is, from its own transaction code: "
                               "transfer, direct_debit, card, cheque, cash, charges, other (a code not classified); "
                               "null when the file gives no code")
    bank_code: str | None = Field(description="the transaction code as the file writes it (PMNT/RCDT/ESCT, NDDT 109, "
                                  "CFONB 10 motif 04...)")
    reversal: bool = Field(description="the bank marks it a reversal: a debit is a return only when it takes back a "
                           "direct debit we collected or a cheque; a credit reverses one of our debits and is listed")
    state: str = Field(description="matched (paid automatically), waiting (unapplied, for a person), duplicate "
                       "(imported before: nothing new), returned (a direct debit return applied), listed (a debit "
                       "recorded nowhere else, or a credit reversing one of our debits: money back, not a payment)")
    payment_id: UUID | None
    rule: str | None = Field(description="what matched: reference (the invoice's RF), customer-reference "
                                 "(the customer's RF: its open items, oldest due first; `customer-ref` on entries "
                                 "imported before it had that name), numbers, known-payer, or "
                                 "confirmed by a person")
    invoices: list[PaidOut] = Field(description="allocations made (for a return: those reversed)")
    written_off_minor: int | None = Field(description="a shortfall within the tolerance, written off as bank "
                                          "charges")
    suggestions: list[SuggestionOut]
    note: str | None

    @classmethod
    def of(cls, o: EntryOutcome) -> EntryOut:
        e = o.entry
        return cls(direction=e.direction.value, amount=MoneyOut.of(e.amount), booked_on=e.booked_on,
                   value_on=e.value_on, payer_name=e.payer_name, payer_iban=e.payer_iban, remittance=e.remittance,
                   creditor_reference=e.creditor_reference, end_to_end_id=e.end_to_end_id,
                   return_reason=e.return_reason, family=e.family.value if e.family is not None else None,
                   bank_code=e.bank_code, reversal=e.reversal, state=o.state, payment_id=o.payment_id, rule=o.rule,
                   invoices=[PaidOut(invoice_id=i, amount_minor=m.minor) for i, m in o.invoices],
                   written_off_minor=o.written_off.minor if o.written_off else None,
                   suggestions=[SuggestionOut.of(s) for s in o.suggestions], note=o.note)


class CountsOut(BaseModel):
    credits: int = Field(description="customers' credits seen for the first time (a reversal credit is listed)")
    matched: int = Field(description="credits matched automatically")
    waiting: int = Field(description="credits waiting for a person (GET /v1/payments/unmatched)")
    duplicates: int = Field(description="entries imported before, ignored")
    returned: int = Field(description="direct debit returns applied")
    listed: int = Field(description="other debits and credits reversing our debits, listed only")

    @classmethod
    def of(cls, reports: list[ImportReport]) -> CountsOut:
        return cls(credits=sum(r.credits for r in reports), matched=sum(r.count(MATCHED) for r in reports),
                   waiting=sum(r.count(WAITING) for r in reports), duplicates=sum(r.count(DUPLICATE) for r in reports),
                   returned=sum(r.count(RETURNED) for r in reports), listed=sum(r.count(LISTED) for r in reports))


class ImportOut(BaseModel):
    id: UUID
    format: str
    account: str
    statement_id: str | None
    received_at: datetime
    caused_by: str
    counts: CountsOut
    entries: list[EntryOut] = Field(description="each entry seen for the first time (duplicates are only counted)")

    @classmethod
    def of(cls, r: ImportReport) -> ImportOut:
        return cls(id=r.import_id, format=r.format, account=r.account, statement_id=r.statement_id,
                   received_at=r.received_at, caused_by=r.caused_by, counts=CountsOut.of([r]),
                   entries=[EntryOut.of(e) for e in r.entries if e.state != DUPLICATE])


class StatementFileOut(BaseModel):
    counts: CountsOut = Field(description="over every statement of the file")
    imports: list[ImportOut] = Field(description="one per statement in the file")

    @classmethod
    def of(cls, reports: list[ImportReport]) -> StatementFileOut:
        return cls(counts=CountsOut.of(reports), imports=[ImportOut.of(r) for r in reports])


class UnmatchedOut(BaseModel):
    payment_id: UUID
    amount: MoneyOut
    value_on: date
    payer_name: str | None
    payer_iban: str | None
    remittance: str | None
    creditor_reference: str | None
    suggestions: list[SuggestionOut] = Field(description="ranked, best first")

    @classmethod
    def of(cls, o: EntryOutcome) -> UnmatchedOut:
        e = o.entry
        assert o.payment_id is not None
        return cls(payment_id=o.payment_id, amount=MoneyOut.of(e.amount), value_on=e.value_on,
                   payer_name=e.payer_name, payer_iban=e.payer_iban, remittance=e.remittance,
                   creditor_reference=e.creditor_reference, suggestions=[SuggestionOut.of(s) for s in o.suggestions])


class MatchIn(In):
    allocations: Annotated[list[AllocationIn], Field(min_length=1, max_length=100, description=(
        "the invoices this payment pays and how much of each (several: a split)"))]

    model_config = ConfigDict(json_schema_extra={"examples": [{"allocations": [
        {"invoice_id": "5b0e7c1d-2a4f-4e8b-9c3d-6f1a2b3c4d5e", "amount_minor": 30000},
        {"invoice_id": "0f6c2e9a-3b1d-4c7e-8a5f-2d4b6e8f0a1c", "amount_minor": 12000}]}]})
