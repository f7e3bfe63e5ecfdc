"""Typed dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

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


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ReceivablesDep = Annotated[Receivables, Depends(get_receivables)]
IfMatchDep = Annotated[int | None, Depends(get_if_match)]
IdempotencyDep = Annotated[str | None, Depends(get_idempotency_scope)]
