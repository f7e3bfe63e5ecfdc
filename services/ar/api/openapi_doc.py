"""What the OpenAPI page says beyond what the routes declare (stub: the admin-page work fills it in)."""

from __future__ import annotations

from typing import Any


def complete(schema: dict[str, Any]) -> None:
    """Adds the error responses every operation can give, and anything else shared by all operations."""
