"""What an Idempotency-Key costs a POST: one statement before the command and one after, each in autocommit (no
BEGIN/COMMIT round trips), and one threadpool hop for each; a replay, a statement or two and no command."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.support.api import RegisterCustomer

from ar.runtime import Runtime


@dataclass
class Cost:
    hops: int = 0
    statements: list[tuple[str, bool]] = field(default_factory=list)  # (verb, in autocommit) on idempotency_keys

    def clear(self) -> None:
        self.hops, self.statements = 0, []


@pytest.fixture
def cost(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cost]:
    seen = Cost()
    run_sync = anyio.to_thread.run_sync

    async def counted(*args: Any, **kwargs: Any) -> Any:
        seen.hops += 1
        return await run_sync(*args, **kwargs)

    def statement(conn: sa.Connection, _cursor: Any, sql: str, *_: Any) -> None:
        if "idempotency_keys" in sql:
            autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            seen.statements.append((sql.split(None, 1)[0].upper(), autocommit))

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    sa.event.listen(runtime.engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        sa.event.remove(runtime.engine, "before_cursor_execute", statement)


def test_a_key_costs_one_autocommit_statement_and_one_hop_before_the_command_and_after(
    client: TestClient, register_customer: RegisterCustomer, cost: Cost,
) -> None:
    register_customer()  # the API key's first use of the minute is written down: not this test's subject
    body = {"name": "Dupont SA", "kind": "professional"}
    cost.clear()
    assert client.post("/v1/customers", json=body).status_code == 201
    without_key = cost.hops
    assert cost.statements == []

    cost.clear()
    first = client.post("/v1/customers", json=body, headers={"Idempotency-Key": "cost-1"})
    assert first.status_code == 201, first.text
    assert cost.statements == [("INSERT", True), ("INSERT", True)]  # the claim; the response kept (an upsert)
    assert cost.hops - without_key == 2

    cost.clear()
    again = client.post("/v1/customers", json=body, headers={"Idempotency-Key": "cost-1"})
    assert (again.status_code, again.content) == (201, first.content)
    assert cost.statements == [("INSERT", True), ("SELECT", True)]  # the key is taken: its row, read back
    assert cost.hops == 1  # the claim: no route, no finish (and the API key, verified a moment ago, is kept)
