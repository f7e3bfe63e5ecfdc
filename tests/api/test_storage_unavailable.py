"""While the database refuses connections (PostgreSQL restarting), requests answer 503 with Retry-After, never 500;
a write retried with its Idempotency-Key once the database is back does its work once."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from tests.conftest import PG_ADMIN_URL
from tests.support.api import AUTH_HEADERS

from ar.adapters.clocks import SettableClock
from ar.api.app import create_app
from ar.config import Settings
from ar.runtime import build


@pytest.fixture
def pg_client(pg_database: str, clock: SettableClock, tmp_path: object) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(database_url=pg_database, pool_size=2, run_dunning=False, outbox_dir=f"{tmp_path}/outbox")
    runtime = build(settings, clock)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False,
                        headers=AUTH_HEADERS) as client:
            yield client, urlsplit(pg_database).path.lstrip("/")
    finally:
        runtime.close()


def _refuse_connections(dbname: str, refuse: bool) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        if refuse:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))


def test_requests_answer_503_with_retry_after_while_the_database_is_down(pg_client: tuple[TestClient, str]) -> None:
    client, dbname = pg_client
    body = {"name": "Boulangerie Martin SARL", "kind": "professional"}
    assert client.post("/v1/customers", json=body).status_code == 201
    _refuse_connections(dbname, True)
    try:
        for method, path, json in (("POST", "/v1/customers", body), ("GET", "/v1/invoices", None),
                                   ("GET", "/v1/aging", None)):
            headers = {"Idempotency-Key": "while-down"} if method == "POST" else {}
            r = client.request(method, path, json=json, headers=headers)
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.headers["retry-after"] == "1"
            assert r.json()["type"].endswith("/storage-unavailable")
    finally:
        _refuse_connections(dbname, False)
    first = client.post("/v1/customers", json=body, headers={"Idempotency-Key": "while-down"})
    again = client.post("/v1/customers", json=body, headers={"Idempotency-Key": "while-down"})
    assert first.status_code == 201, first.text
    assert again.json()["id"] == first.json()["id"]
