"""The vocabulary of the HTTP tests, written once: the types of the builder fixtures of tests/api/conftest.py
and the two assertions every test makes of a response it expects to succeed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

Json = dict[str, Any]
RegisterCustomer = Callable[..., Json]
IssueInvoice = Callable[..., httpx.Response]
RecordPayment = Callable[..., httpx.Response]
EventHead = Callable[[], int]
CheckProblem = Callable[..., Json]


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
