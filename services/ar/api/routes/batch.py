"""Batch doors: up to 1,000 invoices or payments in one call, each item with the outcome the single call would give.

The items run together (`ar.application.bulk`), so their events are written in a few group commits and a numbering
series gives the batch consecutive numbers. The answer is 200 whatever the items' outcomes: each item says its own
(201 recorded, 200 found already, 4xx refused with its problem). A storage failure answers 503 for the whole call:
send it again with the same Idempotency-Key, the items recorded the first time are found, not recorded twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from fastapi import APIRouter, Response

from ar.api.deps import IdempotencyDep, ReceivablesDep
from ar.api.problems import domain_problem, responses
from ar.api.routes._commands import issue_invoice, record_payment
from ar.api.routes._write import as_json
from ar.api.schemas.batch import BatchOut, IssueInvoicesIn, ItemOutcome, RecordPaymentsIn
from ar.application.bulk import Outcome, run_together
from ar.application.receivables import Saved

router = APIRouter(tags=["batch"])


def item_key(key: str | None, index: int) -> str | None:
    return None if key is None else f"{key}/{index}"


def report(outcomes: Sequence[Outcome[Saved[Any]]]) -> BatchOut:
    items: list[ItemOutcome] = []
    for n, outcome in enumerate(outcomes):
        if outcome.error is not None:
            items.append(ItemOutcome(index=n, status=domain_problem(outcome.error)["status"],
                                     problem=domain_problem(outcome.error)))
            continue
        saved = outcome.value
        assert saved is not None
        aggregate = saved.aggregate
        items.append(ItemOutcome(index=n, status=201 if saved.position is not None else 200, id=aggregate.id,
                                 number=getattr(aggregate, "number", None), version=aggregate.version))
    positions = [o.value.position for o in outcomes if o.value is not None and o.value.position is not None]
    return BatchOut(recorded=sum(i.status == 201 for i in items), existing=sum(i.status == 200 for i in items),
                    refused=sum(i.status >= 400 for i in items), position=max(positions, default=None), items=items)


def _run(commands: list[Callable[[], Saved[Any]]]) -> Response:
    return as_json(report(run_together(commands)))


@router.post("/v1/invoices/batch", response_model=BatchOut, responses=responses(422, 503),
             summary="Issue up to 1,000 invoices, each with its own outcome")
def issue_invoices(body: IssueInvoicesIn, app: ReceivablesDep, key: IdempotencyDep) -> Response:
    """Each item is the body of `POST /v1/invoices`. Numbers in an ar-numbered series follow the items' order only
    loosely (they run together) but stay gapless; an item refused takes no number."""
    return _run([partial(issue_invoice, app, item, item_key(key, n)) for n, item in enumerate(body.items)])


@router.post("/v1/payments/batch", response_model=BatchOut, responses=responses(422, 503),
             summary="Record up to 1,000 payments, each with its own outcome")
def record_payments(body: RecordPaymentsIn, app: ReceivablesDep, key: IdempotencyDep) -> Response:
    """Each item is the body of `POST /v1/payments`, allocated as that call allocates."""
    return _run([partial(record_payment, app, item, item_key(key, n)) for n, item in enumerate(body.items)])
