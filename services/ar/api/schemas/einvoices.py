"""Bodies of the e-invoice routes: lifecycle statuses in, the lifecycle listed (statuses in and out)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ar.api.schemas.common import In, Instant, MoneyOut, Text
from ar.domain.lifecycle import LifecycleEntry

StatusCode = Field(pattern=r"^2[0-9]{2}$", examples=["207"],
                   description="the platform's lifecycle status: 207 disputed, 208 suspended, 210 refused, 211 "
                   "payment sent, 213 rejected")


class LifecycleStatusIn(In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "status": "207", "reason": "quantités livrées inférieures", "message_id": "PA-MSG-000193",
        "at": "2026-03-02T10:15:00+01:00"}]})

    status: str = StatusCode
    reason: Text | None = Field(None, examples=["quantités livrées inférieures"],
                                description="the reason the platform gives")
    message_id: Text = Field(max_length=128, examples=["PA-MSG-000193"],
                             description="the platform's message id: the same id again is a no-op")
    at: Instant | None = Field(None, description="when the platform gave the status (default: now)")


class LifecycleEntryOut(BaseModel):
    direction: str = Field(description="`in`: a platform's status about this invoice; `out`: one we sent")
    status: str = Field(examples=["212"])
    at: datetime
    reason: str | None = None
    message_id: str | None = None
    amount: MoneyOut | None = Field(None, description="212: the amount received")
    amounts_by_rate: dict[str, MoneyOut] | None = Field(None, description="212: the amount received by VAT rate "
                                                        "(percent), in proportion to the invoice's VAT breakdown")

    @classmethod
    def of(cls, e: LifecycleEntry) -> LifecycleEntryOut:
        return cls(direction=e.direction, status=e.code, at=e.at, reason=e.reason, message_id=e.message_id,
                   amount=MoneyOut.of(e.amount) if e.amount else None,
                   amounts_by_rate={r: MoneyOut.of(m) for r, m in e.amounts_by_rate.items()}
                   if e.amounts_by_rate is not None else None)


class LifecycleOut(BaseModel):
    invoice_id: str
    invoice_status: str
    document: bool = Field(description="whether the invoice came in as an e-invoice document")
    statuses: list[LifecycleEntryOut]
