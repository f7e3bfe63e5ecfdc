"""Webhook subscriptions out: signed deliveries of the event feed to subscribers."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ar.adapters.subscription_store import ALL_TYPES, Subscription, SubscriptionStore
from ar.api.deps import IdempotencyDep, RuntimeDep
from ar.api.problems import responses
from ar.api.schemas.common import QueryInt
from ar.api.schemas.subscriptions import (
    DeliveryOut,
    RotateIn,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionWithSecret,
)
from ar.application.commands import new_id
from ar.application.feed_types import unknown_types
from ar.delivery import subscriptions_log
from ar.delivery.outbound_urls import check_url
from ar.delivery.subscriptions_queue import redeliver as queue_again
from ar.domain.errors import Conflict, DomainRuleViolation, NotFound
from ar.runtime import Runtime

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


def _found(subscription: Subscription | None, subscription_id: UUID) -> Subscription:
    if subscription is None:
        raise NotFound(f"no subscription {subscription_id}", field="subscription_id")
    return subscription


def _checked_types(types: list[str]) -> list[str]:
    if ALL_TYPES in types:
        if len(types) > 1:
            raise DomainRuleViolation('"*" means every type: give it alone', field="types")
        return types
    if unknown := unknown_types(types):
        raise DomainRuleViolation(f"unknown event types {unknown}: see GET /v1/events/types", field="types",
                                  figures={"unknown": unknown})
    return list(dict.fromkeys(types))


def _checked_url(runtime: Runtime, url: str) -> str:
    return check_url(url, allow_private=runtime.settings.subscription_allow_private)


@router.post("", status_code=201, response_model=SubscriptionWithSecret, responses=responses(409, 422),
             summary="Subscribe a URL to events (the secret is shown once)")
def create_subscription(body: SubscriptionIn, runtime: RuntimeDep, key: IdempotencyDep) -> SubscriptionWithSecret:
    """Every event recorded from now on whose type is listed is POSTed to `url` as the event feed's envelope,
    signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) using the `secret` in
    this answer, which is never shown again. Each aggregate's events arrive in order; a failed delivery is retried
    with exponential backoff for 3 days. A retry with the same `Idempotency-Key` answers the same subscription."""
    url, types = _checked_url(runtime, body.url), _checked_types(body.types)
    store = SubscriptionStore(runtime.engine)
    created = store.create(subscription_id=new_id("subscription", idempotency=key), url=url, types=types,
                           description=body.description, head=runtime.projections.head(), now=runtime.clock.now())
    if created is None:  # the key's stored answer has expired: its secret is not shown twice
        raise Conflict("a subscription was created with this Idempotency-Key; its secret was shown then",
                       field="Idempotency-Key")
    return SubscriptionWithSecret.of_new(created)


@router.get("", response_model=list[SubscriptionOut], summary="List the subscriptions")
def list_subscriptions(runtime: RuntimeDep) -> list[SubscriptionOut]:
    """Oldest first; secrets are never shown."""
    return [SubscriptionOut.of(s) for s in SubscriptionStore(runtime.engine).all()]


@router.get("/{subscription_id}", response_model=SubscriptionOut, responses=responses(404, 422),
            summary="Read a subscription")
def get_subscription(subscription_id: UUID, runtime: RuntimeDep) -> SubscriptionOut:
    return SubscriptionOut.of(_found(SubscriptionStore(runtime.engine).get(subscription_id), subscription_id))


@router.patch("/{subscription_id}", response_model=SubscriptionOut, responses=responses(404, 422),
              summary="Change a subscription's URL, types, description, or enable/disable it")
def update_subscription(subscription_id: UUID, body: SubscriptionPatch, runtime: RuntimeDep) -> SubscriptionOut:
    """Enabling a subscription disabled for its failures closes its ops task; its waiting deliveries resume."""
    changes = body.model_dump(exclude_unset=True)
    if nulls := [n for n, v in changes.items() if v is None]:
        raise DomainRuleViolation(f"{nulls[0]} cannot be null (leave it out to keep it)", field=nulls[0])
    if "url" in changes:
        changes["url"] = _checked_url(runtime, changes["url"])
    if "types" in changes:
        changes["types"] = _checked_types(changes["types"])
    store = SubscriptionStore(runtime.engine)
    return SubscriptionOut.of(_found(store.update(subscription_id, changes, runtime.clock.now()), subscription_id))


@router.delete("/{subscription_id}", status_code=204, responses=responses(404, 422),
               summary="Delete a subscription and its delivery log")
def delete_subscription(subscription_id: UUID, runtime: RuntimeDep) -> Response:
    if not SubscriptionStore(runtime.engine).delete(subscription_id):
        raise NotFound(f"no subscription {subscription_id}", field="subscription_id")
    return Response(status_code=204)


@router.post("/{subscription_id}/rotate-secret", response_model=SubscriptionWithSecret,
             responses=responses(404, 422), summary="Rotate the signing secret (the new one is shown once)")
def rotate_secret(subscription_id: UUID, runtime: RuntimeDep, body: RotateIn | None = None) -> SubscriptionWithSecret:
    """The old secret keeps signing beside the new one for `grace_hours` (24 by default): each delivery carries
    both signatures in `webhook-signature`, so the receiver can switch to the new secret at its own pace."""
    grace = timedelta(hours=(body or RotateIn()).grace_hours)
    rotated = SubscriptionStore(runtime.engine).rotate_secret(subscription_id, runtime.clock.now(), grace)
    return SubscriptionWithSecret.of_new(_found(rotated, subscription_id))


@router.get("/{subscription_id}/deliveries", response_model=list[DeliveryOut], responses=responses(404, 422),
            summary="The delivery log: each event sent, with every attempt")
def list_deliveries(
    subscription_id: UUID,
    runtime: RuntimeDep,
    state: Annotated[DeliveryState | None, Query(description="only the deliveries in this state")] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """Newest first. Each attempt: when, the status code (null when no answer came), the latency, the first 500
    characters of the answer and the error."""
    _found(SubscriptionStore(runtime.engine).get(subscription_id), subscription_id)
    log = subscriptions_log.delivery_log(runtime.engine, subscription_id,
                                         state=None if state is None else state.value, limit=limit)
    return [DeliveryOut.of(d) for d in log]


@router.post("/{subscription_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             responses={**responses(404, 422), 202: {"description": "Queued: it is sent again shortly"}},
             summary="Send a delivery again")
def redeliver(subscription_id: UUID, delivery_id: UUID, runtime: RuntimeDep) -> Response:
    """A delivered or failed delivery is queued again (same `webhook-id`); one waiting or in flight is left as it
    is. Its next attempt gets the next number in the log."""
    if not queue_again(runtime.engine, subscription_id, delivery_id, runtime.clock.now()):
        raise NotFound(f"no delivery {delivery_id} of subscription {subscription_id}", field="delivery_id")
    runtime.subscriptions.wake()
    return Response(status_code=202)
