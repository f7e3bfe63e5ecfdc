"""`ar worker` killed mid-delivery: the receiver holds the first request open, the worker is SIGKILLed during the
call, another worker starts. Every event is delivered at least once, each aggregate's events in order, and the
delivery log has each attempt once (the interrupted call, whose answer nobody read, is not in it). SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from tests.integration.conftest import Desk
from tests.support.servers import ArProcess, killed_at_the_end
from tests.support.webhook_receiver import Receiver, receiving

from ar.adapters.subscription_store import SubscriptionStore
from ar.config import Settings
from ar.delivery.subscriptions_log import LoggedDelivery, delivery_log
from ar.runtime import Runtime, build

CLAIM_TTL_S = 3


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """This process writes the events and reads the log; its clock is the system's, like the workers'."""
    rt = build(settings)
    try:
        yield rt
    finally:
        rt.close()


def worker(settings: Settings, log_path: Path) -> ArProcess:
    env = {**os.environ, "AR_DATABASE_URL": settings.database_url, "PYTHONUNBUFFERED": "1",
           "AR_SUBSCRIPTION_ALLOW_PRIVATE": "true", "AR_DELIVERY_CLAIM_TTL_S": str(CLAIM_TTL_S),
           "AR_DELIVERY_INTERVAL_S": "0.2", "AR_PROJECTION_INTERVAL_S": "0.2",
           "AR_OUTBOX_DIR": str(settings.outbox_dir)}
    for name in ("AR_SIMULATED_CLOCK", "AR_CLOCK_FILE", "AR_CLOCK_START"):
        env.pop(name, None)
    return ArProcess(["worker"], log_path, env, banner=True)


def wait_for(condition: Callable[[], object], timeout_s: float, what: str, process: ArProcess, *,
             alive: bool = True) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert not alive or process.alive(), f"the worker exited; its log:\n{process.log_tail()}"
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s; worker log:\n{process.log_tail()}"
        time.sleep(0.1)


def test_a_worker_killed_mid_delivery_loses_no_event_and_logs_each_attempt_once(
        runtime: Runtime, settings: Settings, tmp_path: Path) -> None:
    desk = Desk(runtime.app)
    store = SubscriptionStore(runtime.engine)
    sub = store.create(subscription_id=uuid4(), url="http://placeholder.invalid/", types=["*"], description="e2e",
                       head=runtime.projections.head(), now=runtime.clock.now())
    with receiving(Receiver(secrets=[sub.secret], hold_first=True)) as receiver, killed_at_the_end() as started:
        store.update(sub.id, {"url": receiver.url}, runtime.clock.now())
        first, second = desk.customer(name="Alpha SARL"), desk.customer(name="Beta SAS")
        invoices = [desk.invoice(c.id, 6_000 * (n + 1)) for n in range(3) for c in (first, second)]
        for invoice in invoices:
            desk.payment(invoice.customer_id, 1_000, allocations=[(invoice.id, 1_000)])
        head = runtime.projections.head()

        killed = worker(settings, tmp_path / "worker.log")
        started.append(killed)
        killed.start()
        wait_for(receiver.arrived.is_set, 60, "no delivery arrived", killed)
        killed.kill()
        receiver.release.set()  # the dead worker never reads this answer
        wait_for(lambda: any(r.webhook_id == receiver.held_id for r in receiver.received), 10,
                 "the held request was not answered", killed, alive=False)
        before_kill = {r.webhook_id for r in receiver.received}  # what the dead worker sent (logged or not)

        survivor = worker(settings, tmp_path / "worker.log")
        started.append(survivor)
        survivor.start()

        def all_delivered() -> bool:
            log = delivery_log(runtime.engine, sub.id, state=None, limit=10_000)
            return bool(log) and all(d.state == "delivered" for d in log) and len(log) == head - sub.from_position

        wait_for(all_delivered, 90, "not every event was delivered", survivor)
        assert survivor.terminate() == 0, survivor.log_tail()

    log: list[LoggedDelivery] = delivery_log(runtime.engine, sub.id, state=None, limit=10_000)
    assert {d.event_id for d in log} == set(range(sub.from_position + 1, head + 1))
    assert all(r.verified_by == {0} for r in receiver.received)
    assert {r.position for r in receiver.accepted()} == {d.event_id for d in log}, "every event at least once"
    assert receiver.held_id in before_kill
    sent = Counter(r.webhook_id for r in receiver.received)
    assert sent[receiver.held_id] == 2, "the interrupted call is made again"
    assert {w for w, n in sent.items() if n > 1} <= before_kill, "only calls of the killed worker are made twice"
    assert max(sent.values()) == 2

    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for r in receiver.received:
        by_aggregate[r.aggregate_id].append(r.position)
    for aggregate, positions in by_aggregate.items():
        assert positions == sorted(positions), f"{aggregate} received out of order: {positions}"

    for d in log:  # each attempt written once; the calls the dead worker made but never recorded, not at all
        assert [(a.number, a.status_code) for a in d.attempts] == [(1, 200)]
    assert len(receiver.received) - len(log) == sum(n - 1 for n in sent.values())
