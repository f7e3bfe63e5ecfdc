"""Shapes shared by every resource: money, problems, events."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ar.domain.money import Money

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"], description="ISO 4217 code")]
# 10^15 minor units (10 trillion euros) bounds every amount so that read-model columns (BIGINT) never overflow.
MAX_MINOR = 10**15
MinorUnits = Annotated[StrictInt, Field(ge=-MAX_MINOR, le=MAX_MINOR, examples=[120000],
                                        description="Amount in minor units (cents for EUR); never a float")]
PositiveMinor = Annotated[StrictInt, Field(gt=0, le=MAX_MINOR, examples=[120000],
                                           description="Amount in minor units (cents for EUR), > 0")]
Text = Annotated[str, Field(max_length=500)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyOut(BaseModel):
    minor: int = Field(description="minor units")
    currency: str
    formatted: str = Field(examples=["1200.00 EUR"])

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(minor=money.minor, currency=money.currency, formatted=str(money))


class Problem(BaseModel):
    """application/problem+json (RFC 9457)."""

    type: str = Field(examples=["https://ar.invalid/problems/over-allocation"])
    title: str = Field(examples=["Rule violated"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["1300.00 EUR exceeds the open amount 1200.00 EUR of invoice F2026-000001"])
    field: str | None = Field(None, examples=["allocations[0].amount_minor"])
    errors: list[dict[str, Any]] | None = None


class EventOut(BaseModel):
    version: int
    type: str = Field(examples=["PaymentAllocated"])
    recorded_at: str
    data: dict[str, Any]
