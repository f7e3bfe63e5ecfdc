"""What settled part of an invoice, its disputes over time, and what a settlement decides for the dunning schedule.

The decision (`settling`) runs in the command and is recorded on the settling event (v3 of `PaymentAllocated` and
`CreditNoteApplied`), so a later change of the rule never changes replayed history; events recorded before v3 did
not record it and replay by the rule in force then (`as_recorded_before_v3`), frozen: change `settling`, never it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import NamedTuple

from ar.domain.clock import business_date
from ar.domain.dunning_state import DunningState


class Settlement(NamedTuple):
    """What settled part of an invoice: from when it took effect (a payment's value date), how much."""

    on: date
    minor: int


class DisputePeriod(NamedTuple):
    """A dispute: from its opening to its resolution (None: still open), over how much."""

    opened_on: date
    resolved_on: date | None
    minor: int


class SettlementEffect(NamedTuple):
    """What settling decided: the day the schedule re-anchors on (None: none), whether the promise is kept."""

    reanchored_on: date | None
    promise_kept: bool


def settling(dunning: DunningState, *, open_minor: int, settled_minor: int, amount_minor: int,
             at: datetime) -> SettlementEffect:
    """Settling `amount_minor` more of an invoice with `open_minor` open and `settled_minor` settled: a partial
    settlement re-anchors the schedule on its day (nothing left open: no re-anchoring); the promise to pay is kept
    once its amount is settled."""
    reanchored_on = business_date(at) if open_minor - amount_minor > 0 else None
    promise = dunning.promise
    return SettlementEffect(reanchored_on, promise is not None and promise.kept_by(settled_minor + amount_minor))


def as_recorded_before_v3(dunning: DunningState, *, open_minor: int, settled_minor: int,
                          at: datetime) -> SettlementEffect:
    """The rule a settlement recorded before v3 was decided by, applied after it (`open_minor` and `settled_minor`
    already count it)."""
    reanchored_on = business_date(at) if open_minor > 0 else None
    return SettlementEffect(reanchored_on, dunning.promise is not None and dunning.promise.kept_by(settled_minor))


def settled(dunning: DunningState, effect: SettlementEffect) -> DunningState:
    """The dunning state after a settlement that decided `effect`."""
    if effect.reanchored_on is not None:
        dunning = replace(dunning, anchor_on=effect.reanchored_on)
    if effect.promise_kept:
        dunning = replace(dunning, promise=None)
    return dunning
