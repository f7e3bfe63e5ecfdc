"""`ar`: serve, worker, migrate, rebuild, demo, import."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import threading
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from ar.adapters.clocks import parse_start
from ar.adapters.new_events import NewEventWatcher
from ar.cli_bank import import_statement
from ar.cli_import import import_file
from ar.cli_keys import first_admin_key, keys_cli
from ar.cli_subscriptions import subscriptions_cli
from ar.cli_webhooks import webhooks_cli
from ar.config import Settings
from ar.database import create_engine, migrate
from ar.runtime import Runtime, build
from ar.supervisor import WorkerProcess, die_with_parent, say_ready, worker_command

cli = typer.Typer(help="ar: event-sourced accounts receivable", no_args_is_help=True)
WORKER_START_TIMEOUT_S = 30.0


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          simulated_clock: Annotated[bool, typer.Option(help="demo/test clock; never in production")] = False,
          start: Annotated[str | None, typer.Option(
              help="with --simulated-clock: where it starts, YYYY-MM-DD (09:00) or YYYY-MM-DDTHH:MM, Paris time; "
                   "default now", metavar="DATE")] = None,
          ) -> None:
    """Run the HTTP API, and the projections, the dunning sweeper and delivery: on PostgreSQL in a worker process it
    starts and supervises, on SQLite in threads of the API process (AR_BACKGROUND; or in `ar worker`s beside it)."""
    if simulated_clock:
        os.environ["AR_SIMULATED_CLOCK"] = "true"
    if start is not None:
        _start_simulated_clock(start, simulated_clock)
    # Set up every table once here, before the server processes start (concurrent set-up races).
    settings = Settings()
    runtime = build(settings)
    try:
        if simulated_clock:
            _refuse_a_clock_behind_history(runtime)
        first_admin_key(runtime, f"http://{host}:{port}")
    finally:
        runtime.close()
    background = settings.background_mode()
    child = None
    if background == "process":
        child = WorkerProcess(worker_command(os.getpid(), projections=settings.run_projections),
                              {**os.environ, "AR_CREATE_TABLES": "false"})
    if background != "threads":  # the server processes (uvicorn imports the app in each) run none of it
        os.environ.update(AR_RUN_PROJECTIONS="false", AR_RUN_DUNNING="false")
    typer.echo(f"background work: {background}")
    # A server process builds its runtime before it serves: on a busy machine that takes longer than uvicorn's 5 s
    # readiness check, which then kills it and starts another, for ever.
    run = partial(uvicorn.run, "ar.api.main:app", host=host, port=port, workers=workers, log_level="info",
                  timeout_graceful_shutdown=10, timeout_worker_healthcheck=60)
    if child is None:
        run()
        return
    # uvicorn restores the SIGTERM handler it found and raises the signal again once it has shut down: ours ends
    # the `with` (the child is stopped), then the process dies of SIGTERM as it would have.
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with child:
            if workers == 1:  # this process serves: build its app meanwhile (uvicorn then finds it imported)
                importlib.import_module("ar.api.main")
            # Once serving, reads with min_position wait for the worker: it runs before the first request.
            if not child.wait_ready(WORKER_START_TIMEOUT_S):
                logging.getLogger(__name__).warning("the background worker is not running after %.0f s: serving "
                                                    "meanwhile (reads with min_position wait for it)",
                                                    WORKER_START_TIMEOUT_S)
            run()
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)


class _Terminated(BaseException):
    """SIGTERM, raised out of uvicorn.run so that `ar serve` stops its worker process first."""


def _raise_terminated(_signum: int, _frame: object) -> None:
    raise _Terminated


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
def worker(projections: Annotated[bool, typer.Option(help="run the read-model projections (--no-projections: "
                                                        "only the sweeper and delivery)")] = True,
           parent_pid: Annotated[int | None, typer.Option(hidden=True, help="`ar serve`'s pid: stop when it is "
                                                          "gone, and leave SIGINT to it")] = None,
           ready_fd: Annotated[int | None, typer.Option(hidden=True, help="a pipe to write one byte to once "
                                                        "running (`ar serve` waits for it)")] = None) -> None:
    """Run the read-model projections, the dunning sweeper and reminder delivery until SIGTERM or SIGINT.

    Several workers may run at once: each projection batch locks its position row, each sweep chunk takes an
    advisory lock and the aggregates refuse a decision taken twice, and each delivery is claimed by one worker.
    `ar serve` runs one by default (AR_BACKGROUND=process); with AR_BACKGROUND=external, run them yourself."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if parent_pid is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        die_with_parent(parent_pid, stop.set)
    settings = Settings()
    runtime = build(settings)
    watcher = None
    if projections:
        runtime.projections.start(settings.projection_interval_s)
        watcher = _watch_new_events(settings, runtime).start()
    if settings.run_dunning:
        runtime.start_dunning()
    running = [*(["projections"] if projections else []),
               *(["dunning sweeper and delivery"] if settings.run_dunning else [])]
    typer.echo(f"worker: {', '.join(running) or 'nothing'} running")
    if ready_fd is not None:
        say_ready(ready_fd)
    stop.wait()
    if watcher is not None:
        watcher.stop()
    runtime.close()


