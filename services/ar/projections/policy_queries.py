"""The dunning policies, listed. There is no policies read model: policies are few, so their `Created` events are
read from the notification log, filtered by topic in the database, and each policy is loaded from its events."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.utils import get_topic

from ar.domain.dunning_policy import DunningPolicy
from ar.domain.terms import CustomerKind

if TYPE_CHECKING:
    from ar.application.receivables import Receivables

PAGE = 500


def policy_ids(app: Receivables) -> list[UUID]:
    """The defaults, then every policy ever created, in creation order."""
    found = [DunningPolicy.default_id(kind) for kind in CustomerKind]
    topic = get_topic(DunningPolicy.Created)
    start = 1
    while True:
        batch = app.recorder.select_notifications(start, PAGE, topics=[topic])
        found += [UUID(str(n.originator_id)) for n in batch]
        if len(batch) < PAGE:
            return list(dict.fromkeys(found))
        start = batch[-1].id + 1


def policies(app: Receivables, *, include_archived: bool) -> list[DunningPolicy]:
    """The default policy of each debtor kind first, then the others in the order they were created."""
    found = [app.get_policy(policy_id) for policy_id in policy_ids(app)]
    return [p for p in found if include_archived or not p.archived]
