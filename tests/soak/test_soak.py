"""Fault-injection soak: processes die under load and nothing acknowledged is lost, doubled or mis-numbered.

On a private PostgreSQL cluster (its own `initdb`, its own port), two `ar serve` and two `ar worker` processes share
a simulated clock (a clock file) and send reminders to an SMTP sink in this process. Eight clients send a mix of
commands (register, issue, pay, allocate, dispute, credit note) to either server with Idempotency-Keys, retrying on
any error with the same key and body. Meanwhile a chaos loop SIGKILLs a random server or worker every few seconds
and starts it again, PostgreSQL is crash-restarted once (`pg_ctl -m immediate`), and the clock runs a few days per
second so that invoices fall due and reminders are decided and delivered during the chaos.

Then chaos stops, the clients retry what is still pending (a key claimed by a request that died with its server
stays "in flight" for a minute: rather than wait, its claim is aged in the database, as if the client had waited),
the workers settle, and:
* every command acknowledged with a 2xx took effect exactly once (found in the event store by its id, or by its key
  in a free-text field), invoices with the number they were acknowledged with; no command took effect twice;
* the invoice and credit-note series are numbered 1..N without a gap;
* every read model equals, row by row, a rebuild from event 1;
* the SMTP sink holds at most one email per reminder and per (invoice, step), each from a recorded reminder;
* every reminder to deliver has an outcome: ReminderDelivered, or a final ReminderDeliveryFailed for review.

AR_SOAK_SECONDS sets the length of the chaos (60 s in `make test`, several minutes in `make soak`); AR_SOAK_DAYS the
simulated days it spans; AR_SOAK_FIGURES a file to write the figures to (JSON).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.soak import checks
from tests.soak.clients import Book, ClientFigures, run_client
from tests.soak.harness import Inbox, PrivateCluster, Proc
from tests.support.servers import free_port, smtp_sink

from ar.adapters.clocks import SharedFileClock
from ar.adapters.idempotency_store import STALE_CLAIM
from ar.config import Settings
from ar.domain.clock import BUSINESS_TZ
from ar.projections.dunning_tables import reminder_deliveries
from ar.projections.tables import projection_positions
from ar.runtime import Runtime, build

SOAK_SECONDS = float(os.environ.get("AR_SOAK_SECONDS", "60"))
SIM_DAYS = float(os.environ.get("AR_SOAK_DAYS", "240"))
SEED = int(os.environ.get("AR_SOAK_SEED", "20260302"))
FIGURES_FILE = os.environ.get("AR_SOAK_FIGURES")
START = datetime.combine(date(2026, 3, 2), clock_time(9), tzinfo=BUSINESS_TZ)
CLIENTS = 8
KILL_EVERY_S = (2.0, 4.0)
PG_RESTART_AT = 0.45  # of the chaos
DRAIN_S = 60.0
SETTLE_S = 90.0
CLOCK_TICK_S = 0.2
STABLE_S = 3.0  # settled: nothing moved for this long (ten sweeps)
STOP_S = 90.0  # a worker stopping waits for its sweep and the sends in flight
LOGS = os.environ.get("AR_SOAK_LOGS")  # where the processes' logs go (default: the test's temporary folder)

pytestmark = pytest.mark.xdist_group("soak")


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    pg = PrivateCluster()
    try:
        pg.create()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    with smtp_sink(box) as port:
        yield box, port


class Chaos:
    """SIGKILLs a random process every few seconds and starts it again; crash-restarts PostgreSQL once; starts
    again any process that exited by itself (counted: a process should survive a database restart)."""

    def __init__(self, procs: list[Proc], cluster: PrivateCluster, rng: random.Random, duration_s: float) -> None:
        self.procs, self.cluster, self.rng = procs, cluster, rng
        self.pg_restart_at = time.monotonic() + duration_s * PG_RESTART_AT
        self.kills: Counter[str] = Counter()
        self.exits: Counter[str] = Counter()
        self.pg_down_s = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="chaos", daemon=True)

    def _loop(self) -> None:
        next_kill = time.monotonic() + self.rng.uniform(*KILL_EVERY_S)
        while not self.stop.wait(0.05):
            now = time.monotonic()
            if self.cluster.restarts == 0 and now >= self.pg_restart_at:
                self.pg_down_s = self.cluster.restart("immediate")
            for proc in self.procs:
                if not proc.alive():
                    self.exits[proc.role] += 1
                    proc.start()
            if now >= next_kill:
                victim = self.rng.choice(self.procs)
                victim.kill()
                self.kills[victim.role] += 1
                victim.start()
                next_kill = now + self.rng.uniform(*KILL_EVERY_S)


def _age_orphaned_claims(cluster: PrivateCluster, older_than_s: float) -> int:
    """Claims whose request died with its server: make them `STALE_CLAIM` older, as if the client had waited."""
    rows = cluster.execute(
        "UPDATE idempotency_keys SET created_at = created_at - %s "
        "WHERE status_code IS NULL AND created_at < now() - %s RETURNING key",
        (STALE_CLAIM, timedelta(seconds=older_than_s)))
    return len(rows)


def _settle(runtime: Runtime, clock: SharedFileClock, procs: list[Proc]) -> tuple[bool, str]:
    """Wait (bounded) until the projections reach the head and no reminder waits for delivery. A retry scheduled
    later, or a claim left by a killed worker, needs the clock to move: it is moved past it."""
    deadline, quiet_since, last = time.monotonic() + SETTLE_S, time.monotonic(), ""
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                proc.start()
        head = runtime.projections.head()
        with runtime.engine.connect() as conn:
            positions = conn.scalars(sa.select(projection_positions.c.position)).all()
            waiting = conn.execute(sa.select(reminder_deliveries.c.state, reminder_deliveries.c.next_attempt_at,
                                             reminder_deliveries.c.claimed_until)
                                   .where(reminder_deliveries.c.state.in_(["pending", "sending"]))).all()
        state = f"head {head}, positions {sorted(positions)}, {len(waiting)} deliveries waiting"
        if len(positions) == len(runtime.projections.projections) and min(positions) >= head and not waiting:
            if state != last:
                last, quiet_since = state, time.monotonic()
            elif time.monotonic() - quiet_since >= STABLE_S:  # no sweep decided anything new meanwhile
                return True, state
        elif state != last:
            last, quiet_since = state, time.monotonic()
        elif waiting and time.monotonic() - quiet_since > 1.5:
            later = [w.next_attempt_at for w in waiting if w.state == "pending"]
            later += [w.claimed_until for w in waiting if w.state == "sending" and w.claimed_until is not None]
            if later:
                clock.set(max(max(later), clock.now()) + timedelta(minutes=1))
            quiet_since = time.monotonic()
        time.sleep(0.2)
    return False, last


def test_processes_killed_under_load_lose_and_double_nothing(
        cluster: PrivateCluster, inbox: tuple[Inbox, int], tmp_path: Path) -> None:
    started = time.monotonic()
    box, smtp_port = inbox
    clock_file = tmp_path / "clock"
    clock = SharedFileClock(clock_file, START)
    settings = Settings(database_url=cluster.url, pool_size=4, run_dunning=False, run_projections=False,
                        simulated_clock=True, clock_file=clock_file, outbox_dir=tmp_path / "outbox")
    build(settings, clock).close()  # every table, once, before the processes start together
    env = {**os.environ, "AR_DATABASE_URL": cluster.url, "AR_SIMULATED_CLOCK": "true",
           "AR_CLOCK_FILE": str(clock_file), "AR_CREATE_TABLES": "false", "AR_POOL_SIZE": "6",
           "AR_THREADPOOL_SIZE": "12", "AR_RUN_PROJECTIONS": "false", "AR_RUN_DUNNING": "false",
           "AR_SMTP_HOST": "127.0.0.1", "AR_SMTP_PORT": str(smtp_port), "AR_SWEEP_INTERVAL_S": "0.3",
           "AR_DELIVERY_INTERVAL_S": "0.2", "AR_PROJECTION_INTERVAL_S": "0.1",
           # a killed worker's send is taken for interrupted 10 s (wall clock) after its claim
           "AR_DELIVERY_CLAIM_TTL_S": "10",
           "AR_OUTBOX_DIR": str(tmp_path / "outbox"), "PYTHONUNBUFFERED": "1"}
    worker_env = {**env, "AR_RUN_PROJECTIONS": "true", "AR_RUN_DUNNING": "true"}
    logs = Path(LOGS) if LOGS else tmp_path
    logs.mkdir(parents=True, exist_ok=True)
    servers = [Proc("serve", n, env, logs, free_port()) for n in range(2)]
    workers = [Proc("worker", n, worker_env, logs) for n in range(2)]
    procs = [*servers, *workers]
    rng = random.Random(SEED)
    book = Book(run=f"{SEED}", seed=SEED)
    figures = [ClientFigures() for _ in range(CLIENTS)]
    stop_clients, drain_until = threading.Event(), [time.monotonic() + 10 * DRAIN_S]
    chaos = Chaos(procs, cluster, rng, SOAK_SECONDS)
    stop_clock = threading.Event()
    runtime: Runtime | None = None
    try:
        for proc in procs:
            proc.start()
        for server in servers:
            assert server.wait_healthy(), server.log_tail()

        def move_clock() -> None:
            step = timedelta(days=SIM_DAYS / SOAK_SECONDS * CLOCK_TICK_S)
            while not stop_clock.wait(CLOCK_TICK_S):
                clock.advance(step)

        clock_thread = threading.Thread(target=move_clock, name="clock", daemon=True)
        clients = [threading.Thread(target=run_client, name=f"client-{i}", daemon=True,
                                    args=(book, [s.base_url for s in servers], stop_clients, drain_until,
                                          figures[i], SEED + i)) for i in range(CLIENTS)]
        clock_thread.start()
        for thread in clients:
            thread.start()
        chaos.thread.start()
        time.sleep(SOAK_SECONDS)
        chaos.stop.set()
        chaos.thread.join(timeout=60)
        chaos_s = time.monotonic() - started

        # Chaos over: every process up, the clients retry what they have left (orphaned claims aged), no new work.
        for proc in procs:
            if not proc.alive():
                proc.start()
        for server in servers:
            assert server.wait_healthy(), server.log_tail()
        stop_clients.set()
        drain_until[0] = time.monotonic() + DRAIN_S
        aged = 0
        while any(t.is_alive() for t in clients) and time.monotonic() < drain_until[0] + 5:
            time.sleep(1.0)
            aged += _age_orphaned_claims(cluster, older_than_s=3.0)
        for thread in clients:
            thread.join(timeout=15)
        stop_clock.set()
        clock_thread.join(timeout=5)
        drain_s = time.monotonic() - started - chaos_s

        runtime = build(settings, clock)
        settled, settle_state = _settle(runtime, clock, procs)
        exit_codes = {p.name: p.terminate(STOP_S) for p in procs}
        store = checks.read_store(runtime)
        commands = list(book.commands)
        unresolved = [c for c in commands if c.status is None]
        found = checks.check_commands(commands, store)
        gaps = checks.numbering_gaps(store)
        mail = checks.check_mail(box.snapshot(), store)
        differences = checks.rebuild_differences(runtime)

        report = _figures(commands, figures, chaos, cluster, store, box, found, gaps, mail, differences,
                          unresolved, aged, started, chaos_s, drain_s)
        print("\nsoak: " + json.dumps(report, indent=1))
        if FIGURES_FILE:
            Path(FIGURES_FILE).write_text(json.dumps(report, indent=1) + "\n")

        broken = _broken(report, settled, settle_state, found, gaps, differences, mail, unresolved, exit_codes)
        tails = "\n".join(f"--- {p.name} ({p.log_path})\n{p.log_tail(15)}" for p in procs)
        assert broken == [], "\n".join(broken) + f"\n{tails}"
    finally:
        chaos.stop.set()
        stop_clients.set()
        drain_until[0] = 0.0
        stop_clock.set()
        for proc in procs:
            proc.kill()
        if runtime is not None:
            with contextlib.suppress(Exception):
                runtime.close()


def _broken(report: dict[str, Any], settled: bool, settle_state: str, found: dict[str, list[str]],
            gaps: dict[str, str], differences: list[str], mail: dict[str, list[str]], unresolved: list[Any],
            exit_codes: dict[str, int | None]) -> list[str]:
    """Every invariant that does not hold, with its first offenders (all of them, not only the first)."""
    broken = [] if settled else [f"the workers did not settle within {SETTLE_S} s: {settle_state}"]
    for name in ("lost", "duplicated", "renumbered", "refused_after_commit"):
        if found[name]:
            broken.append(f"{len(found[name])} commands {name}: {found[name][:10]}")
    if gaps:
        broken.append(f"numbering gaps: {gaps}")
    broken += [f"read model differs from a rebuild: {d}" for d in differences]
    for name in ("unknown", "twice_per_reminder", "twice_per_step", "no_outcome"):
        if mail[name]:
            broken.append(f"emails {name}: {len(mail[name])}: {mail[name][:10]}")
    if unresolved:
        broken.append(f"{len(unresolved)} commands without a final answer: "
                      f"{[f'{c.key} {c.attempts} attempts {dict(c.errors)}' for c in unresolved][:10]}")
    if report["commands"]["acknowledged"] < 50:
        broken.append("fewer than 50 commands acknowledged: the soak proved little")
    if report["emails"]["received"] == 0:
        broken.append("no reminder was delivered: the soak proved nothing about dunning")
    kills = sum(report["chaos"]["kills"].values())
    if kills < SOAK_SECONDS / KILL_EVERY_S[1] - 1 or report["chaos"]["pg_restarts"] != 1:
        broken.append(f"too little chaos: {report['chaos']}")
    if any(code != 0 and not (name.startswith("serve") and code == -signal.SIGTERM)  # uvicorn re-raises it
           for name, code in exit_codes.items()):
        broken.append(f"a process did not stop cleanly on SIGTERM: {exit_codes}")
    return broken


def _figures(commands: list[Any], figures: list[ClientFigures], chaos: Chaos, cluster: PrivateCluster,
             store: checks.Store, box: Inbox, found: dict[str, list[str]], gaps: dict[str, str],
             mail: dict[str, list[str]], differences: list[str], unresolved: list[Any], aged: int,
             started: float, chaos_s: float, drain_s: float) -> dict[str, Any]:
    by_kind: dict[str, Counter[str]] = {}
    for c in commands:
        by_kind.setdefault(c.kind, Counter())["acknowledged" if c.acknowledged else
                                              "refused" if c.status is not None else "unresolved"] += 1
    errors: Counter[str] = Counter()
    for c in commands:
        errors.update(c.errors)
    mails = box.snapshot()
    non_phone = [r for r, v in store.reminders.items() if v["channel"] != "phone"]
    return {
        "seconds": {"chaos": round(chaos_s, 1), "drain": round(drain_s, 1),
                    "total": round(time.monotonic() - started, 1)},
        "simulated_days": SIM_DAYS,
        "commands": {"sent": len(commands), "acknowledged": sum(c.acknowledged for c in commands),
                     "refused_4xx": sum(c.status is not None and not c.acknowledged for c in commands),
                     "unresolved": len(unresolved), "in_doubt": sum(c.in_doubt for c in commands),
                     "attempts": sum(f.attempts for f in figures), "retries": sum(f.retries for f in figures),
                     "parked_in_flight": sum(f.parked for f in figures), "orphaned_claims_aged": aged,
                     "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
                     "errors_seen": dict(errors.most_common())},
        "chaos": {"kills": dict(chaos.kills), "unexpected_exits": dict(chaos.exits),
                  "pg_restarts": cluster.restarts, "pg_down_s": round(chaos.pg_down_s, 2)},
        "events": store.head,
        "emails": {"received": len(mails), "reminders_to_deliver": len(non_phone),
                   "delivered_events": sum(1 for r in non_phone if store.delivered[r]),
                   "failed_final": sum(1 for r in non_phone if store.failed_final[r]),
                   "delivered_and_failed": sum(1 for r in non_phone if store.delivered[r] and store.failed_final[r]),
                   "delivered_without_mail": len(mail["delivered_without_mail"]),
                   "duplicates": len(mail["twice_per_reminder"]) + len(mail["twice_per_step"])},
        "lost": len(found["lost"]), "duplicated": len(found["duplicated"]),
        "refused_after_commit": len(found["refused_after_commit"]), "renumbered": len(found["renumbered"]),
        "numbering_gaps": gaps, "read_model_differences": len(differences),
        "no_delivery_outcome": len(mail["no_outcome"]),
    }
