"""Every error leaves as application/problem+json (RFC 9457), mapped in this one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
import psycopg_pool
import sqlalchemy as sa
from eventsourcing import persistence
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from ar.api.schemas.common import PATTERN_WORDS
from ar.domain.errors import Conflict, DomainError, NotFound, PreconditionFailed

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
TYPE_BASE = "https://ar.invalid/problems/"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BODY_UNREADABLE = "There was an error parsing the body"  # FastAPI's detail when decoding the body fails

# The storage could not be reached (PostgreSQL restarting, a pool exhausted, SQLite locked past its timeout): a
# passing condition, answered 503 with Retry-After so that clients retry, never a 500.
STORAGE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, persistence.OperationalError,
    persistence.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout,
)
UNAVAILABLE_DETAIL = "the storage is unavailable for a moment; retry with the same Idempotency-Key"

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
    if loc and loc[0] == "header":  # as the client wrote it: If-Match, not if-match
        return "-".join(word.capitalize() for word in str(loc[-1]).split("-"))
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def domain_problem(exc: DomainError) -> dict[str, Any]:
    """The problem+json body of a rule broken: also an item's outcome in a batch."""
    status = next(code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls))
    title = {404: "Not found", 409: "Conflict", 412: "Precondition failed"}.get(status, "Rule violated")
    body: dict[str, Any] = {"type": TYPE_BASE + exc.rule, "title": title, "status": status, "detail": exc.detail}
    body.update(exc.figures or {})
    if exc.field is not None:
        body["field"] = exc.field
    return body


async def on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    body = domain_problem(exc)
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM)


def _message(error: Mapping[str, Any]) -> str:
    """A pattern is named in words when it has some (`an ETag such as "3"`), not as a regular expression."""
    pattern = str((error.get("ctx") or {}).get("pattern"))
    words = PATTERN_WORDS.get(pattern) if error["type"] == "string_pattern_mismatch" else None
    return f"must be {words}" if words else str(error["msg"])


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": "body" if e["type"] == "json_invalid" else _field(e["loc"]), "message": _message(e)}
              for e in exc.errors()]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    return problem(422, "Invalid request", f"{first['field']}: {first['message']}", rule="invalid-request",
                   field=first["field"], errors=errors)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return _method_not_allowed(request)
    if exc.status_code == 400 and exc.detail == BODY_UNREADABLE:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): a 422 naming the body, like malformed JSON.
        why = "is not UTF-8" if isinstance(exc.__cause__, UnicodeDecodeError) else "cannot be read as JSON"
        return problem(422, "Invalid request", f"body: the request body {why}", rule="invalid-request",
                       field="body", errors=[{"field": "body", "message": f"the request body {why}"}])
    return problem(exc.status_code, str(exc.detail), str(exc.detail), rule=f"http-{exc.status_code}",
                   headers=exc.headers)


def _method_not_allowed(request: Request) -> Response:
    """Starlette answers from the first route matching the path alone, so `GET /v1/invoices` and `POST /v1/invoices`
    being two routes made `Allow` name only one. Here `Allow` names every method some route answers on the path
    (asked of the router itself, so nested routers count), and OPTIONS, which no route declares, answers 204."""
    routes = request.app.router.routes
    allowed = {method for method in METHODS
               if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)}
    allowed |= {"HEAD"} if "GET" in allowed else set()
    allow = ", ".join(sorted(allowed | {"OPTIONS"}))
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return problem(405, "Method not allowed", f"{request.method} is not allowed here; allowed: {allow}",
                   rule="method-not-allowed", headers={"Allow": allow})


async def on_storage_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("storage unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    return problem(503, "Service unavailable", UNAVAILABLE_DETAIL, rule="storage-unavailable",
                   headers={"Retry-After": "1"})


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, STORAGE_UNAVAILABLE):  # raised through a middleware or a dependency's clean-up
        return await on_storage_unavailable(request, exc)
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal error", "the request failed; nothing was recorded unless a later read shows it",
                   rule="internal-error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    for error in STORAGE_UNAVAILABLE:
        app.add_exception_handler(error, on_storage_unavailable)
    app.add_exception_handler(Exception, on_unexpected)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    text = {400: "Malformed request", 404: "Not found", 409: "Conflict (concurrent change or Idempotency-Key in "
            "flight)", 412: "If-Match does not match the current version", 422: "Invalid input or rule violated "
            "(the body names the field and the rule)", 503: "Not ready, or the storage unavailable for a moment (retry "
            "after Retry-After)"}
    schema = {"$ref": "#/components/schemas/Problem"}
    return {code: {"description": text[code], "content": {PROBLEM: {"schema": schema}}} for code in codes}
