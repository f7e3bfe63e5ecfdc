"""Liveness and readiness, for load balancers and operators.

Readiness is about storage: when the event store or the read-model database does not answer, /readyz is 503 and a
load balancer takes the process out. A projection stopped at an event it cannot apply is another matter: commands
and every other read model still work (only that read model is frozen, and reads waiting on it answer 503 by
themselves), so /readyz stays 200 with `"status": "degraded"` and `details` saying why, for monitoring to alert on;
taking every API process out because one read model is stuck would turn a partial outage into a total one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ar.api.deps import RuntimeDep
from ar.api.problems import problem, responses
from ar.api.routes.rates import rates_readiness
from ar.projections.stalls import Stall

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The event store and the read models answer (200 `ready` or `degraded`)",
            responses=responses(503))
def readyz(runtime: RuntimeDep) -> Any:
    """`status` is `ready`, or `degraded` (still 200: the process serves) when `details` names something an
    operator must fix; each detail block says whether it degrades."""
    try:
        head = runtime.projections.head()  # the event store answers
        stuck = runtime.projections.stuck()  # the read-model database answers (it reads the projection positions)
    except Exception as exc:
        return problem(503, "Not ready", f"storage unavailable: {type(exc).__name__}", rule="not-ready",
                       headers={"Retry-After": "1"})
    details: dict[str, dict[str, Any]] = {}
    if stuck:
        details["projections"] = _stuck_projections(stuck)
    details["rates"] = rates_readiness(runtime.app, runtime.clock.today())
    degraded = any(block.get("degraded") for block in details.values())
    body: dict[str, Any] = {"status": "degraded" if degraded else "ready", "event_store_head": head}
    if details:
        body["details"] = details
    return JSONResponse(body)


def _stuck_projections(stalls: list[Stall]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"degraded": True, "stuck": [
        {"name": s.name, "failed_position": s.position, "error": s.error,
         "first_failed_at": s.first_failed_at.isoformat(), "attempts": s.attempts,
         "next_retry_in_s": max(0, round((s.next_retry_at - now).total_seconds()))}
        for s in stalls]}
