"""The API keys' lifecycle over the admin routes: a token shown once and never again, rotation (at once, or with a
grace period), revocation, expiry on the injected clock, last use, and the last admin key kept."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from tests.support.api import ADMIN_KEY_ID, CheckProblem, Json, bearer, created, ok

from ar.adapters.clocks import SettableClock
from ar.runtime import Runtime

TOKEN = re.compile(r"ark_([a-z0-9]{12})_[A-Za-z0-9]{40}")
READ = "/v1/invoices"


def create(client: TestClient, **fields: object) -> Json:
    r = client.post("/v1/keys", json={"name": "billing service", "scope": "read", **fields})
    body = created(r)
    assert r.headers["cache-control"] == "no-store"
    return body


def listed(client: TestClient, key_id: str) -> Json:
    [found] = [k for k in ok(client.get("/v1/keys")) if k["key_id"] == key_id]
    return found


def test_a_token_is_shown_once_and_the_list_never_shows_a_secret(client: TestClient, runtime: Runtime) -> None:
    key = create(client, scope="write")
    match = TOKEN.fullmatch(key["token"])
    assert match and match.group(1) == key["key_id"]
    assert (key["scope"], key["state"], key["created_by"]) == ("write", "active", f"key:{ADMIN_KEY_ID}")
    secret = key["token"].rsplit("_", 1)[1]
    listing = client.get("/v1/keys")
    assert secret not in listing.text and "token" not in listing.text and "sha256" not in listing.text
    assert listed(client, key["key_id"])["last_used_at"] is None
    assert client.get(READ, headers=bearer(key["token"])).status_code == 200
    assert listed(client, key["key_id"])["last_used_at"] == runtime.clock.now().isoformat().replace("+00:00", "Z")
    bootstrap = listed(client, ADMIN_KEY_ID)
    assert (bootstrap["name"], bootstrap["scope"], bootstrap["created_by"]) == ("bootstrap", "admin", "settings")


def test_rotation_refuses_the_old_secret_at_once_and_accepts_the_new(
        client: TestClient, problem: CheckProblem) -> None:
    key = create(client)
    rotated = ok(client.post(f"/v1/keys/{key['key_id']}/rotate"))
    assert rotated["key_id"] == key["key_id"] and rotated["token"] != key["token"]
    assert rotated["rotated_at"] is not None and rotated["previous_valid_until"] is None
    problem(client.get(READ, headers=bearer(key["token"])), 401, rule="unauthorized")
    assert client.get(READ, headers=bearer(rotated["token"])).status_code == 200
    problem(client.post("/v1/keys/nosuchkey000/rotate"), 404, field="key_id")


def test_rotation_with_a_grace_period_accepts_both_until_it_ends(
        client: TestClient, clock: SettableClock, problem: CheckProblem) -> None:
    key = create(client)
    rotated = ok(client.post(f"/v1/keys/{key['key_id']}/rotate", params={"grace_s": 60}))
    assert rotated["previous_valid_until"] == (clock.now() + timedelta(seconds=60)).isoformat().replace(
        "+00:00", "Z")
    assert client.get(READ, headers=bearer(key["token"])).status_code == 200
    assert client.get(READ, headers=bearer(rotated["token"])).status_code == 200
    clock.advance(timedelta(seconds=61))
    problem(client.get(READ, headers=bearer(key["token"])), 401, rule="unauthorized")
    assert client.get(READ, headers=bearer(rotated["token"])).status_code == 200


def test_a_revoked_key_is_refused_and_stays_listed(client: TestClient, problem: CheckProblem) -> None:
    key = create(client)
    revoked = ok(client.delete(f"/v1/keys/{key['key_id']}"))
    assert revoked["state"] == "revoked" and revoked["revoked_at"] is not None
    body = problem(client.get(READ, headers=bearer(key["token"])), 401, rule="unauthorized")
    assert "revoked" in body["detail"]
    assert listed(client, key["key_id"])["state"] == "revoked"
    problem(client.post(f"/v1/keys/{key['key_id']}/rotate"), 422, field="key_id")
    problem(client.delete("/v1/keys/nosuchkey000"), 404, field="key_id")


def test_a_key_expires_on_the_injected_clock(client: TestClient, clock: SettableClock, problem: CheckProblem) -> None:
    key = create(client, expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    assert client.get(READ, headers=bearer(key["token"])).status_code == 200
    clock.advance(timedelta(hours=2))
    body = problem(client.get(READ, headers=bearer(key["token"])), 401, rule="unauthorized")
    assert "expired" in body["detail"]
    assert listed(client, key["key_id"])["state"] == "expired"
    problem(client.post("/v1/keys", json={"name": "late", "scope": "read",
                                          "expires_at": clock.now().isoformat()}), 422, field="expires_at")


def test_the_last_active_admin_key_cannot_revoke_itself(client: TestClient, problem: CheckProblem) -> None:
    problem(client.delete(f"/v1/keys/{ADMIN_KEY_ID}"), 422, field="key_id", rule="last-admin-key")
    assert client.get(READ).status_code == 200
    other = create(client, scope="admin", name="ops")
    assert ok(client.delete(f"/v1/keys/{ADMIN_KEY_ID}"))["state"] == "revoked"
    assert client.get(READ).status_code == 401
    assert client.get("/v1/keys", headers=bearer(other["token"])).status_code == 200


def test_a_retried_create_never_replays_the_token_and_never_makes_a_second_key(
        client: TestClient, problem: CheckProblem) -> None:
    headers = {"Idempotency-Key": "create-billing-key"}
    body = {"name": "billing", "scope": "read"}
    first = created(client.post("/v1/keys", json=body, headers=headers))
    again = client.post("/v1/keys", json=body, headers=headers)
    problem(again, 409, field="Idempotency-Key")
    assert first["token"] not in again.text and "idempotent-replayed" not in again.headers
    assert [k["name"] for k in ok(client.get("/v1/keys"))].count("billing") == 1


def test_bad_bodies_name_the_field(client: TestClient, problem: CheckProblem) -> None:
    problem(client.post("/v1/keys", json={"name": "x", "scope": "root"}), 422, field="scope")
    problem(client.post("/v1/keys", json={"name": "", "scope": "read"}), 422, field="name")
    problem(client.post("/v1/keys/nosuchkey000/rotate", params={"grace_s": -1}), 422, field="grace_s")


def test_last_use_is_written_at_most_once_a_minute(client: TestClient, clock: SettableClock) -> None:
    key = create(client)
    first = clock.now()
    assert client.get(READ, headers=bearer(key["token"])).status_code == 200
    clock.advance(timedelta(seconds=30))
    assert client.get(READ, headers=bearer(key["token"])).status_code == 200
    assert listed(client, key["key_id"])["last_used_at"] == first.isoformat().replace("+00:00", "Z")
    clock.advance(timedelta(seconds=31))
    assert client.get(READ, headers=bearer(key["token"])).status_code == 200
    assert listed(client, key["key_id"])["last_used_at"] == clock.now().isoformat().replace("+00:00", "Z")
