"""ERP webhooks, the admin's side: the sources and their secrets, the deliveries kept in the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ar.api.schemas.common import In, Text
from ar.application.erp_inbox import Delivery

SOURCE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
SourceName = Annotated[str, Field(pattern=SOURCE_PATTERN, examples=["erp"])]


class CreateSourceIn(In):
    name: SourceName
    description: Annotated[Text, Field(max_length=500)] = Field("", examples=["the group's ERP"])

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "erp",
                                                                             "description": "the group's ERP"}]})


class RotateSourceIn(In):
    grace_hours: Annotated[int, Field(ge=0, le=24 * 30)] = Field(
        24, description="how long the secrets valid now stay valid beside the new one")

    model_config = ConfigDict(json_schema_extra={"examples": [{"grace_hours": 72}]})


class SourceOut(BaseModel):
    name: str
    description: str
    created_at: datetime
    revoked_at: datetime | None
    secrets_valid: int = Field(description="secrets accepted now: 2 while a rotation's grace period runs")


class SourceSecretOut(SourceOut):
    secret: str = Field(description="the signing secret (Standard Webhooks, whsec_...): shown this once",
                        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
    previous_valid_until: datetime | None = Field(None, description="after a rotation: the end of the grace period")


class DeliveryOut(BaseModel):
    inbox_id: UUID
    source: str
    webhook_id: str
    type: str
    state: str = Field(examples=["processed"], description="processed | failed")
    received_at: datetime
    processed_at: datetime
    attempts: int
    result: dict[str, Any] | None = Field(None, description="what it did, by our ids (and the event position)")
    error: dict[str, Any] | None = Field(None, description="the problem+json it was answered with")
    payload: str | None = Field(None, description="the body as received (in GET /v1/webhooks/inbox/{id})")

    @classmethod
    def of(cls, d: Delivery, *, with_payload: bool = False) -> DeliveryOut:
        return cls(inbox_id=d.inbox_id, source=d.source, webhook_id=d.webhook_id, type=d.type, state=d.state,
                   received_at=d.received_at, processed_at=d.processed_at, attempts=d.attempts, result=d.result,
                   error=d.error, payload=d.payload if with_payload else None)
