"""Dunning policies, the agenda, the sweep, and the ops task queue."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ar.api.deps import IdempotencyDep, IfMatchDep, ReadAfterDep, ReceivablesDep, RuntimeDep
from ar.api.problems import responses
from ar.api.routes._write import POSITION_HEADER, tagged, written
from ar.api.schemas.common import BusinessDate, QueryBool, QueryInt
from ar.api.schemas.dunning_policies import (
    AssignedPolicyOut,
    AssignPolicyIn,
    CurrencyAmount,
    PolicyIn,
    PolicyOut,
    SimulatedReminderOut,
    SimulateIn,
    SimulationOut,
)
from ar.api.schemas.dunning_tasks import SweepOut, TaskDoneIn, TaskOut
from ar.api.schemas.dunning_timeline import AgendaOut, AgendaRow
from ar.api.schemas.rates import rate_task
from ar.api.schemas.subscriptions import disabled_task
from ar.application.receivables import new_id
from ar.delivery.subscriptions_log import disabled_subscriptions
from ar.domain.errors import PreconditionFailed
from ar.projections import dunning_queries, policy_queries

router = APIRouter(tags=["dunning"])
tasks_router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

AGENDA_DAYS = 30


# Policies ---------------------------------------------------------------------------------------------------------
@router.post("/v1/dunning/policies", status_code=201, response_model=PolicyOut, responses=responses(409, 422),
             summary="Create a dunning policy")
def create_policy(body: PolicyIn, app: ReceivablesDep, key: IdempotencyDep, response: Response) -> PolicyOut:
    """The rules of the trade are checked before anything is written: offsets rise strictly, a courtesy note comes
    before the due date, a formal notice (mise en demeure) follows at least three reminders, and a hand-off comes
    last, after the formal notice. The 422 names the step at fault (`steps[2].kind`). A retry with the same
    `Idempotency-Key` returns the same policy."""
    saved = app.create_policy(policy_id=new_id("policy", idempotency=key), name=body.name, rules=body.to_rules())
    written(response, saved, created=True)
    return PolicyOut.of(saved.aggregate)


@router.get("/v1/dunning/policies", response_model=list[PolicyOut], responses=responses(422),
            summary="List the dunning policies")
def list_policies(app: ReceivablesDep, include_archived: QueryBool = False) -> list[PolicyOut]:
    """The default policy of each debtor kind first, then the others in the order they were created."""
    return [PolicyOut.of(p) for p in policy_queries.policies(app, include_archived=include_archived)]


@router.get("/v1/dunning/policies/{policy_id}", response_model=PolicyOut, responses=responses(404, 422),
            summary="Read a dunning policy")
def get_policy(policy_id: UUID, app: ReceivablesDep, response: Response) -> PolicyOut:
    """Its ETag is its version: send it back as `If-Match` to revise or archive it."""
    policy = app.get_policy(policy_id)
    tagged(response, policy.version)
    return PolicyOut.of(policy)


@router.put("/v1/dunning/policies/{policy_id}", response_model=PolicyOut, responses=responses(404, 409, 412, 422),
            summary="Revise a dunning policy")
def revise_policy(policy_id: UUID, body: PolicyIn, app: ReceivablesDep, if_match: IfMatchDep,
                  response: Response) -> PolicyOut:
    """A revision replaces the name and every rule and raises the version; invoices already reminded keep the
    steps they took, and their next step follows the revised policy. The same policy again changes nothing."""
    saved = app.revise_policy(policy_id, name=body.name, rules=body.to_rules(), expected_version=if_match)
    written(response, saved)
    return PolicyOut.of(saved.aggregate)


@router.delete("/v1/dunning/policies/{policy_id}", response_model=PolicyOut,
               responses={**responses(404, 409, 412, 422),
                          200: {"description": "The policy, archived: `archived` is true; it stays readable"}},
               summary="Archive a dunning policy (it stays readable; DELETE does not erase)")
def archive_policy(policy_id: UUID, app: ReceivablesDep, if_match: IfMatchDep, response: Response) -> PolicyOut:
    """DELETE archives; it does not erase. The policy stays readable at its URL (`GET` answers 200 with `archived:
    true`), since reminders sent under it still name it; it leaves the list unless `include_archived=true`, and can
    no longer be assigned, while customers that have it keep it until assigned another. Archiving an archived
    policy changes nothing. A default policy cannot be archived (422; revise it instead)."""
    saved = app.archive_policy(policy_id, expected_version=if_match)
    written(response, saved)
    return PolicyOut.of(saved.aggregate)


@router.put("/v1/customers/{customer_id}/dunning-policy", response_model=AssignedPolicyOut,
            responses=responses(404, 409, 412, 422), summary="Assign a dunning policy to a customer")
def assign_policy(customer_id: UUID, body: AssignPolicyIn, app: ReceivablesDep, if_match: IfMatchDep,
                  response: Response) -> AssignedPolicyOut:
    """Overrides the default policy of the customer's kind; `null` goes back to the default. Its open invoices
    follow the new policy from their next step. `If-Match` is the customer's version."""
    saved = app.assign_dunning_policy(customer_id, body.policy_id, expected_version=if_match)
    written(response, saved)
    customer = saved.aggregate
    return AssignedPolicyOut(customer_id=customer.id, version=customer.version,
                             policy_id=customer.dunning_policy_id, policy=PolicyOut.of(app.policy_for(customer)))


# Agenda and sweep -------------------------------------------------------------------------------------------------
@router.get("/v1/dunning/agenda", response_model=AgendaOut, responses=responses(422, 503),
            summary="What dunning will do, when, to whom")
