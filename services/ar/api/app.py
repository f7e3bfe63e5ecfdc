"""The ASGI application: one runtime per process, created at start-up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from anyio import to_thread
from fastapi import FastAPI

from ar.adapters.clocks import SettableClock, SharedFileClock
from ar.adapters.idempotency_store import IdempotencyStore
from ar.api import auth, openapi_doc, problems
from ar.api.idempotency import IdempotencyMiddleware
from ar.api.routes import (
    admin,
    bank,
    batch,
    customers,
    dunning,
    einvoices,
    events,
    health,
    invoice_dunning,
    invoices,
    keys,
    numbering,
    payments,
    reports,
    subscriptions,
    webhooks,
)
from ar.api.routes import rates as rates_routes
from ar.api.schemas.common import Problem
from ar.config import Settings
from ar.runtime import Runtime, build

DESCRIPTION = """
Accounts receivable, event-sourced: every invoice from issue to cash, every figure explained by its history.

* Amounts are integers in **minor units** (cents) with an ISO 4217 `currency`; never floats.
* Writes return the record's version as `ETag`; send it back as `If-Match` to refuse lost updates (412).
* Every POST accepts `Idempotency-Key`: a retry with the same key and body returns the first response.
* Errors are `application/problem+json` naming the `field` and the rule (`type`).
* Texts hold printable characters (no control character; tabs and line breaks only in multi-line notes); dates are
  ISO strings `YYYY-MM-DD` from 2000-01-01 to 2099-12-31 and instants ISO 8601 with their offset, never numbers.
* Writes return `AR-Position`; pass it as `min_position` to a list to read your own write.
"""


async def _purge_idempotency_keys(runtime: Runtime, store: IdempotencyStore) -> None:
    while True:
        cutoff = datetime.now(UTC) - timedelta(hours=max(24, runtime.settings.idempotency_ttl_hours))
        with contextlib.suppress(Exception):
            await to_thread.run_sync(store.purge, cutoff)
        await asyncio.sleep(600)


def _document_replays(schema: dict[str, Any]) -> None:
    """A create answers 201, or 200 when it finds the command already done (the same Idempotency-Key, external id
    or content): the contract says both."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if "201" in responses and "200" not in responses:
                responses["200"] = {**responses["201"], "description": "Already done by an earlier request (same "
                                    "Idempotency-Key, external id or content): the record as it stands"}


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """`runtime` is given by tests that drive the clock; otherwise one is built from the settings."""
    settings = settings or (runtime.settings if runtime else Settings())
    runtime = runtime or build(settings)
    store = IdempotencyStore(runtime.engine)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.threadpool_size
        if settings.run_projections:
            runtime.projections.start(settings.projection_interval_s)
        if settings.run_dunning:
            runtime.start_dunning()
        purger = asyncio.create_task(_purge_idempotency_keys(runtime, store))
        try:
            yield
        finally:
            purger.cancel()
            runtime.close()

    app = FastAPI(title="ar: accounts receivable", version="1", description=DESCRIPTION, lifespan=lifespan,
                  generate_unique_id_function=lambda route: f"{route.tags[0]}-{route.name}",
                  openapi_tags=openapi_doc.openapi_tags(), docs_url=None, redoc_url=None)
    openapi_doc.install_pages(app)  # /docs and /redoc, with no CDN
    app.state.runtime = runtime
    problems.install(app)
    # Every router behind the one scope policy (auth.py): a new route gets its scope without declaring it.
    access = [auth.authorized()]
    # einvoices and batch before invoices: `/v1/invoices/import` and `/v1/invoices/batch` are not an `{invoice_id}`
    for router in (customers.router, einvoices.router, batch.router, invoices.router, bank.router, payments.router,
                   reports.router, dunning.router, invoice_dunning.router, dunning.tasks_router, health.router,
                   numbering.router):
        app.include_router(router, dependencies=access)
    if settings.simulated_clock and isinstance(runtime.clock, SettableClock | SharedFileClock):
        app.include_router(admin.router, dependencies=access)
    for router in (rates_routes.router, keys.router, webhooks.router, events.router, subscriptions.router):
        app.include_router(router, dependencies=access)
    app.add_middleware(IdempotencyMiddleware, store=store)
    auth.install(app, runtime)  # the key check, outside the idempotency middleware (keys are scoped to the caller)

    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is not None:  # completed once (in place): completing it again repeats each addition
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
        schema["components"]["schemas"].update(events.components())  # each event type's `data`: EventData.<type>
        _document_replays(schema)
        auth.document(schema)
        openapi_doc.complete(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
