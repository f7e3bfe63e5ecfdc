"""Webhook subscriptions out, against a real local receiver that checks every signature with `standardwebhooks`:
retried with backoff, in order per aggregate, each attempt logged once; secrets rotated with a grace period; a
claim whose worker died is sent again; two senders never send the same attempt. SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.integration.conftest import Desk
from tests.support.webhook_receiver import Receiver, receiving

from ar.adapters.clocks import SettableClock
from ar.adapters.subscription_store import Subscription, SubscriptionStore
from ar.application.feed_types import event_types
from ar.config import Settings
from ar.delivery.subscriptions import SubscriptionSender
from ar.delivery.subscriptions_log import LoggedDelivery, delivery_log
from ar.projections.subscription_outbox import NO_TOPIC, SubscriptionOutbox
from ar.runtime import Runtime


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The receiver listens on 127.0.0.1: allowed here, refused by default (test_outbound_urls)."""
    return settings.model_copy(update={"subscription_allow_private": True})


def subscribe(runtime: Runtime, url: str, types: list[str] | None = None) -> Subscription:
    return SubscriptionStore(runtime.engine).create(
        subscription_id=uuid.uuid4(), url=url, types=types or ["*"], description="test",
        head=runtime.projections.head(), now=runtime.clock.now())


def deliver_all(runtime: Runtime, clock: SettableClock, *, step: timedelta, rounds: int = 40,
                sender: SubscriptionSender | None = None) -> None:
    """Queue what was recorded, then send and move the clock until nothing is left to send."""
    runtime.projections.catch_up()
    sender = sender or runtime.subscriptions
    for _ in range(rounds):
        sender.run_once()
        if not any(d.state in ("pending", "sending") for d in log_of(runtime)):
            return
        clock.advance(step)
    raise AssertionError(f"still undelivered after {rounds} rounds")


def log_of(runtime: Runtime) -> list[LoggedDelivery]:
    return [d for s in SubscriptionStore(runtime.engine).all()
            for d in delivery_log(runtime.engine, s.id, state=None, limit=1000)]


def two_invoices_interleaved(desk: Desk) -> None:
    first, second = desk.customer(name="Alpha SARL"), desk.customer(name="Beta SAS")
    a, b = desk.invoice(first.id, 12_000), desk.invoice(second.id, 24_000)
    desk.payment(first.id, 5_000, allocations=[(a.id, 5_000)])
    desk.payment(second.id, 4_000, allocations=[(b.id, 4_000)])
    desk.payment(first.id, 7_000, allocations=[(a.id, 7_000)])
    desk.payment(second.id, 20_000, allocations=[(b.id, 20_000)])


