"""Group commit: concurrent commands decide on their own, and their events are written together, one transaction for
many.

A command's thread `submit`s its events (a `Ticket`) and `wait`s. The first waiting thread that finds no commit
running becomes the leader: it takes every ticket queued so far, in the order submitted, writes them in one
transaction, marks each done and wakes the others; then the next leader takes what queued meanwhile. There is no
timer and no dedicated thread: under no load a batch is one ticket and costs what a single save costs; under load
the batches grow by themselves with the time a commit takes. Nobody hears yes before the transaction holding its
events is committed.

When a batch's transaction fails on a version conflict (two commands decided on the same aggregate), the tickets are
written one by one, in order, so only the losers fail: each gets the `IntegrityError` and its command decides again.

A ticket may `follow` an earlier one: a numbering series hands out consecutive numbers to commands still in flight
(`Receivables` keeps the series it advanced), so the later number is only valid if the earlier was written. A ticket
whose predecessor failed fails too, without being tried, since writing it would leave a hole in the series (the store
refuses a version written twice, but not a version skipped)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import IntegrityError, Recording

Write = Callable[[Sequence[Any]], list[Recording[Any]]]

#: Most events written in one transaction: bounds a transaction's size and a failed batch's one-by-one replay.
MAX_BATCH_EVENTS = 2000


@dataclass(eq=False)
class Ticket:
    events: Sequence[Any]
    follows: Ticket | None = None
    recordings: list[Recording[Any]] | None = None
    error: BaseException | None = None
    done: bool = False

    @property
    def failed(self) -> bool:
        return self.done and self.error is not None


class GroupCommit:
    def __init__(self, write: Write, max_batch_events: int = MAX_BATCH_EVENTS) -> None:
        self._write = write
        self._max = max_batch_events
        self._queue: list[Ticket] = []
        self._leading = False
        self._changed = threading.Condition()
        self.batches = 0       # transactions written (for the benchmarks' report)
        self.tickets = 0

    def submit(self, events: Sequence[Any], follows: Ticket | None = None) -> Ticket:
        ticket = Ticket(events, follows)
        with self._changed:
            self._queue.append(ticket)
        return ticket

    def wait(self, ticket: Ticket) -> list[Recording[Any]]:
        """Block until the ticket's events are committed (their recordings) or refused (raises)."""
        with self._changed:
            while not ticket.done:
                if self._leading:
                    self._changed.wait()
                    continue
                self._leading = True
                batch = self._take()
                self._changed.release()
                try:
                    self._commit(batch)
                finally:
                    self._changed.acquire()
                    self._leading = False
                    self._changed.notify_all()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.recordings is not None
        return ticket.recordings

    def _take(self) -> list[Ticket]:
        batch: list[Ticket] = []
        size = 0
        while self._queue and (not batch or size + len(self._queue[0].events) <= self._max):
            ticket = self._queue.pop(0)
            batch.append(ticket)
            size += len(ticket.events)
        return batch

    def _commit(self, batch: list[Ticket]) -> None:
        try:
            runnable = [t for t in batch if not self._refused_for_predecessor(t)]
            try:
                self._write_together(runnable)
            except IntegrityError:
                for ticket in runnable:  # in order: a follower sees its predecessor's outcome
                    if not self._refused_for_predecessor(ticket):
                        self._write_together([ticket])
        except Exception as e:  # storage down: every ticket not yet written hears it
            for ticket in batch:
                if not ticket.done:
                    self._finish(ticket, error=e)

    def _write_together(self, tickets: list[Ticket]) -> None:
        if not tickets:
            return
        events = [e for t in tickets for e in t.events]
        try:
            recordings = self._write(events)
        except IntegrityError as e:
            if len(tickets) > 1:
                raise
            self._finish(tickets[0], error=e)
            return
        self.batches += 1
        self.tickets += len(tickets)
        start = 0
        for ticket in tickets:
            self._finish(ticket, recordings=recordings[start:start + len(ticket.events)])
            start += len(ticket.events)

    def _refused_for_predecessor(self, ticket: Ticket) -> bool:
        if ticket.follows is None or not ticket.follows.failed:
            return False
        self._finish(ticket, error=IntegrityError("an earlier command this one followed was not written"))
        return True

    @staticmethod
    def _finish(ticket: Ticket, *, recordings: list[Recording[Any]] | None = None,
                error: BaseException | None = None) -> None:
        ticket.recordings, ticket.error, ticket.done = recordings, error, True
        ticket.follows = None  # decided: the chain behind it is no longer needed (and not kept alive)


def broken(ticket: Ticket | None) -> bool:
    """Whether a chain of tickets (each following the one before) will not all be written: one of them failed."""
    while ticket is not None and not ticket.done:
        ticket = ticket.follows
    return ticket is not None and ticket.failed
