"""The simulated clock, for demos and tests: mounted only when `AR_SIMULATED_CLOCK` is set (otherwise 404)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from ar.adapters.clocks import SettableClock, SharedFileClock
from ar.api.deps import RuntimeDep
from ar.api.problems import responses
from ar.api.schemas.dunning_tasks import ClockIn, ClockOut
from ar.domain.errors import DomainRuleViolation
from ar.runtime import Runtime

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _clock(runtime: Runtime) -> SettableClock | SharedFileClock:
    clock = runtime.clock
    assert isinstance(clock, SettableClock | SharedFileClock), "the admin router is mounted only over a settable clock"
    return clock


def _out(clock: SettableClock | SharedFileClock) -> ClockOut:
    return ClockOut(now=clock.now(), today=clock.today())


@router.get("/clock", response_model=ClockOut, summary="Read the simulated clock")
def get_clock(runtime: RuntimeDep) -> ClockOut:
    """The instant every command records and the business date the dunning sweep works on."""
    return _out(_clock(runtime))


@router.post("/clock", response_model=ClockOut, responses=responses(422), summary="Move the simulated clock")
def set_clock(body: ClockIn, runtime: RuntimeDep) -> ClockOut:
    """Forward only: events already recorded must never seem to come from the future. Moving the clock decides
    nothing by itself; the background sweeper (or `POST /v1/dunning/sweep`) then acts on the new date."""
    clock = _clock(runtime)
    if body.advance_days is not None:
        clock.advance(timedelta(days=body.advance_days))
    elif body.now is not None:
        if body.now < clock.now():
            raise DomainRuleViolation(f"the clock stands at {clock.now().isoformat()} and only moves forward",
                                      field="now")
        clock.set(body.now)
    return _out(clock)
