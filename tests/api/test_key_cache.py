"""The verified keys a server process keeps in memory (`ar.api.authentication.VerifiedKeys`): a key it read a moment
ago is not read again, yet a revocation through the API is refused on the very next request, one made elsewhere
within the time a key is kept, and an expiry or a grace period's end on the clock whatever was kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.support.api import CheckProblem, NewKey, bearer, created, ok

from ar.adapters.api_keys import KEPT_FOR_S, ApiKey, ApiKeyStore, Opened, new_token
from ar.adapters.clocks import SettableClock
from ar.api.authentication import VerifiedKeys, token_digest
from ar.runtime import Runtime

READ = "/v1/invoices"


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Ticks:
    ticks = Ticks()
    monkeypatch.setattr(client.app.state.verified_keys, "monotonic", ticks)  # type: ignore[attr-defined]
    return ticks


@pytest.fixture
def key_reads(runtime: Runtime) -> Iterator[list[str]]:
    """The statements that read the api_keys table, as they are sent."""
    seen: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "api_keys" in statement:
            seen.append(statement)

    sa.event.listen(runtime.engine, "before_cursor_execute", watch)
    yield seen
    sa.event.remove(runtime.engine, "before_cursor_execute", watch)


def test_a_key_verified_a_moment_ago_is_not_read_again_until_it_is_kept_no_longer(
        client: TestClient, new_key: NewKey, ticks: Ticks, key_reads: list[str]) -> None:
    key = new_key("read")
    key_reads.clear()  # the creation's own
    for _ in range(3):
        assert client.get(READ, headers=key).status_code == 200
    assert len(key_reads) == 1
    ticks.now += KEPT_FOR_S
    assert client.get(READ, headers=key).status_code == 200
    assert len(key_reads) == 2


def test_a_key_revoked_or_rotated_through_the_api_is_refused_on_the_very_next_request(
        client: TestClient, ticks: Ticks, problem: CheckProblem) -> None:
    revoked, rotated = (created(client.post("/v1/keys", json={"name": n, "scope": "read"})) for n in ("a", "b"))
    for key in (revoked, rotated):
        assert client.get(READ, headers=bearer(key["token"])).status_code == 200  # kept from now on
    ok(client.delete(f"/v1/keys/{revoked['key_id']}"))
    new = ok(client.post(f"/v1/keys/{rotated['key_id']}/rotate"))
    assert "revoked" in problem(client.get(READ, headers=bearer(revoked["token"])), 401)["detail"]
    problem(client.get(READ, headers=bearer(rotated["token"])), 401, rule="unauthorized")
    assert client.get(READ, headers=bearer(new["token"])).status_code == 200


def test_a_key_revoked_by_another_process_is_refused_once_kept_no_longer(
        client: TestClient, runtime: Runtime, new_key: NewKey, ticks: Ticks, problem: CheckProblem) -> None:
    key = new_key("read", name="elsewhere")
    assert client.get(READ, headers=key).status_code == 200
    store = ApiKeyStore(runtime.engine)  # as `ar keys revoke` does, beside the server
    [found] = [k for k in store.all(runtime.clock.now()) if k.name == "elsewhere"]
    store.revoke(found.key_id, runtime.clock.now())
    ticks.now += KEPT_FOR_S - 0.1
    assert client.get(READ, headers=key).status_code == 200  # still kept: the bound the CLI prints
    ticks.now += 0.1
    assert "revoked" in problem(client.get(READ, headers=key), 401)["detail"]


def test_a_kept_key_expires_on_time_and_a_kept_previous_secret_with_its_grace(
        client: TestClient, clock: SettableClock, ticks: Ticks, problem: CheckProblem) -> None:
    expiring = created(client.post("/v1/keys", json={"name": "x", "scope": "read", "expires_at": (
        clock.now() + timedelta(seconds=30)).isoformat()}))
    graced = created(client.post("/v1/keys", json={"name": "g", "scope": "read"}))
    ok(client.post(f"/v1/keys/{graced['key_id']}/rotate", params={"grace_s": 20}))
    for key in (expiring, graced):
        assert client.get(READ, headers=bearer(key["token"])).status_code == 200
    clock.advance(timedelta(seconds=20))  # the monotonic ticks stand still: both are still kept
    problem(client.get(READ, headers=bearer(graced["token"])), 401, rule="unauthorized")
    assert client.get(READ, headers=bearer(expiring["token"])).status_code == 200
    clock.advance(timedelta(seconds=10))
    assert "expired" in problem(client.get(READ, headers=bearer(expiring["token"])), 401)["detail"]


def test_a_refusal_is_not_kept_so_a_key_created_just_after_works_at_once(
        client: TestClient, runtime: Runtime, ticks: Ticks, problem: CheckProblem) -> None:
    token, _, _ = new_token()
    problem(client.get(READ, headers=bearer(token)), 401, rule="unauthorized")
    ApiKeyStore(runtime.engine).create(name="late", scope="read", now=runtime.clock.now(), created_by="tests",
                                       token=token)
    assert client.get(READ, headers=bearer(token)).status_code == 200


def _opened(key_id: str, clock: SettableClock) -> Opened:
    return Opened(ApiKey(key_id=key_id, name=key_id, scope="read", created_at=clock.now(), created_by="tests",
                         last_used_at=None, expires_at=None, rotated_at=None, revoked_at=None))


def test_the_kept_keys_are_bounded_and_a_read_begun_before_a_revocation_is_not_kept() -> None:
    clock, ticks = SettableClock(datetime(2026, 3, 2, 9, tzinfo=UTC)), Ticks()
    keys = VerifiedKeys(ttl_s=2.0, size=2, monotonic=ticks)
    a, b, c = (token_digest(t) for t in ("token a", "token b", "token c"))
    for digest, key_id in ((a, "a"), (b, "b")):
        keys.keep(digest, _opened(key_id, clock), ticks(), keys.generation)
    assert keys.get(a) is not None  # a used last: b goes first
    keys.keep(c, _opened("c", clock), ticks(), keys.generation)
    assert (keys.get(a) is not None, keys.get(b), keys.get(c) is not None) == (True, None, True)
    began = keys.generation
    keys.forget("a")
    assert keys.get(a) is None
    keys.keep(a, _opened("a", clock), ticks(), began)  # read before the revocation: not kept
    assert keys.get(a) is None
