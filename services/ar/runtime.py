"""Wires one process: settings -> event store, read-model engine, application, projections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import sqlalchemy as sa

from ar.adapters.api_keys import ApiKeyStore
from ar.adapters.bank_imports import BankImportStore
from ar.adapters.business_days import HolidayCalendar
from ar.adapters.clocks import SettableClock, SharedFileClock, SystemClock, parse_start
from ar.adapters.event_reads import select_many
from ar.adapters.event_writes import write_events_in_binary
from ar.adapters.rate_tables import load_rate_seed
from ar.application.bank_import import BankImports
from ar.application.ports import Ports
from ar.application.rates import RateSeed
from ar.application.receivables import Receivables
from ar.config import Settings
from ar.database import create_engine, migrate
from ar.delivery.renderer import JinjaRenderer
from ar.delivery.subscriptions import SubscriptionSender, build_sender
from ar.delivery.worker import DeliveryWorker, build_delivery
from ar.domain.clock import Clock
from ar.projections.bank_queries import BankLookups
from ar.projections.customers import CustomerLookups, CustomersProjection
from ar.projections.dunning import DunningProjection
from ar.projections.dunning_queries import DunningLookups
from ar.projections.lookups import ReadModelLookups
from ar.projections.payer_accounts import PayerAccountsProjection
from ar.projections.receivables import ReceivablesProjection
from ar.projections.runner import ProjectionRunner
from ar.projections.subscription_outbox import SubscriptionOutbox
from ar.scheduler.sweeper import Sweeper


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: sa.Engine
    app: Receivables
    projections: ProjectionRunner
    sweeper: Sweeper
    delivery: DeliveryWorker
    subscriptions: SubscriptionSender
    bank: BankImports

    def start_dunning(self) -> None:
        """The sweeper, the delivery worker and the subscription sender in background threads (`ar worker`; `ar
        serve` on the default)."""
        self.sweeper.start(self.settings.sweep_interval_s)
        self.delivery.start(self.settings.delivery_interval_s)
        self.subscriptions.start(self.settings.delivery_interval_s)

    def close(self) -> None:
        self.sweeper.stop()
        self.delivery.stop()
        self.subscriptions.stop()
        self.projections.stop()
        self.app.close()
        self.engine.dispose()


def simulated_clock(settings: Settings) -> SettableClock | SharedFileClock:
    """Starts at `AR_CLOCK_START` (now by default). A clock file already there keeps its instant: processes that
    join a running simulation (a restarted worker) must not move its time back."""
    start = parse_start(settings.clock_start) if settings.clock_start else SystemClock().now()
    return SharedFileClock(settings.clock_file, start) if settings.clock_file else SettableClock(start)


class CatchUpLater:
    """The projection runner's `catch_up`, for the lookups built before it. The cycle is real: the runner reads the
    application's recorder, and the application is built with its lookups, which catch the runner up. Called
    before the runner exists, it raises rather than read a stale model."""

    def __init__(self) -> None:
        self._catch_up: Callable[[], int] | None = None

    def resolve(self, catch_up: Callable[[], int]) -> None:
        self._catch_up = catch_up

    def __call__(self) -> int:
        if self._catch_up is None:
            raise RuntimeError("a read-model lookup ran before the projection runner was built")
        return self._catch_up()


def build(settings: Settings, clock: Clock | None = None, *, run_migrations: bool = True) -> Runtime:
    """Create the application once per process, at start-up (lazy creation from request threads races)."""
    engine = create_engine(settings)
    if run_migrations:
        migrate(engine)
    if clock is None:
        clock = simulated_clock(settings) if settings.simulated_clock else SystemClock()
    if settings.admin_key:  # AR_ADMIN_KEY: the "bootstrap" admin key, unless a key with its id exists
        ApiKeyStore(engine).install(settings.admin_key, name="bootstrap", now=clock.now())
    receivables_caught_up, agenda_caught_up, customers_caught_up = CatchUpLater(), CatchUpLater(), CatchUpLater()
    lookups = ReadModelLookups(engine, receivables_caught_up)
    ports = Ports(finder=lookups, exposure=lookups, candidates=DunningLookups(engine, agenda_caught_up),
                  read_many=select_many,
                  renderer=JinjaRenderer(creditor=settings.creditor()),
                  calendar=HolidayCalendar(settings.holiday_region),
                  customers=CustomerLookups(engine, customers_caught_up))
    app = Receivables(settings.event_store_env(), clock=clock, ports=ports, rate_seed=RateSeed(*load_rate_seed()),
                      creditor={"name": settings.creditor_name, "email": settings.creditor_email},
                      split_by_half_year=settings.penalty_split_by_half_year,
                      lifecycle_snooze_days=settings.lifecycle_payment_sent_snooze_days)
    write_events_in_binary(app.recorder)
    runner = ProjectionRunner(app, engine, [ReceivablesProjection(), CustomersProjection(), DunningProjection(app),
                                           SubscriptionOutbox(engine, clock), PayerAccountsProjection()],
                              batch_interval_s=settings.projection_batch_interval_ms / 1000)
    # Each lookup advances only the read model it reads, and never retries a stopped one (the loop does).
    receivables_caught_up.resolve(partial(runner.catch_up, only={ReceivablesProjection.name}, retry_stalled=False))
    agenda_caught_up.resolve(partial(runner.catch_up, only={DunningProjection.name}, retry_stalled=False))
    customers_caught_up.resolve(partial(runner.catch_up, only={CustomersProjection.name}, retry_stalled=False))
    accounts_caught_up = partial(runner.catch_up, only={PayerAccountsProjection.name}, retry_stalled=False)
    bank = BankImports(app, store=BankImportStore(engine), tolerance_minor=settings.bank_match_tolerance_minor,
                       candidates=BankLookups(engine, invoices_caught_up=receivables_caught_up,
                                              accounts_caught_up=accounts_caught_up))
    # A save asks for a catch-up within the batch interval, not at once: the saves meanwhile share it (a read
    # waiting for a position, or a lookup, catches up at once).
    app.on_saved(runner.wake_soon)
    app.ensure_default_policies()
    app.ensure_rate_book()
    sweeper = Sweeper(app, engine, runner.catch_up, clock)
    delivery = build_delivery(settings, app, engine, clock)
    return Runtime(settings=settings, clock=clock, engine=engine, app=app, projections=runner, sweeper=sweeper,
                   delivery=delivery, subscriptions=build_sender(settings, app, engine, clock), bank=bank)
