from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ar.api.deps import RuntimeDep
from ar.api.problems import problem, responses

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The event store and the read models answer", responses=responses(503))
def readyz(runtime: RuntimeDep) -> Any:
    try:
        head = runtime.projections.head()
        with runtime.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return problem(503, "Not ready", f"storage unavailable: {type(exc).__name__}", rule="not-ready",
                       headers={"Retry-After": "1"})
    return JSONResponse({"status": "ready", "event_store_head": head})