def get_agenda(
    runtime: RuntimeDep,
    _: ReadAfterDep,
    until: Annotated[BusinessDate | None, Query(description=(
        f"last day to show; default today + {AGENDA_DAYS} days"))] = None,
    customer_id: UUID | None = None,
    limit: Annotated[QueryInt, Query(ge=1, le=1000)] = 200,
) -> AgendaOut:
    """The next action of every invoice due by `until`, the overdue ones first: a dated action before today was
    missed (the sweeper was down, or today is not a business day) and is taken by the next sweep. Each invoice
    shows only its next action; `GET /v1/invoices/{id}/dunning` shows what would follow."""
    last = until or runtime.clock.today() + timedelta(days=AGENDA_DAYS)
    rows = dunning_queries.agenda(runtime.engine, until=last, customer_id=customer_id, limit=limit)
    return AgendaOut(until=last, items=[AgendaRow(**row) for row in rows])


@router.post("/v1/dunning/sweep", response_model=SweepOut, responses=responses(422),
             summary="Run the dunning sweep now")
def sweep(runtime: RuntimeDep, response: Response) -> SweepOut:
    """Takes every dunning action due today, as the background sweeper does (for ops and demos). Running it twice
    the same day decides nothing more. On a day that is not a business day it does nothing. `AR-Position` is the
    event-store head afterwards, for reading the agenda back with `min_position`."""
    report = runtime.sweeper.sweep()
    response.headers[POSITION_HEADER] = str(runtime.projections.head())
    return SweepOut(today=runtime.clock.today(), customers=report.customers, reminders=report.reminders,
                    invoices=report.invoices, skipped_locked=report.skipped_locked, failures=report.failures)


# Tasks ------------------------------------------------------------------------------------------------------------
class TaskState(StrEnum):
    OPEN = "open"
    DONE = "done"


@tasks_router.get("", response_model=list[TaskOut], responses=responses(422, 503),
                  summary="The ops task queue: calls, hand-offs, rates to record, disabled subscriptions")
def list_tasks(
    runtime: RuntimeDep,
    _: ReadAfterDep,
    state: Annotated[TaskState | None, Query(description="open or done; default both")] = None,
    customer_id: UUID | None = None,
    limit: Annotated[QueryInt, Query(ge=1, le=1000)] = 200,
) -> list[TaskOut]:
    """Oldest first. A dunning step on the phone channel becomes a task here instead of a message. A half-year
    whose ECB or legal rate is not recorded is a `rate` task from 30 days before it starts (due on its first day),
    one per table and half-year, done when the rate is recorded (`POST /v1/rates`); penalties past that day wait
    for it, reminders do not. A webhook subscription disabled because no delivery succeeded for 3 days is a
    `subscription` task, done once it is enabled again."""
    rows = dunning_queries.tasks(runtime.engine, state=None if state is None else state.value,
                                 customer_id=customer_id, limit=limit)
    tasks = [TaskOut(id=row["task_id"], **{k: v for k, v in row.items() if k != "task_id"}) for row in rows]
    if customer_id is None:
        app = runtime.app
        if state in (None, TaskState.OPEN):
            tasks += [rate_task(need) for need in app.rate_needs(runtime.clock.today())]
        if state in (None, TaskState.DONE):
            tasks += [rate_task(need, entry) for need, entry in app.rate_book().needs_met()]
        tasks += [disabled_task(sub, failed) for sub, failed in
                  disabled_subscriptions(runtime.engine, state=None if state is None else state.value)]
    return sorted(tasks, key=lambda task: (task.due_on, task.created_at, str(task.id)))[:limit]


@tasks_router.post("/{task_id}/done", response_model=TaskOut, responses=responses(404, 409, 412, 422),
                   summary="Close a task with what came of it")
def complete_task(task_id: UUID, body: TaskDoneIn, app: ReceivablesDep, if_match: IfMatchDep,
                  response: Response) -> TaskOut:
    """Closing it again changes nothing: the first outcome stands. `If-Match` (the task's version) is checked
    before the command."""
    if if_match is not None and (version := app.get_reminder(task_id).version) != if_match:
        raise PreconditionFailed(f"version is {version}, not {if_match}", field="If-Match")
    saved = app.complete_task(task_id, outcome=body.outcome, by=body.by)
    written(response, saved)
    return TaskOut.of_reminder(saved.aggregate)


# Simulation -------------------------------------------------------------------------------------------------------
@router.post("/v1/dunning/simulate", response_model=SimulationOut, responses=responses(422),
             summary="Replay a period of real history under a proposed policy, writing nothing")
def simulate(body: SimulateIn, app: ReceivablesDep) -> SimulationOut:
    """Every invoice of the customers (all of them by default) is rebuilt from its recorded events without the
    dunning decisions actually taken; then, day by day from `from` to `to`, that day's facts (payments, disputes,
    promises, pauses) are applied and the proposed policy decides, with the same code as the real sweeper:
    one consolidated reminder per customer and channel, business days only, re-anchoring, penalties. The answer
    is what it would have sent; nothing is recorded."""
    result = app.simulate_dunning(rules=body.policy.to_rules(), from_on=body.from_, to_on=body.to,
                                  customer_ids=body.customer_ids)
    return SimulationOut(
        invoices=result.invoices, reminders=[SimulatedReminderOut(**r) for r in result.reminders],
        steps_by_kind=dict(result.steps_by_kind), formal_notices=result.steps_by_kind.get("formal_notice", 0),
        penalties_claimed=[CurrencyAmount(currency=c, amount_minor=m)
                           for c, m in sorted(result.penalties_claimed.items())],
        refused=result.refused)
