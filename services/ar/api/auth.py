"""API keys and scopes at the door (issue 10; filled in by the access work).

`require(scope)` is the dependency a router or route declares; `document(schema)` states the scopes in the OpenAPI."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Depends

Scope = Literal["read", "write", "admin"]


async def _no_check() -> None:
    return None


def require(scope: Scope) -> Any:
    """The dependency that refuses a caller without `scope` (stub: to be implemented)."""
    return Depends(_no_check)


def document(schema: dict[str, Any]) -> None:
    """Adds the security scheme and each operation's scope to the OpenAPI (stub)."""
