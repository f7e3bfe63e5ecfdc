from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from ar.api.schemas.common import (
    BusinessDate,
    Currency,
    ExternalId,
    In,
    MoneyOut,
    PositiveMinor,
    Text,
)
from ar.api.schemas.common import (
    money_example as _eur,
)
from ar.domain.money import Money
from ar.domain.payment import Payment, PaymentMethod


class AllocationIn(In):
    invoice_id: UUID
    amount_minor: PositiveMinor

    def to_domain(self, currency: str) -> tuple[UUID, Money]:
        return self.invoice_id, Money(self.amount_minor, currency)


class RecordPaymentIn(In):
    customer_id: UUID | None = Field(None, description="the payer, when known")
    amount_minor: PositiveMinor
    currency: Currency = "EUR"
    method: PaymentMethod = PaymentMethod.TRANSFER
    value_on: BusinessDate | None = Field(None, description="the bank's value date: when the funds were available")
    payer_reference: Annotated[Text, Field(max_length=64, description="structured reference (RF...)")] | None = None
    remittance: Annotated[Text, Field(description="free remittance text")] | None = None
    external_id: ExternalId | None = None
    allocations: list[AllocationIn] | None = Field(
        None, max_length=200,
        description="explicit allocations; omit to allocate automatically (reference, then invoice number, then "
        "oldest due)")
    auto_allocate: StrictBool = Field(True, description="when no allocations are given, allocate automatically")

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "customer_id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c", "amount_minor": 120000, "currency": "EUR",
        "method": "transfer", "value_on": "2026-03-28", "payer_reference": "RF63F2026000001",
    }]})


class AllocateIn(In):
    allocations: list[AllocationIn] | None = Field(None, max_length=200, description="omit to allocate automatically")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"allocations": [{"invoice_id": "5b0e7c1d-2a4f-4e8b-9c3d-6f1a2b3c4d5e", "amount_minor": 60000}]}, {}]})


class RefundIn(In):
    amount_minor: PositiveMinor
    refunded_on: BusinessDate | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{"amount_minor": 1500, "refunded_on": "2026-04-02"}]})


class ReturnIn(In):
    reason: Text = Field(examples=["AM04 insufficient funds"])
    returned_on: BusinessDate | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "reason": "AM04 insufficient funds", "returned_on": "2026-04-03"}]})


class PaymentOut(BaseModel):
    id: UUID
    version: int
    customer_id: UUID | None
    amount: MoneyOut
    method: PaymentMethod
    value_on: date
    payer_reference: str | None
    remittance: str | None
    external_id: str | None
    allocations: dict[UUID, MoneyOut]
    refunds: dict[UUID, MoneyOut]
    allocated: MoneyOut
    refunded: MoneyOut
    unapplied: MoneyOut = Field(description="cash neither applied nor refunded")
    returned_on: date | None
    received_at: datetime

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "9d2c4b1a-7e6f-4a5b-8c9d-0e1f2a3b4c5d", "version": 3,
        "customer_id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c", "amount": _eur(120000), "method": "direct_debit",
        "value_on": "2026-03-31", "payer_reference": "RF63F2026000001",
        "remittance": "PRLV SEPA BOULANGERIE MARTIN F2026-000001", "external_id": "BQ-2026-03-31-0007",
        "allocations": {}, "refunds": {}, "allocated": _eur(0), "refunded": _eur(0), "unapplied": _eur(0),
        "returned_on": "2026-04-03", "received_at": "2026-03-31T14:05:00Z",
    }]})  # a SEPA direct debit returned (AM04): every field shown, since null values leave the published example

    @classmethod
    def of(cls, p: Payment) -> PaymentOut:
        m = MoneyOut.of
        return cls(id=p.id, version=p.version, customer_id=p.customer_id, amount=m(p.amount), method=p.method,
                   value_on=p.value_on, payer_reference=p.payer_reference, remittance=p.remittance,
                   external_id=p.external_id, allocations={k: m(v) for k, v in p.allocations.items()},
                   refunds={k: m(v) for k, v in p.refunds.items()}, allocated=m(p.allocated),
                   refunded=m(p.refunded), unapplied=m(p.unapplied), returned_on=p.returned_on,
                   received_at=p.received_at)
