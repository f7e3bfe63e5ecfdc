"""The vocabulary of the HTTP tests, written once: the types of the builder fixtures of tests/api/conftest.py
and the two assertions every test makes of a response it expects to succeed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

# The admin key every test server knows: tests/conftest.py sets it as AR_ADMIN_KEY, so each runtime built in the
# tests (and each `ar` process they start) installs it as the "bootstrap" key; clients send AUTH_HEADERS.
ADMIN_TOKEN = "ark_testadmin001_" + "T" * 40
ADMIN_KEY_ID = "testadmin001"
AUTH_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

Json = dict[str, Any]
RegisterCustomer = Callable[..., Json]
IssueInvoice = Callable[..., httpx.Response]
RecordPayment = Callable[..., httpx.Response]
EventHead = Callable[[], int]
CheckProblem = Callable[..., Json]
NewKey = Callable[..., dict[str, str]]  # (scope="write", *, name=..., expires_at=None) -> the Authorization header


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def created(r: httpx.Response) -> Json:
    """The body of a 201."""
    assert r.status_code == 201, r.text
    body: Json = r.json()
    return body


def ok(r: httpx.Response) -> Json:
    """The body of a 200."""
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body
