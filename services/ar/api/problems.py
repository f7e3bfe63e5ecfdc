"""Every error leaves as application/problem+json (RFC 9457), mapped in this one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ar.domain.errors import Conflict, DomainError, NotFound, PreconditionFailed

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TYPE_BASE = "https://ar.invalid/problems/"

STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (NotFound, 404), (Conflict, 409), (PreconditionFailed, 412), (DomainError, 422),
]


def problem(status: int, title: str, detail: str, *, rule: str, field: str | None = None,
            errors: list[dict[str, Any]] | None = None, headers: Mapping[str, str] | None = None,
            extra: Mapping[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + rule, "title": title, "status": status, "detail": detail}
    body.update(extra or {})
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next(code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls))
    title = {404: "Not found", 409: "Conflict", 412: "Precondition failed"}.get(status, "Rule violated")
    return problem(status, title, exc.detail, rule=exc.rule, field=exc.field, extra=exc.figures)


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": "body" if e["type"] == "json_invalid" else _field(e["loc"]), "message": e["msg"]}
              for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return problem(422, "Invalid request", f"{first['field']}: {first['message']}", rule="invalid-request",
                   field=first["field"], errors=errors)


async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail), rule=f"http-{exc.status_code}",
                   headers=exc.headers)


async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal error", "the request failed; nothing was recorded unless a later read shows it",
                   rule="internal-error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    text = {400: "Malformed request", 404: "Not found", 409: "Conflict (concurrent change or Idempotency-Key in "
            "flight)", 412: "If-Match does not match the current version", 422: "Invalid input or rule violated "
            "(the body names the field and the rule)", 503: "Not ready"}
    schema = {"$ref": "#/components/schemas/Problem"}
    return {code: {"description": text[code], "content": {PROBLEM: {"schema": schema}}} for code in codes}
