"""Wires one process: settings -> event store, read-model engine, application, projections."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ar.application.receivables import Receivables
from ar.clock import SettableClock, SystemClock
from ar.config import Settings
from ar.database import create_engine, migrate
from ar.domain.clock import Clock
from ar.projections.customers import CustomersProjection
from ar.projections.lookups import ReadModelLookups
from ar.projections.receivables import ReceivablesProjection
from ar.projections.runner import ProjectionRunner


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: sa.Engine
    app: Receivables
    projections: ProjectionRunner

    def close(self) -> None:
        self.projections.stop()
        self.app.close()
        self.engine.dispose()


def build(settings: Settings, clock: Clock | None = None, *, run_migrations: bool = True) -> Runtime:
    """Create the application once per process, at start-up (lazy creation from request threads races)."""
    engine = create_engine(settings)
    if run_migrations:
        migrate(engine)
    if clock is None:
        clock = SettableClock(SystemClock().now()) if settings.simulated_clock else SystemClock()
    app = Receivables(settings.event_store_env(), clock=clock)
    runner = ProjectionRunner(app, engine, [ReceivablesProjection(), CustomersProjection()])
    app.finder = app.exposure = ReadModelLookups(engine, runner.catch_up)
    app.on_saved(runner.wake)
    return Runtime(settings=settings, clock=clock, engine=engine, app=app, projections=runner)
