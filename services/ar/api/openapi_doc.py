"""The admin page: /docs (Swagger UI) and /redoc (ReDoc), their files served from the fastapi-offline package (no
CDN: the page works on a closed network), and what the OpenAPI document says beyond what the routes declare: the
description of each tag, and the error responses every operation can give whatever its route (no key, wrong scope,
over budget, storage unavailable)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from ar.api.problems import PROBLEM

ASSETS = Path(fastapi_offline.__file__).parent / "static"  # swagger-ui-bundle.js, swagger-ui.css, redoc, favicon
ASSETS_URL = "/docs-assets"
# A key entered under Authorize is kept in the browser's local storage: it survives a reload.
SWAGGER_UI_PARAMETERS: dict[str, Any] = {"persistAuthorization": True, "displayRequestDuration": True}

# The pages may load nothing from anywhere but this server: whatever a bundle refers to elsewhere (ReDoc 2's sidebar
# shows Redocly's logo from cdn.redoc.ly, unconditionally), the browser refuses it without trying, so the page neither
# waits on a closed network nor tells a third party who reads it. Inline scripts by hash; inline styles are the
# bundles' own (styled-components); ReDoc's search runs in a worker made from a blob.
CSP = ("default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'self'")
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}

# Open to anyone who can reach the port (the probes of a load balancer or an orchestrator carry no key), and they
# declare their own answers: /healthz touches no storage, /readyz says itself how it answers 503.
OPEN_PATHS = frozenset({"/healthz", "/readyz"})

# In the order the page shows them: the business first, then the doors, then operations.
TAGS: dict[str, str] = {
    "customers": "The debtors: registration, payment terms, credit limit, dunning policy, statement of account and "
                 "history.",
    "invoices": "Invoices from issue to cash: issue (numbered in a gapless series, or with the ERP's own number), "
                "list and search, credit notes, write-offs, disputes, and each invoice's full history.",
    "payments": "Cash received: recording, allocation to invoices (automatic or by hand), refunds of unapplied cash, "
                "returned direct debits and bounced cheques.",
    "batch": "Many invoices or payments in one call (up to 1,000), each item answered as the single call would "
             "answer it; the same batch sent again with its Idempotency-Key records nothing new. For files, "
             "`ar import`.",
    "bank": "Bank statements in (camt.053/.054, MT940, CFONB 120, CSV): each credit a payment, matched to invoices "
            "automatically where it is sure, else waiting with ranked suggestions for a person to confirm.",
    "numbering": "The invoice number series: those `ar` numbers itself (gapless) and those an issuer (an ERP) "
                 "numbers, with the gaps found in an issuer's numbers (reported, never refused).",
    "reports": "Read-only figures from the read models: aging by days past due, KPIs, statements, and the read "
               "models' positions and lag.",
    "dunning": "Reminders: policies and their assignment, each invoice's timeline, penalties, promises to pay, "
               "pauses and opt-outs, the agenda, the sweep and simulations over past history.",
    "tasks": "The ops task queue: calls, hand-offs and rates to record that dunning or a delivery leaves to a "
             "person, and how each was closed.",
    "rates": "The rate book: the reference rates that late-payment penalties use, half-year by half-year, with every "
             "entry and correction ever made.",
    "keys": "API keys (admin scope): create, list, rotate and revoke. A key is shown once, at creation; only its "
            "hash is stored.",
    "webhooks": "ERP webhooks in: signed deliveries (Standard Webhooks) mapped onto the same commands as this API, "
                "deduplicated by webhook id; the inbox of failed deliveries and their replay; the sources' secrets.",
    "events": "The event feed: the notification log as a stable envelope, after a position, with long polling.",
    "subscriptions": "Webhooks out: subscriptions to event types, delivered signed (Standard Webhooks), retried with "
                     "back-off, with a delivery log and redelivery by hand.",
    "health": "Probes, open without a key: liveness (`/healthz`) and readiness (`/readyz`).",
    "admin": "Operations on a test or demo deployment: the simulated clock.",
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}

# Added to every operation that does not declare the status itself (a route's own declaration is kept as it is).
SHARED: dict[str, dict[str, Any]] = {
    "401": {"description": "No API key, or an unknown, expired or revoked one (`Authorization: Bearer <key>`)"},
    "403": {"description": "The API key lacks the scope this operation requires"},
    "429": {"description": "The API key's request budget is spent; retry after Retry-After", "headers": RETRY_AFTER},
    "503": {"description": "The storage is unavailable for a moment; retry after Retry-After (with the same "
                           "Idempotency-Key for a write)", "headers": RETRY_AFTER},
}
KEYED = frozenset({"401", "403", "429"})  # what only a door that reads an API key answers
RETRY_LATER = ("429", "503")


def openapi_tags() -> list[dict[str, str]]:
    """The tags' descriptions, as FastAPI's `openapi_tags` takes them."""
    return [{"name": name, "description": text} for name, text in TAGS.items()]


def install_pages(app: FastAPI) -> None:
    """/docs and /redoc on `app` (built with `docs_url=None, redoc_url=None`), every file they load from this
    server. Plain routes, out of the OpenAPI, as FastAPI's own pages are."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    assert app.openapi_url is not None

    def urls(request: Request) -> tuple[str, str]:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return f"{root}{app.openapi_url}", f"{root}{ASSETS_URL}"

    async def swagger_ui(request: Request) -> HTMLResponse:
        openapi_url, assets = urls(request)
        return _this_server_only(get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - Swagger UI", swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css", swagger_favicon_url=f"{assets}/favicon.png",
            oauth2_redirect_url=None, swagger_ui_parameters=SWAGGER_UI_PARAMETERS))

    async def redoc(request: Request) -> HTMLResponse:
        openapi_url, assets = urls(request)
        return _this_server_only(get_redoc_html(
            openapi_url=openapi_url, title=f"{app.title} - ReDoc", redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False))

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)


def _this_server_only(page: HTMLResponse) -> HTMLResponse:
    """The page with a Content-Security-Policy that lets it load nothing from elsewhere (its inline script by hash)."""
    hashes = [base64.b64encode(hashlib.sha256(script).digest()).decode() for script in INLINE_SCRIPT.findall(page.body)]
    page.headers["Content-Security-Policy"] = CSP.format(scripts=" ".join(f"'sha256-{h}'" for h in hashes))
    return page


def complete(schema: dict[str, Any]) -> None:
    """Adds the error responses every operation can give (a response already declared keeps its text), says that
    each 429 and 503 comes with Retry-After, and keeps only the tags some operation uses (the admin routes are
    mounted only with a simulated clock). Runs after auth.document, which marks the keyless doors."""
    used: set[str] = set()
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            used.update(operation.get("tags", []))
            responses = operation.setdefault("responses", {})
            keyless = operation.get("security") == []  # auth.document: a door that takes no key (a signed webhook)
            for code, answer in SHARED.items():
                if path not in OPEN_PATHS and not (keyless and code in KEYED):
                    responses.setdefault(code, {**answer, "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}})
            for code in RETRY_LATER:  # however declared (by a route, auth.document or above), with its header
                if code in responses:
                    responses[code].setdefault("headers", {}).update(RETRY_AFTER)
    if "tags" in schema:
        schema["tags"] = [tag for tag in schema["tags"] if tag["name"] in used]
