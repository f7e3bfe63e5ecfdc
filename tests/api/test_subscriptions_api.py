"""/v1/subscriptions over HTTP: the secret shown once, outbound URLs validated (422 naming `url`), the delivery
log, giving up after 3 days (the delivery failed, the subscription disabled, an ops task listed), enabling again
and redelivering by hand. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, Json, created, ok
from tests.support.webhook_receiver import Receiver, receiving

from ar.adapters.clocks import SettableClock
from ar.adapters.idempotency_store import idempotency_keys
from ar.runtime import Runtime

URL = "https://example.com/hooks/ar"


@pytest.fixture
def allow_private(runtime: Runtime) -> None:
    """The receiver of these tests listens on 127.0.0.1 (AR_SUBSCRIPTION_ALLOW_PRIVATE=true)."""
    runtime.settings.subscription_allow_private = True
    runtime.subscriptions.allow_private = True


def subscribe(client: TestClient, **fields: Any) -> Json:
    return created(client.post("/v1/subscriptions", json={"url": URL, "types": ["*"], **fields}))


def test_the_secret_is_shown_once_and_the_subscription_can_be_changed_and_deleted(client: TestClient) -> None:
    sub = subscribe(client, types=["invoice.issued", "payment.received"], description="ERP")
    assert sub["secret"].startswith("whsec_") and len(sub["secret"]) >= 38
    assert (sub["url"], sub["types"], sub["description"], sub["enabled"]) == (
        URL, ["invoice.issued", "payment.received"], "ERP", True)
    assert "secret" not in ok(client.get(f"/v1/subscriptions/{sub['id']}"))
    assert [s["id"] for s in ok(client.get("/v1/subscriptions"))] == [sub["id"]]
    assert sub["secret"] not in client.get("/v1/subscriptions").text

    changed = ok(client.patch(f"/v1/subscriptions/{sub['id']}", json={"types": ["*"], "enabled": False}))
    assert (changed["types"], changed["enabled"], changed["description"]) == (["*"], False, "ERP")
    rotated = ok(client.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", json={"grace_hours": 2}))
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != sub["secret"]
    assert rotated["previous_secret_until"] is not None

    assert client.delete(f"/v1/subscriptions/{sub['id']}").status_code == 204
    assert client.get(f"/v1/subscriptions/{sub['id']}").status_code == 404
    assert client.delete(f"/v1/subscriptions/{sub['id']}").status_code == 404


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "http://user:pw@example.com/hook", "http://127.0.0.1/hook",
                                 "http://10.0.0.1/hook", "http://[::1]/hook", "http://localhost:9000/hook",
                                 "not a url"])
def test_outbound_urls_that_may_not_be_called_are_refused_naming_url(client: TestClient, problem: CheckProblem,
                                                                     url: str) -> None:
    problem(client.post("/v1/subscriptions", json={"url": url, "types": ["*"]}), 422, field="url",
            rule="outbound-url-refused")
    sub = subscribe(client)
    problem(client.patch(f"/v1/subscriptions/{sub['id']}", json={"url": url}), 422, field="url")


@pytest.mark.usefixtures("allow_private")
def test_private_addresses_are_accepted_when_allowed_by_configuration(client: TestClient) -> None:
    assert subscribe(client, url="http://127.0.0.1:9000/hook")["url"] == "http://127.0.0.1:9000/hook"


def test_unknown_event_types_are_refused_naming_types(client: TestClient, problem: CheckProblem) -> None:
    body = problem(client.post("/v1/subscriptions", json={"url": URL, "types": ["invoice.issued", "invoice.eaten"]}),
                   422, field="types")
    assert "invoice.eaten" in body["detail"]
    problem(client.post("/v1/subscriptions", json={"url": URL, "types": []}), 422, field="types")
    problem(client.post("/v1/subscriptions", json={"url": URL, "types": ["*", "invoice.issued"]}), 422,
            field="types")


@pytest.mark.usefixtures("allow_private")
def test_after_3_days_of_failures_the_delivery_fails_the_subscription_is_disabled_and_a_task_says_so(
        client: TestClient, runtime: Runtime, clock: SettableClock,
        register_customer: Any) -> None:
    with receiving(Receiver(secrets=[], always_fail=True)) as receiver:
        sub = subscribe(client, url=receiver.url, types=["customer.registered"], description="Flaky ERP")
        receiver.secrets.append(sub["secret"])
        register_customer(name="Failing SARL")
        runtime.projections.catch_up()
        for _ in range(60):
            runtime.subscriptions.run_once()
            if ok(client.get(f"/v1/subscriptions/{sub['id']}/deliveries?state=failed")):
                break
            clock.advance(timedelta(hours=3))
        (delivery,) = ok(client.get(f"/v1/subscriptions/{sub['id']}/deliveries"))
        assert delivery["state"] == "failed" and delivery["event_type"] == "customer.registered"
        attempts = delivery["attempts"]
        assert len(attempts) == len(receiver.received) >= 8  # 5 s, 30 s, ... 1 h, then every 3 h for 3 days
        assert {a["status_code"] for a in attempts} == {500}
        assert attempts[-1]["response_excerpt"] == "failing on purpose (500)"
        first, last = (datetime.fromisoformat(attempts[n]["at"]) for n in (0, -1))
        assert timedelta(days=3) <= last - first < timedelta(days=3, hours=3)

        disabled = ok(client.get(f"/v1/subscriptions/{sub['id']}"))
        assert disabled["enabled"] is False and disabled["disabled_at"] is not None
        (task,) = [t for t in ok(client.get("/v1/tasks?state=open")) if t["kind"] == "subscription"]
        assert (task["id"], task["state"]) == (sub["id"], "open")
        assert "Flaky ERP" in task["summary"] and receiver.url in task["summary"]

        # fixed: enabled again (the task is done), and the failed delivery sent again by hand
        receiver.always_fail = False
        ok(client.patch(f"/v1/subscriptions/{sub['id']}", json={"enabled": True}))
        assert [t["state"] for t in ok(client.get("/v1/tasks")) if t["kind"] == "subscription"] == ["done"]
        assert not [t for t in ok(client.get("/v1/tasks?state=open")) if t["kind"] == "subscription"]
        assert client.post(f"/v1/subscriptions/{sub['id']}/deliveries/{delivery['id']}/redeliver").status_code == 202
        runtime.subscriptions.run_once()
    (again,) = ok(client.get(f"/v1/subscriptions/{sub['id']}/deliveries"))
    assert again["state"] == "delivered"
    assert [a["number"] for a in again["attempts"]] == list(range(1, len(attempts) + 2))
    assert again["attempts"][-1]["status_code"] == 200
    assert receiver.received[-1].webhook_id == receiver.received[0].webhook_id


def test_the_delivery_log_of_an_unknown_subscription_or_delivery_is_404(client: TestClient,
                                                                       problem: CheckProblem) -> None:
    problem(client.get("/v1/subscriptions/00000000-0000-4000-8000-000000000000/deliveries"), 404)
    sub = subscribe(client)
    problem(client.post(f"/v1/subscriptions/{sub['id']}/deliveries/00000000-0000-4000-8000-000000000000/redeliver"),
            404, field="delivery_id")
    problem(client.get(f"/v1/subscriptions/{sub['id']}/deliveries?state=lost"), 422, field="state")


def test_a_retry_with_the_same_idempotency_key_never_creates_a_second_subscription(
        client: TestClient, runtime: Runtime, problem: CheckProblem) -> None:
    body, key = {"url": URL, "types": ["*"]}, {"Idempotency-Key": "sub-once"}
    first = created(client.post("/v1/subscriptions", json=body, headers=key))
    assert client.post("/v1/subscriptions", json=body, headers=key).json()["id"] == first["id"]
    with runtime.engine.begin() as conn:  # the key's stored answer expired
        conn.execute(idempotency_keys.delete())
    problem(client.post("/v1/subscriptions", json=body, headers=key), 409, field="Idempotency-Key")
    assert [s["id"] for s in ok(client.get("/v1/subscriptions"))] == [first["id"]]
