"""Command plumbing shared by every use case: load, decide, save once; retry lost races; derive stable ids."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from random import random
from typing import Any, Generic, TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, CanMutateProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from ar.application import actor, transcodings
from ar.application.group_commit import GroupCommit, Ticket
from ar.application.ports import Ports
from ar.domain.clock import Clock
from ar.domain.errors import Conflict, DomainError, NotFound, PreconditionFailed

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
IDS = uuid5(NAMESPACE_URL, "https://ar.invalid/ids")
MAX_ATTEMPTS = 20


def derived_id(kind: str, key: str) -> UUID:
    """A stable id for a create command retried with the same idempotency key or external id."""
    return uuid5(IDS, f"{kind}:{key}")


def new_id(kind: str, *, idempotency: str | None = None, external_id: str | None = None) -> UUID:
    if external_id:
        return derived_id(kind, f"external:{external_id}")
    if idempotency:
        return derived_id(kind, f"idempotency:{idempotency}")
    return uuid4()


@dataclass(frozen=True)
class Pending:
    """Events submitted for the next group commit, not yet durable: `CommandHandling._wait` says when they are."""

    processing: ProcessingEvent[UUID]
    ticket: Ticket | None  # None: nothing to write


@dataclass(frozen=True)
class Saved(Generic[A]):
    """The aggregate after a command, and the position of its last event in the notification log."""

    aggregate: A
    position: int | None


class CommandHandling(Application[UUID]):
    """Decide-then-save helpers; the use cases live in subclasses."""

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock, ports: Ports):
        super().__init__(env)
        self.clock = clock
        self.ports = ports
        self._on_saved: list[Callable[[int], None]] = []
        self.group_commit = GroupCommit(self.events.put)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcodings.register(transcoder)

    def on_saved(self, callback: Callable[[int], None]) -> None:
        """Call `callback(position)` after every successful save (wakes the in-process projections)."""
        self._on_saved.append(callback)

    # Plumbing ---------------------------------------------------------------------------------------------------
    def _get(self, cls: type[A], aggregate_id: UUID, field: str, *, read_only: bool = False) -> A:
        """`read_only`: the command reads the aggregate and does not change it, so the cached one is lent, not
        copied (a copy of a customer costs a command about a millisecond)."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=not read_only)
        except AggregateNotFoundError:
            raise NotFound(f"no {cls.__name__.lower()} {aggregate_id}", field=field) from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no {cls.__name__.lower()} {aggregate_id}", field=field)
        return aggregate

    def _exists(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(found, cls):
            raise Conflict(f"id {aggregate_id} belongs to another kind of record", field="id")
        return found

    def load_many(self, cls: type[A], ids: Sequence[UUID]) -> dict[UUID, A]:
        """The current state of many aggregates, read in a few queries (for aggregates without snapshots)."""
        loaded: dict[UUID, A] = {}
        for aggregate_id, stored in self.ports.read_many(self.recorder, list(dict.fromkeys(ids))).items():
            aggregate: Any = None
            for record in stored:
                event = cast("CanMutateProtocol[Aggregate]", self.mapper.to_domain_event(record))  # an aggregate's
                aggregate = event.mutate(aggregate)
            if isinstance(aggregate, cls):
                loaded[aggregate_id] = aggregate
        return loaded

    def _save(self, *aggregates: Aggregate | None) -> int | None:
        """Write the aggregates' new events in one transaction (shared with concurrent commands: group commit) and
        return the position of the last; None when there was nothing new."""
        return self._wait(self._submit(*aggregates))

    def _submit(self, *aggregates: Aggregate | None, follows: Ticket | None = None) -> Pending:
        """Queue the new events for the next group commit. `follows`: a ticket these events are only valid after
        (a numbering series' previous number)."""
        caused_by = actor.current()
        for aggregate in aggregates:
            for pending in aggregate.pending_events if aggregate is not None else ():
                # Envelope metadata, stored with the event's fields (see ar.application.actor).
                object.__setattr__(pending, "caused_by", caused_by)
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in aggregates:  # what `processing.collect_events` does, without its two runtime protocol
            if aggregate is not None:  # checks per aggregate (a tenth of a dunning sweep's save)
                processing.events.extend(aggregate.collect_events())
                processing.aggregates[aggregate.id] = aggregate
        ticket = self.group_commit.submit(processing.events, follows) if processing.events else None
        return Pending(processing, ticket)

    def _wait(self, pending: Pending) -> int | None:
        """Block until the submitted events are durable; raises `IntegrityError` when a concurrent command won."""
        if pending.ticket is None:
            return None
        recordings: list[Recording[UUID]] = self.group_commit.wait(pending.ticket)
        # What eventsourcing's `Application.save` does after recording.
        if self.repository.cache and not self.repository.fastforward:
            for aggregate_id, aggregate in pending.processing.aggregates.items():
                self.repository.cache.put(aggregate_id, aggregate)
        self._take_snapshots(pending.processing)
        self._notify(recordings)
        position = recordings[-1].notification.id if recordings else None
        if position is not None:
            for callback in self._on_saved:
                callback(position)
        return position

    def _retrying(self, attempt: Callable[[], T]) -> T:
        """Re-run decide-then-save after losing an optimistic-concurrency race, a bounded number of times."""
        for n in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except IntegrityError:
                time.sleep(random() * 0.002 * (n + 1))
        raise Conflict("the record changed concurrently too many times; retry the request")

    def _create(self, cls: type[A], aggregate_id: UUID, decide: Callable[[], Saved[A]]) -> Saved[A]:
        """A create command: done already (same id) -> the existing record, else decide and save.

        The first attempt does not read the id first (it is almost always new: a read would cost two queries for
        nothing); an id taken already makes the save fail on its version, and the next attempt finds the record."""
        first = True

        def attempt() -> Saved[A]:
            nonlocal first
            if not first:
                existing = self._exists(cls, aggregate_id)
                if existing is not None:
                    return Saved(existing, None)
            first = False
            try:
                return decide()
            except DomainError:
                # the same command committed meanwhile by a concurrent retry can make this one look invalid
                existing = self._exists(cls, aggregate_id)
                if existing is not None:
                    return Saved(existing, None)
                raise

        return self._retrying(attempt)

    @staticmethod
    def _check_version(aggregate: Aggregate, expected: int | None) -> None:
        if expected is not None and aggregate.version != expected:
            raise PreconditionFailed(f"version is {aggregate.version}, not {expected}", field="If-Match")

    def _update(self, cls: type[A], aggregate_id: UUID, expected_version: int | None,
                change: Callable[[A], None], field: str) -> Saved[A]:
        def attempt() -> Saved[A]:
            aggregate = self._get(cls, aggregate_id, field)
            self._check_version(aggregate, expected_version)
            change(aggregate)
            return Saved(aggregate, self._save(aggregate))

        return self._retrying(attempt)

