"""API keys and scopes at the door: the one scope policy, the route dependency that applies it, its problems, and
what the OpenAPI says of it.

The policy is declared here only, over the route's path template and method: GET/HEAD/OPTIONS need `read`, other
methods `write`, the admin resources `admin`; the probes and the documentation are open; the ERP webhooks are
signature doors (the sender's HMAC is its credential, checked by their route). `create_app` includes every router
with `authorized()`, so a new route gets its scope without declaring it."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from ar.adapters.api_keys import SCOPES, ApiKey, ApiKeyStore, Refused, grants
from ar.adapters.api_keys import Scope as Scope
from ar.api import authentication
from ar.api.problems import PROBLEM, problem
from ar.application import actor
from ar.runtime import Runtime

Access = Scope | Literal["open", "signature"]
OPEN: Access = "open"
SIGNATURE: Access = "signature"

OPEN_PATHS = ("/healthz", "/readyz", "/openapi.json")
OPEN_PREFIXES = ("/docs", "/redoc", "/docs-assets", "/static-offline-docs")  # the pages and their files
SIGNATURE_DOORS = ("/v1/webhooks/erp/",)  # no bearer key: the Standard Webhooks signature is the credential
ADMIN_PREFIXES = ("/v1/keys", "/v1/webhooks/sources", "/v1/subscriptions", "/v1/admin")
ADMIN_ROUTES = {("POST", "/v1/rates")}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
# Replaying a failed ERP delivery runs the same commands a write key may run itself: `write` (the default).

BEARER = "bearer"
SIGNED_NOTE = "Signed (Standard Webhooks), no API key."
REFUSALS = {"401": "No API key, or an unknown, expired or revoked one (`Authorization: Bearer <key>`)",
            "403": "The API key lacks the scope this operation requires",
            "429": "The API key's request budget is spent; retry after Retry-After"}
WHY = {"malformed": "the Authorization header must read `Bearer ark_<key id>_<secret>`",
       "unknown": "unknown API key (or not its current secret)",
       "expired": "this API key has expired", "revoked": "this API key has been revoked"}


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def required(method: str, path: str) -> Access:
    """What a route needs, from its method and path template (`/v1/keys/{key_id}`)."""
    if path in OPEN_PATHS or any(_under(path, p) for p in OPEN_PREFIXES):
        return OPEN
    if any(path.startswith(p) for p in SIGNATURE_DOORS):
        return SIGNATURE
    if (method, path) in ADMIN_ROUTES or any(_under(path, p) for p in ADMIN_PREFIXES):
        return "admin"
    return "read" if method in READ_METHODS else "write"


class AccessRefused(Exception):
    def __init__(self, status: int, detail: str, *, needed: Scope | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.needed = status, detail, needed


async def on_refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AccessRefused)
    if exc.status == 401:
        return problem(401, "Unauthorized", exc.detail, rule="unauthorized", field="Authorization",
                       headers={"WWW-Authenticate": "Bearer"})
    return problem(403, "Forbidden", exc.detail, rule="insufficient-scope", field="Authorization",
                   extra={"required_scope": exc.needed})


def _check(request: Request, needed: Scope) -> ApiKey:
    found = authentication.identity(request.scope)
    if found is None:
        raise AccessRefused(401, f"an API key with the `{needed}` scope is required: send `Authorization: Bearer "
                            "<key>` (`ar keys create`)")
    if isinstance(found, Refused):
        raise AccessRefused(401, WHY[found.reason])
    if not grants(found.scope, needed):
        raise AccessRefused(403, f"this operation needs the `{needed}` scope; API key {found.key_id} holds "
                            f"`{found.scope}`", needed=needed)
    actor.set_actor(actor.api_key(found.key_id))
    return found


async def _authorize(request: Request) -> None:
    """The route dependency: async, so that the actor it sets reaches the endpoint's worker thread."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None) or request.scope["path"]
    needed = required(request.method, path)
    if needed != "open" and needed != "signature":
        _check(request, needed)


def authorized() -> Any:
    """The dependency `create_app` gives every router: the scope policy above, applied to the matched route."""
    return Depends(_authorize)


def require(scope: Scope) -> Any:
    """A dependency refusing a caller without `scope` (beyond the policy, for a route that needs more)."""

    async def check(request: Request) -> None:
        _check(request, scope)

    return Depends(check)


def caller(request: Request) -> ApiKey:
    """The API key of this request (a route behind a scope has one)."""
    found = authentication.identity(request.scope)
    assert isinstance(found, ApiKey), "caller() is for routes behind a scope"
    return found


def verified_keys(request: Request) -> authentication.VerifiedKeys:
    """The keys the key check keeps in memory (`install` puts them in the app's state)."""
    keys: authentication.VerifiedKeys = request.app.state.verified_keys
    return keys


def install(app: FastAPI, runtime: Runtime) -> None:
    """The key check as the outermost middleware (before idempotency) and the 401/403 problems. Call it after the
    other middleware is added."""
    settings = runtime.settings
    app.state.verified_keys = keys = authentication.VerifiedKeys()
    app.add_exception_handler(AccessRefused, on_refused)
    app.add_middleware(authentication.KeyCheck, store=ApiKeyStore(runtime.engine), clock=runtime.clock,
                       budget=authentication.Budget(settings.rate_limit_per_s, settings.rate_limit_burst), keys=keys)


def document(schema: dict[str, Any]) -> None:
    """The bearer scheme (the page's Authorize button) and each operation's scope: `security`, `x-required-scope`
    and a first line of its description; open operations and signature doors have `security: []`."""
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[BEARER] = {"type": "http", "scheme": "bearer", "bearerFormat": "ark_<key id>_<secret>",
                       "description": "An API key (`ar keys create`, or the first admin key `ar serve` prints). "
                       f"Scopes: {', '.join(f'`{s}`' for s in SCOPES)}; each includes the ones before it."}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            needed = required(method.upper(), path)
            operation["x-required-scope"] = needed
            if needed == OPEN:
                operation["security"] = []
                continue
            if needed == SIGNATURE:
                operation["security"] = []
                line = SIGNED_NOTE
            else:
                operation["security"] = [{BEARER: []}]
                line = f"Scope: `{needed}`."
                for code, text in REFUSALS.items():
                    answer: dict[str, Any] = {"description": text, "content": {
                        PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                    if code == "429":
                        answer["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying",
                                                             "schema": {"type": "integer"}}}
                    operation["responses"].setdefault(code, answer)
            description = operation.get("description")
            operation["description"] = f"{line}\n\n{description}" if description else line