def _watch_new_events(settings: Settings, runtime: Runtime) -> NewEventWatcher:
    """Events recorded by the API processes wake the projections at once (not at their next poll)."""
    wake = runtime.projections.wake_soon
    channel = getattr(runtime.app.recorder, "channel_name", None)
    if settings.is_postgres and isinstance(channel, str):
        return NewEventWatcher(wake, postgres_url=settings.database_url, channel=channel)
    return NewEventWatcher(wake, sqlite_path=Path(settings.event_store_env()["SQLITE_DBNAME"]))


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


rates_cli = typer.Typer(help="The ECB and legal rates the late-payment penalties use (the rate book).",
                        no_args_is_help=True)
cli.add_typer(rates_cli, name="rates")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(webhooks_cli, name="webhooks")
cli.add_typer(subscriptions_cli, name="subscriptions")
cli.command("import-statement")(import_statement)
cli.command("import")(import_file)


@rates_cli.command("add")
def rates_add(
    table: Annotated[str, typer.Option(help="ecb, legal or legal_individual")],
    half_year: Annotated[str, typer.Option(help="2027-H1 (from 1 January) or 2027-H2 (from 1 July)")],
    value: Annotated[str, typer.Option(help="percent, as written in the source: 2.15")],
    source: Annotated[str, typer.Option(help="where it was read: the JO arrêté, the ECB decision")],
    by: Annotated[str, typer.Option(help="who records it")],
    to_confirm: Annotated[bool, typer.Option(help="used as given, shown as to be checked")] = False,
    note: Annotated[str | None, typer.Option(help="anything a reader should know")] = None,
) -> None:
    """Record a rate, or correct one (a new entry; the latest wins, the history keeps the others). Every running
    process uses it within seconds."""
    from ar.domain.errors import DomainError
    from ar.domain.rate_book import RateFact, RateTable, parse_half_year, parse_rate

    runtime = build(Settings())
    try:
        if table not in {t.value for t in RateTable}:
            raise typer.BadParameter(f"one of {', '.join(t.value for t in RateTable)}", param_hint="--table")
        fact = RateFact(table=RateTable(table), half_year_start=parse_half_year(half_year), value=parse_rate(value),
                        source=source, to_confirm=to_confirm, note=note)
        saved = runtime.app.record_rate(fact, recorded_by=by)
    except DomainError as e:
        typer.echo(f"refused ({e.field}): {e.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        runtime.close()
    done = "recorded" if saved.position is not None else "already recorded, nothing changed"
    typer.echo(f"{table} {half_year}: {fact.value}% {done} (rate book version {saved.aggregate.version})")


@rates_cli.command("list")
def rates_list() -> None:
    """Every table, half-year by half-year: value, source, who recorded it and when, the *to confirm* marks, and
    the half-years still without a rate (from 30 days before they start)."""
    from ar.domain.rate_book import RateTable
    from ar.domain.rate_tables import half_year_label

    runtime = build(Settings())
    try:
        app = runtime.app
        book = app.rate_book()
        for table in RateTable:
            typer.echo(f"{table.value}: {table.display_name}")
            for r in book.rates_of(table):
                mark = "  TO CONFIRM" if r.fact.to_confirm else ""
                typer.echo(f"  {half_year_label(r.fact.half_year_start)}  {r.fact.value:>6}%  {r.fact.source}  "
                           f"(by {r.recorded_by}, {r.recorded_at:%Y-%m-%d %H:%M})"
                           f"{mark}")
        for need in app.rate_needs():
            typer.echo(f"MISSING: {need.summary} (due {need.due_on.isoformat()})")
        typer.echo(f"to confirm: {', '.join(app.rates_to_confirm()) or 'none'}")
    finally:
        runtime.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cli()
