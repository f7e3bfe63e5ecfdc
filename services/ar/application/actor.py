"""Who caused a command: an API key, a webhook source or the service itself, recorded on every event it saves.

The door that authenticates the caller sets it for the request (`acting_as`); every event saved while it is set
carries `caused_by` beside its own fields, like the envelope's timestamp: metadata of the recording, not a fact the
domain decides on. Events recorded before it existed have none, and read as `None`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

SYSTEM = "system"

_actor: ContextVar[str | None] = ContextVar("ar_actor", default=None)


def api_key(key_id: str) -> str:
    """An API key by its id, never its secret."""
    return f"key:{key_id}"


def webhook_source(source: str) -> str:
    return f"webhook:{source}"


def current() -> str:
    """The caller of the command being saved; `system` for the scheduler, the worker and start-up seeding."""
    return _actor.get() or SYSTEM


def set_actor(actor: str) -> None:
    """For a request's async dependency: the context is the request's own, copied into its worker thread."""
    _actor.set(actor)


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)
