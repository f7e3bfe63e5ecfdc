"""The stored topics a projection reads: the runner asks the notification log for those only."""

from __future__ import annotations

from typing import Any

from eventsourcing import utils


def event_topics(*bases: type[Any]) -> tuple[str, ...]:
    """The stored topics of every event class of these aggregates (and any older name registered for one), so the
    runner reads only what the projection uses."""
    classes: set[type[Any]] = set()
    todo = list(bases)
    while todo:
        cls = todo.pop()
        if cls not in classes:
            classes.add(cls)
            todo += cls.__subclasses__()
    # the topic as `get_topic` writes it, without caching: an event class declared explicitly (for its
    # class_version and upcasters) is redefined by the library, and the copies share one topic
    topics = {f"{c.__module__}:{c.__qualname__}" for c in classes}
    topics |= {t for t, obj in getattr(utils, "_topic_cache", {}).items() if obj in classes}
    return tuple(sorted(topics))
