"""ERP webhooks in: signed deliveries, the inbox, replays, and the sources' secrets.

`POST /v1/webhooks/erp/{source}` takes no API key: the Standard Webhooks signature is the credential (checked in
`ar.adapters.webhook_signature` against the source's secrets). A malformed header is a 400 naming it, an unknown or
revoked source, a stale timestamp or a wrong signature a 401; a verified delivery is kept in the inbox and run once
(`ar.application.erp_inbox`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from ar.adapters.webhook_inbox import WebhookInbox
from ar.adapters.webhook_signature import MalformedHeader, NotAuthentic, parse_headers, verify
from ar.adapters.webhook_sources import SOURCE_NAME, WebhookSources
from ar.api.deps import RuntimeDep
from ar.api.problems import PROBLEM, TYPE_BASE, problem, responses
from ar.api.routes.webhook_sources import router as sources_router
from ar.api.schemas.common import QueryInt
from ar.api.schemas.webhook_admin import SOURCE_PATTERN, DeliveryOut
from ar.api.schemas.webhooks import (
    ReceivedOut,
    UnknownType,
    UnreadableDelivery,
    parse_delivery,
    request_body,
)
from ar.application.erp_inbox import ErpDeliveries
from ar.domain.errors import DomainError, NotFound
from ar.runtime import Runtime

router = APIRouter(tags=["webhooks"])
router.include_router(sources_router)

ERP_PATH = "/v1/webhooks/erp/{source}"
TITLES: list[tuple[type[DomainError], str]] = [
    (UnknownType, "Unknown type"), (UnreadableDelivery, "Invalid payload"), (NotFound, "Not found"),
    (DomainError, "Rule violated")]


def problem_of(error: DomainError) -> dict[str, Any]:
    """A refused delivery's answer, kept with it in the inbox: always 422 to the sender (the delivery was
    authentic; what it asks cannot be done now), whatever the same error answers over the HTTP API."""
    title = next(title for cls, title in TITLES if isinstance(error, cls))
    body: dict[str, Any] = {**error.figures, "type": TYPE_BASE + error.rule, "title": title, "status": 422,
                            "detail": error.detail}
    if error.field is not None:
        body["field"] = error.field
    return body


def deliveries(runtime: Runtime) -> ErpDeliveries:
    return ErpDeliveries(runtime.app, WebhookInbox(runtime.engine), parse_delivery, problem_of)


async def raw_body(request: Request) -> bytes:
    """The bytes as signed: the signature covers them exactly, so they are read before anything parses them."""
    return await request.body()


def _header(description: str, example: str) -> Any:
    # Optional in the schema: a missing or malformed one is answered 400 naming it, by the route.
    return Header(description=description, examples=[example])


def _unauthorized(detail: str) -> JSONResponse:
    return problem(401, "Unauthorized", detail, rule="webhook-signature")


@router.post(
    ERP_PATH, response_model=ReceivedOut, responses={**responses(400, 422, 503), 401: {
        "description": "Unknown or revoked source, timestamp more than 5 minutes off, or no valid signature",
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
    summary="Receive a signed delivery from an ERP (Standard Webhooks)", openapi_extra={"requestBody": request_body()})
def receive(
    runtime: RuntimeDep,
    body: Annotated[bytes, Depends(raw_body)],
    source: Annotated[str, Path(description="the source's name, as created with POST /v1/webhooks/sources")],
    webhook_id: Annotated[str | None, _header("the delivery's id: the same id again is the same delivery",
                                              "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")] = None,
    webhook_timestamp: Annotated[str | None, _header("seconds since 1970; within 5 minutes of ours",
                                                     "1772442000")] = None,
    webhook_signature: Annotated[str | None, _header("space-separated `v1,<base64 HMAC-SHA256 of "
                                                     "id.timestamp.body>`, one per secret",
                                                     "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=")] = None,
) -> Any:
    """The body is `{"type": ..., "data": {...}}`, one of the types below. Each delivery is kept in the inbox: the
    same `webhook-id` again has one effect and gets the first answer (200, or the same 422). An unknown type, an
    invalid payload or a rule broken is kept as `failed` and answered 422; `POST /v1/webhooks/inbox/{id}/replay`
    runs it again after a fix. Deliveries older than 7 days are purged as new ones arrive."""
    headers = {"webhook-id": webhook_id or "", "webhook-timestamp": webhook_timestamp or "",
               "webhook-signature": webhook_signature or ""}
    try:
        signed = parse_headers(headers)
    except MalformedHeader as e:
        return problem(400, "Malformed request", e.detail, rule="webhook-header", field=e.header)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return problem(400, "Malformed request", "the body is not UTF-8 JSON", rule="webhook-body", field="body")
    if "\x00" in text:  # no database stores it, and JSON never needs it raw
        return problem(400, "Malformed request", "the body holds a NUL character", rule="webhook-body", field="body")
    now = runtime.clock.now()
    secrets = WebhookSources(runtime.engine).valid_secrets(source, now) if SOURCE_NAME.fullmatch(source) else None
    if not secrets:
        return _unauthorized(f"no active webhook source {source!r}")
    try:
        verify(signed, text, secrets, now)
    except NotAuthentic as e:
        return _unauthorized(e.detail)
    delivery = deliveries(runtime).receive(source, signed.webhook_id, text)
    if delivery.state == "failed" and delivery.error is not None:
        return JSONResponse({**delivery.error, "inbox_id": str(delivery.inbox_id)}, status_code=422,
                            media_type=PROBLEM)
    return ReceivedOut(inbox_id=delivery.inbox_id, state=delivery.state, result=delivery.result)


@router.get("/v1/webhooks/inbox", response_model=list[DeliveryOut], responses=responses(422),
            summary="The deliveries received, newest first")
def list_inbox(
    runtime: RuntimeDep,
    state: Annotated[str | None, Query(pattern="^(processed|failed)$")] = None,
    source: Annotated[str | None, Query(pattern=SOURCE_PATTERN)] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=500)] = 50,
) -> list[DeliveryOut]:
    inbox = WebhookInbox(runtime.engine)
    return [DeliveryOut.of(d) for d in inbox.listed(state=state, source=source, limit=limit,
                                                     now=runtime.clock.now())]


@router.get("/v1/webhooks/inbox/{inbox_id}", response_model=DeliveryOut, responses=responses(404, 422),
            summary="One delivery, with its body as received")
def get_delivery(inbox_id: UUID, runtime: RuntimeDep) -> DeliveryOut:
    delivery = WebhookInbox(runtime.engine).get(inbox_id, runtime.clock.now())
    if delivery is None:
        raise NotFound(f"no delivery {inbox_id} in the inbox", field="inbox_id")
    return DeliveryOut.of(delivery, with_payload=True)


@router.post("/v1/webhooks/inbox/{inbox_id}/replay", response_model=DeliveryOut, responses=responses(404, 422),
             summary="Run a failed delivery again")
def replay(inbox_id: UUID, runtime: RuntimeDep) -> DeliveryOut:
    """After a fix (the missing customer now exists, or this version knows the type): the new outcome is recorded
    and returned, `processed` or `failed` again. A processed delivery is not run again: its result is returned."""
    return DeliveryOut.of(deliveries(runtime).replay(inbox_id), with_payload=True)
