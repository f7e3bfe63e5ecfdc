"""`ar`: serve, worker, migrate, rebuild, demo."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Annotated

import typer
import uvicorn

from ar.clock import parse_start
from ar.config import Settings
from ar.database import create_engine, migrate
from ar.runtime import Runtime, build

cli = typer.Typer(help="ar: event-sourced accounts receivable", no_args_is_help=True)


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          simulated_clock: Annotated[bool, typer.Option(help="demo/test clock; never in production")] = False,
          start: Annotated[str | None, typer.Option(
              help="with --simulated-clock: where it starts, YYYY-MM-DD (09:00) or YYYY-MM-DDTHH:MM, Paris time; "
                   "default now", metavar="DATE")] = None,
          ) -> None:
    """Run the HTTP API (and, on the embedded default, the projections) in this process."""
    if simulated_clock:
        os.environ["AR_SIMULATED_CLOCK"] = "true"
    if start is not None:
        _start_simulated_clock(start, simulated_clock)
    # Set up every table once here, before the server processes start (concurrent set-up races).
    runtime = build(Settings())
    try:
        if simulated_clock:
            _refuse_a_clock_behind_history(runtime)
    finally:
        runtime.close()
    uvicorn.run("ar.api.main:app", host=host, port=port, workers=workers, log_level="info",
                timeout_graceful_shutdown=10)


def _start_simulated_clock(start: str, simulated_clock: bool) -> None:
    """`--start` reaches the server processes as AR_CLOCK_START (a clock file already there keeps its time, so a
    restarted process rejoins its simulation)."""
    if not simulated_clock:
        raise typer.BadParameter("only with --simulated-clock (the real clock is never set)", param_hint="--start")
    try:
        os.environ["AR_CLOCK_START"] = parse_start(start).isoformat()
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--start") from None


def _refuse_a_clock_behind_history(runtime: Runtime) -> None:
    """Events already recorded must never seem to come from the future (the admin clock only moves forward): a
    simulated clock started before the last one recorded is refused, naming the way out."""
    now, head = runtime.clock.now(), runtime.app.recorder.max_notification_id()
    last = runtime.app.recorder.select_notifications(head, 1, stop=head) if head else []
    recorded = getattr(runtime.app.mapper.to_domain_event(last[0]), "at", None) if last else None
    if isinstance(recorded, datetime) and now < recorded:
        typer.echo(f"The database holds events recorded up to {recorded.isoformat()}: start the simulated clock "
                   "then or later (--start), or on a fresh database (AR_DATABASE_URL).", err=True)
        raise typer.Exit(2)
    typer.echo(f"Simulated clock at {now.isoformat()} (business date {runtime.clock.today()})")


@cli.command()
def worker() -> None:
    """Run the read-model projections, the dunning sweeper and reminder delivery until SIGTERM or SIGINT.

    Several workers may run at once: each projection batch locks its position row, each sweep chunk takes an
    advisory lock and the aggregates refuse a decision taken twice, and each delivery is claimed by one worker.
    Run `ar serve` with AR_RUN_PROJECTIONS=false and AR_RUN_DUNNING=false beside it."""
    import signal
    import threading

    settings = Settings()
    runtime = build(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runtime.projections.start(settings.projection_interval_s)
    if settings.run_dunning:
        runtime.start_dunning()
    typer.echo(f"worker: projections{', dunning sweeper and delivery' if settings.run_dunning else ''} running")
    stop.wait()
    runtime.close()


@cli.command("migrate")
def migrate_cmd() -> None:
    """Create or upgrade our tables (the event store creates its own)."""
    engine = create_engine(Settings())
    migrate(engine)
    engine.dispose()
    typer.echo("migrated")


@cli.command()
def rebuild(projection: str) -> None:
    """Rebuild a read model from event 1 (the service may keep serving meanwhile)."""
    runtime = build(Settings())
    try:
        typer.echo(f"{projection}: {runtime.projections.rebuild(projection)} events applied")
    finally:
        runtime.close()


@cli.command()
def demo(days: Annotated[int, typer.Option(help="how many days to simulate from 2 March 2026")] = 120,
         port: Annotated[int, typer.Option(help="port of the demo server on 127.0.0.1")] = 8765,
         keep: Annotated[bool, typer.Option(help="keep the database and outbox")] = False) -> None:
    """Start a server with a simulated clock, sample customers and invoices, move time over four months, and print
    what happened (reminders, penalties, aging)."""
    from ar.demo import run_demo

    raise typer.Exit(run_demo(None, port, days=days, keep=keep))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cli()