def test_failed_attempts_are_retried_signed_in_order_per_aggregate_and_each_logged_once(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    with receiving(Receiver(secrets=[], fail_first=5)) as receiver:
        sub = subscribe(runtime, receiver.url)
        receiver.secrets.append(sub.secret)
        two_invoices_interleaved(desk)
        deliver_all(runtime, clock, step=timedelta(minutes=15))

    head = runtime.projections.head()
    assert all(r.verified_by == {0} for r in receiver.received), "every delivery is signed with the secret"
    assert [r.status for r in receiver.received[:5]] == [500] * 5
    assert {r.position for r in receiver.accepted()} == set(range(sub.from_position + 1, head + 1))
    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for r in receiver.received:  # every request, failed or not, in arrival order
        by_aggregate[r.aggregate_id].append(r.position)
    assert len([a for a, p in by_aggregate.items() if len(set(p)) > 1]) >= 4  # customers, invoices, payments...
    for aggregate, positions in by_aggregate.items():
        assert positions == sorted(positions), f"{aggregate} received out of order: {positions}"

    log = log_of(runtime)
    assert {d.state for d in log} == {"delivered"}
    attempts = [a for d in log for a in d.attempts]
    assert len(attempts) == len(receiver.received), "each attempt is logged once, and only attempts are"
    for d in log:
        assert [a.number for a in d.attempts] == list(range(1, len(d.attempts) + 1))
        assert [a.status_code for a in d.attempts] == [500] * (len(d.attempts) - 1) + [200]
        assert d.attempts[-1].response_excerpt == "ok" and d.attempts[-1].error is None
        assert all(a.latency_ms >= 0 for a in d.attempts)
    assert sum(len(d.attempts) - 1 for d in log) == 5
    ids = {r.webhook_id for r in receiver.received}
    assert len(ids) == len(log), "webhook-id is stable across the attempts of one delivery"


def test_only_the_subscribed_types_after_the_subscription_are_delivered(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    before = desk.customer(name="Before SA")
    desk.invoice(before.id, 6_000)
    with receiving(Receiver(secrets=[])) as receiver:
        sub = subscribe(runtime, receiver.url, ["invoice.issued"])
        receiver.secrets.append(sub.secret)
        after = desk.customer(name="After SA")
        issued = desk.invoice(after.id, 6_000)
        desk.payment(after.id, 6_000, allocations=[(issued.id, 6_000)])
        deliver_all(runtime, clock, step=timedelta(minutes=1))
    assert [(r.envelope["type"], r.aggregate_id) for r in receiver.accepted()] == [("invoice.issued",
                                                                                    str(issued.id))]


def test_during_the_grace_period_old_and_new_secrets_both_verify(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    with receiving(Receiver(secrets=[])) as receiver:
        sub = subscribe(runtime, receiver.url, ["customer.registered"])
        rotated = SubscriptionStore(runtime.engine).rotate_secret(sub.id, clock.now(), timedelta(hours=24))
        assert rotated is not None and rotated.secret != sub.secret
        receiver.secrets += [sub.secret, rotated.secret]
        desk.customer(name="During SARL")
        deliver_all(runtime, clock, step=timedelta(minutes=1))
        clock.advance(timedelta(hours=25))
        desk.customer(name="After SARL")
        deliver_all(runtime, clock, step=timedelta(minutes=1))
    during, after = receiver.accepted()
    assert (during.verified_by, during.signatures) == ({0, 1}, 2)
    assert (after.verified_by, after.signatures) == ({1}, 1)


def test_a_claim_whose_worker_died_is_sent_again_and_only_the_real_attempt_is_logged(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    lease = SettableClock(clock.now())
    with receiving(Receiver(secrets=[])) as receiver:
        sub = subscribe(runtime, receiver.url, ["customer.registered"])
        receiver.secrets.append(sub.secret)
        sender = SubscriptionSender(runtime.engine, clock, _envelopes(runtime), allow_private=True,
                                    claim_ttl=timedelta(minutes=10), lease_clock=lease)
        desk.customer(name="Crash SARL")
        runtime.projections.catch_up()
        dead = SubscriptionSender(runtime.engine, clock, _envelopes(runtime), allow_private=True,
                                  claim_ttl=timedelta(minutes=10), lease_clock=lease)
        assert len(dead.queue.claim(clock.now(), lease.now(), 10)) == 1  # ...and the process dies mid-call
        assert sender.run_once() == 0, "a live claim is not taken over"
        lease.advance(timedelta(minutes=11))
        deliver_all(runtime, clock, step=timedelta(minutes=1), sender=sender)
    assert len(receiver.received) == 1
    (delivery,) = log_of(runtime)
    assert (delivery.state, [a.number for a in delivery.attempts]) == ("delivered", [1])


def test_two_senders_racing_send_each_delivery_once(
        runtime: Runtime, second_runtime: Runtime, desk: Desk, clock: SettableClock, race: Any) -> None:
    with receiving(Receiver(secrets=[])) as receiver:
        sub = subscribe(runtime, receiver.url, ["customer.registered"])
        receiver.secrets.append(sub.secret)
        for n in range(30):
            desk.customer(name=f"Customer {n}")
        runtime.projections.catch_up()
        outcomes = race(runtime.subscriptions.run_once, second_runtime.subscriptions.run_once)
    assert outcomes == [None, None]
    assert len(receiver.received) == 30
    assert len({r.webhook_id for r in receiver.received}) == 30
    log = log_of(runtime)
    assert {d.state for d in log} == {"delivered"}
    assert sum(len(d.attempts) for d in log) == 30


def _envelopes(runtime: Runtime) -> Any:
    from ar.application.feed import EventFeed

    feed = EventFeed(runtime.app)
    return lambda p: feed.envelope(runtime.app.recorder.select_notifications(p, 1, stop=p)[0])


def test_an_event_that_cannot_be_read_is_put_back_without_an_attempt(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    def unreadable(_position: int) -> dict[str, Any]:
        raise ConnectionError("storage down")

    with receiving(Receiver(secrets=[])) as receiver:
        sub = subscribe(runtime, receiver.url, ["customer.registered"])
        receiver.secrets.append(sub.secret)
        desk.customer(name="Later SARL")
        runtime.projections.catch_up()
        broken = SubscriptionSender(runtime.engine, clock, unreadable, allow_private=True,
                                    claim_ttl=timedelta(minutes=10))
        assert broken.run_once() == 1
        (waiting,) = log_of(runtime)
        assert (waiting.state, waiting.attempts, receiver.received) == ("pending", [], [])
        assert runtime.subscriptions.run_once() == 0, "not due again at once"
        deliver_all(runtime, clock, step=timedelta(seconds=5))
    (delivered,) = log_of(runtime)
    assert (delivered.state, [a.number for a in delivered.attempts]) == ("delivered", [1])


def test_the_outbox_reads_only_the_topics_enabled_subscriptions_want(runtime: Runtime, desk: Desk) -> None:
    outbox = next(p for p in runtime.projections.projections if isinstance(p, SubscriptionOutbox))
    assert outbox.topics == (NO_TOPIC,)
    desk.customer(name="Nobody listens SARL")
    runtime.projections.catch_up()
    assert runtime.projections.position(outbox.name) == runtime.projections.head()
    sub = subscribe(runtime, "https://example.com/hook", ["invoice.issued", "customer.registered"])
    assert outbox.topics == tuple(sorted(event_types()[t].topic for t in ("invoice.issued", "customer.registered")))
    everything = subscribe(runtime, "https://example.com/all", ["*"])
    assert outbox.topics == ()
    SubscriptionStore(runtime.engine).update(everything.id, {"enabled": False}, runtime.clock.now())
    SubscriptionStore(runtime.engine).update(sub.id, {"types": ["payment.received"]}, runtime.clock.now())
    assert outbox.topics == (event_types()["payment.received"].topic,)


class LongOrSlow(BaseHTTPRequestHandler):
    """Answers 200 with 1 MB of text about "Long SARL", and drips a byte a second about anyone else."""

    def do_POST(self) -> None:
        long = b"Long SARL" in self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200 if long else 503)
        self.end_headers()
        with contextlib.suppress(OSError):
            if long:
                self.wfile.write("é".encode() * 500_000)
                return
            for _ in range(30):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(1)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_long_answer_is_cut_to_its_excerpt_and_a_dripping_one_times_out(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), LongOrSlow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        subscribe(runtime, f"http://127.0.0.1:{server.server_address[1]}/", ["customer.registered"])
        sender = SubscriptionSender(runtime.engine, clock, _envelopes(runtime), allow_private=True,
                                    claim_ttl=timedelta(minutes=10), timeout_s=1.5)
        desk.customer(name="Long SARL")
        desk.customer(name="Slow SARL")
        runtime.projections.catch_up()
        started = time.monotonic()
        assert sender.run_once() == 2
        assert time.monotonic() - started < 5
    finally:
        server.shutdown()
        server.server_close()
    long, slow = sorted(log_of(runtime), key=lambda d: d.event_id)
    assert long.attempts[0].response_excerpt == "é" * 500 and long.state == "delivered"
    assert slow.state == "pending" and slow.attempts[0].error == "TimeoutError"


def test_a_name_that_now_resolves_to_a_private_address_is_not_called(
        runtime: Runtime, desk: Desk, clock: SettableClock) -> None:
    """DNS rebinding: public when the subscription was written, loopback at delivery time."""
    with receiving(Receiver(secrets=[])) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        subscribe(runtime, f"http://rebind.example:{port}/hooks", ["customer.registered"])
        sender = SubscriptionSender(runtime.engine, clock, _envelopes(runtime), allow_private=False,
                                    claim_ttl=timedelta(minutes=10), resolver=lambda host, port: ["127.0.0.1"])
        desk.customer(name="Rebound SARL")
        runtime.projections.catch_up()
        assert sender.run_once() == 1
    assert receiver.received == []
    (delivery,) = log_of(runtime)
    (attempt,) = delivery.attempts
    assert delivery.state == "pending" and attempt.status_code is None
    assert attempt.error is not None and attempt.error.startswith("refused: rebind.example may not be called")
    assert "loopback" in attempt.error
