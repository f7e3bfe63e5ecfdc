"""Batch requests: many invoices or payments in one call, each with its own outcome."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ar.api.schemas.common import In
from ar.api.schemas.invoices import IssueInvoiceIn
from ar.api.schemas.payments import RecordPaymentIn
from ar.application.bulk import MAX_ITEMS

ITEMS_DESCRIPTION = (f"1 to {MAX_ITEMS} items, each the body of the single call. Sent with an Idempotency-Key, "
                     "item n gets the id the single call would get with the key `<key>/n`: the same batch sent "
                     "again records nothing new, even if its first answer was lost")


class IssueInvoicesIn(In):
    items: list[IssueInvoiceIn] = Field(min_length=1, max_length=MAX_ITEMS, description=ITEMS_DESCRIPTION)

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        {"customer_id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c", "series": "F2026", "total_minor": 120000,
         "vat": [{"rate": "20.0", "base_minor": 100000, "vat_minor": 20000}], "external_id": "ERP-INV-1001"},
        {"customer_id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c", "series": "F2026", "total_minor": 60000,
         "vat": [{"rate": "20.0", "base_minor": 50000, "vat_minor": 10000}], "external_id": "ERP-INV-1002"},
    ]}]})


class RecordPaymentsIn(In):
    items: list[RecordPaymentIn] = Field(min_length=1, max_length=MAX_ITEMS, description=ITEMS_DESCRIPTION)

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        {"customer_id": "3f1c2a9e-5b7d-4c1e-9a2b-0d8e7f6a5b4c", "amount_minor": 120000, "method": "transfer",
         "value_on": "2026-03-28", "payer_reference": "RF63F2026000001", "external_id": "BANK-2026-03-28-1"},
    ]}]})


class ItemOutcome(BaseModel):
    index: int = Field(description="the item's position in `items`, from 0")
    status: int = Field(description="what the single call would have answered: 201 recorded, 200 found already "
                                    "recorded (same id, external_id or number), 4xx refused (see `problem`)")
    id: UUID | None = None
    number: str | None = Field(None, description="an invoice's number")
    version: int | None = None
    problem: dict[str, Any] | None = Field(None, description="why the item was refused (problem+json's fields)")


class BatchOut(BaseModel):
    recorded: int = Field(description="items recorded by this call (201)")
    existing: int = Field(description="items found recorded already (200)")
    refused: int = Field(description="items refused (4xx), nothing recorded for them")
    position: int | None = Field(None, description="the event-log position after the last item recorded: wait for "
                                                   "it (AR-Read-After) before reading the read models")
    items: list[ItemOutcome]
