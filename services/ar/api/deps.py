"""Typed dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request

from ar.api.idempotency import caller_of
from ar.application.receivables import Receivables
from ar.domain.errors import DomainRuleViolation
from ar.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_receivables(request: Request) -> Receivables:
    return get_runtime(request).app


def get_if_match(if_match: Annotated[str | None, Header(description="The version you read (ETag)")] = None
                 ) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise DomainRuleViolation("If-Match must be an ETag such as \"3\"", field="If-Match")
    return int(raw)


def get_idempotency_scope(
    request: Request,
    idempotency_key: Annotated[str | None, Header(
        description="Retry-safe key: the same key with the same body returns the first response", max_length=255,
    )] = None,
) -> str | None:
    """The caller-scoped key from which a create command derives its new id, so a retry never doubles a record."""
    return f"{caller_of(request.headers)}:{idempotency_key}" if idempotency_key else None


def read_after(
    request: Request,
    min_position: Annotated[int | None, Query(ge=0, description=(
        "read your own writes: wait until the read models include this event position (the AR-Position "
        "header of a write); 503 with Retry-After if they don't within 2 s"))] = None,
) -> None:
    if min_position is not None and not get_runtime(request).projections.reached(min_position, timeout_s=2.0):
        raise HTTPException(503, "the read models have not reached that position yet; retry shortly",
                            headers={"Retry-After": "1"})


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ReceivablesDep = Annotated[Receivables, Depends(get_receivables)]
IfMatchDep = Annotated[int | None, Depends(get_if_match)]
IdempotencyDep = Annotated[str | None, Depends(get_idempotency_scope)]
ReadAfterDep = Annotated[None, Depends(read_after)]
