"""`ar subscriptions listen`: the local receiver of the README tour prints what a subscription delivers, once its
signature checks out, and refuses a delivery whose body was changed."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from tests.integration.conftest import Desk

from ar.adapters.subscription_store import SubscriptionStore
from ar.cli_subscriptions import receiver
from ar.config import Settings
from ar.delivery.subscriptions_log import delivery_log
from ar.runtime import Runtime


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"subscription_allow_private": True})


@contextlib.contextmanager
def listening(secret: str) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver([secret]))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_listener_prints_each_verified_delivery_and_refuses_a_changed_body(
        runtime: Runtime, desk: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    store = SubscriptionStore(runtime.engine)
    sub = store.create(subscription_id=uuid.uuid4(), url="http://placeholder.invalid/", types=["customer.registered"],
                       description="tour", head=runtime.projections.head(), now=runtime.clock.now())
    with listening(sub.secret) as url:
        store.update(sub.id, {"url": url}, runtime.clock.now())
        customer = desk.customer(name="Listen SARL")
        runtime.projections.catch_up()
        assert runtime.subscriptions.run_once() == 1

        (delivery,) = delivery_log(runtime.engine, sub.id, state=None, limit=10)
        assert (delivery.state, delivery.attempts[0].status_code) == ("delivered", 204)
        out = capsys.readouterr().out
        assert (f"customer.registered #{delivery.event_id} customer {customer.id} "
                f"(evt_{delivery.event_id}_{sub.id.hex}): ") in out
        assert '"name": "Listen SARL"' in out

        body, now = '{"id": 1, "type": "customer.registered", "data": {}}', datetime.now(UTC)
        headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(sub.secret).sign("msg_1", now, body)}
        assert httpx.post(url, content=body.replace("1", "2", 1), headers=headers).status_code == 400
        assert httpx.post(url, content=body, headers=headers).status_code == 204
