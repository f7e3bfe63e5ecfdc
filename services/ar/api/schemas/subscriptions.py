"""Bodies of the webhook subscriptions: the subscription, its secret (shown once), its delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from ar.adapters.subscription_store import Subscription
from ar.api.schemas.common import In, Storable
from ar.api.schemas.dunning_tasks import TaskOut
from ar.delivery.subscriptions_log import LoggedAttempt, LoggedDelivery
from ar.domain.clock import business_date

Url = Annotated[str, Storable(), Field(min_length=1, max_length=2048, examples=["https://erp.example.com/hooks/ar"],
                           description="http or https; private and loopback addresses are refused unless "
                           "AR_SUBSCRIPTION_ALLOW_PRIVATE is set")]
Types = Annotated[list[Annotated[str, Storable(), Field(min_length=1, max_length=128)]], Field(
    min_length=1, max_length=100, examples=[["invoice.issued", "payment.received"], ["*"]],
    description='event types as GET /v1/events/types lists them, or ["*"] for every type')]
Description = Annotated[str, Storable(), Field(max_length=500, examples=["ERP: invoices and payments"])]


class SubscriptionIn(In):
    url: Url
    types: Types
    description: Description = ""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://erp.example.com/hooks/ar", "types": ["invoice.issued", "payment.received"],
        "description": "ERP: invoices and payments"}]})


class SubscriptionPatch(In):
    """Only the fields given change."""

    url: Url | None = None
    types: Types | None = None
    description: Description | None = None
    enabled: StrictBool | None = Field(None, description="false stops deliveries: those queued wait, and events "
                                       "recorded while it is disabled are not queued for it; true resumes them")

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"enabled": True}, {"types": ["*"], "description": "ERP: every event"}]})


class RotateIn(In):
    grace_hours: Annotated[StrictInt, Field(ge=0, le=168)] = Field(
        24, description="how long the old secret keeps signing beside the new one (both signatures are sent)")

    model_config = ConfigDict(json_schema_extra={"examples": [{"grace_hours": 48}]})


class SubscriptionOut(BaseModel):
    id: UUID
    url: str
    types: list[str]
    description: str
    enabled: bool
    created_at: datetime
    from_position: int = Field(description="the event feed's head at creation: the events after it are delivered")
    previous_secret_until: datetime | None = Field(description="after a rotation: until when the old secret also "
                                                               "signs")
    disabled_at: datetime | None = Field(description="when it was disabled because every delivery failed for 3 "
                                                     "days (an ops task says so); null when not")

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        return cls(id=s.id, url=s.url, types=s.types, description=s.description, enabled=s.enabled,
                   created_at=s.created_at, from_position=s.from_position,
                   previous_secret_until=s.previous_secret_until if s.previous_secret else None,
                   disabled_at=s.auto_disabled_at if not s.enabled else None)


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="Standard Webhooks secret (whsec_...): shown this once, never again",
                        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])

    @classmethod
    def of_new(cls, s: Subscription) -> SubscriptionWithSecret:
        return cls(**SubscriptionOut.of(s).model_dump(), secret=s.secret)


class AttemptOut(BaseModel):
    number: int
    at: datetime
    status_code: int | None = Field(description="the receiver's answer; null when no answer came")
    latency_ms: int
    response_excerpt: str | None = Field(description="the first 500 characters of the answer's body")
    error: str | None

    @classmethod
    def of(cls, a: LoggedAttempt) -> AttemptOut:
        return cls(number=a.number, at=a.at, status_code=a.status_code, latency_ms=a.latency_ms,
                   response_excerpt=a.response_excerpt, error=a.error)


class DeliveryOut(BaseModel):
    id: UUID
    event_id: int = Field(description="the event's position (its id in GET /v1/events)")
    event_type: str = Field(examples=["invoice.issued"])
    aggregate_id: str
    state: str = Field(description="pending, sending, delivered or failed (given up after 3 days)")
    next_attempt_at: datetime | None
    created_at: datetime
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, d: LoggedDelivery) -> DeliveryOut:
        return cls(id=d.id, event_id=d.event_id, event_type=d.event_type, aggregate_id=d.aggregate_id, state=d.state,
                   next_attempt_at=d.next_attempt_at, created_at=d.created_at,
                   attempts=[AttemptOut.of(a) for a in d.attempts])


def disabled_task(s: Subscription, failed: int) -> TaskOut:
    """A subscription disabled for its failures, as an ops task: open until it is enabled again."""
    assert s.auto_disabled_at is not None
    name = s.description or s.url
    return TaskOut(id=s.id, customer_id=None, kind="subscription", step_key="subscription_disabled",
                   due_on=business_date(s.auto_disabled_at), state="done" if s.re_enabled_at else "open",
                   summary=f"Webhook subscription {name!r} ({s.url}) disabled: no delivery succeeded for 3 days "
                           f"({failed} failed). Fix the receiver, then PATCH /v1/subscriptions/{s.id} "
                           "with enabled=true.",
                   outcome="enabled again" if s.re_enabled_at else None, done_by=None,
                   created_at=s.auto_disabled_at, done_at=s.re_enabled_at)

