"""Dunning policies: the ordered steps of a collection, as data that finance edits and versions.

A step fires `offset_days` after the due date (negative: a courtesy note before it). The rules of the trade are
checked here: offsets rise, a formal notice (mise en demeure, Code civil 1344) comes after at least three
reminders, and a hand-off to collections or a payment order (CPC 1405) only after the formal notice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import DomainRuleViolation
from ar.domain.terms import CustomerKind

POLICY_IDS = uuid5(NAMESPACE_URL, "https://ar.invalid/dunning-policies")
REMINDERS_BEFORE_NOTICE = 3


class StepKind(StrEnum):
    COURTESY = "courtesy"  # before the due date
    REMINDER = "reminder"  # relance amiable, of rising firmness
    FORMAL_NOTICE = "formal_notice"  # mise en demeure
    HANDOFF = "handoff"  # to collections or a payment-order file


class Channel(StrEnum):
    EMAIL = "email"
    LETTER = "letter"  # a printable PDF
    WEBHOOK = "webhook"
    PHONE = "phone"  # a call task in the ops queue


@dataclass(frozen=True)
class Step:
    key: str
    offset_days: int
    kind: StepKind
    channel: Channel
    template: str
    states_penalties: bool = False  # the message shows the penalties accrued so far
    claims_penalties: bool = False  # taking the step records LatePenaltyClaimed

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value, "channel": self.channel.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        return cls(key=data["key"], offset_days=int(data["offset_days"]), kind=StepKind(data["kind"]),
                   channel=Channel(data["channel"]), template=data["template"],
                   states_penalties=bool(data.get("states_penalties", False)),
                   claims_penalties=bool(data.get("claims_penalties", False)))


@dataclass(frozen=True)
class PolicyRules:
    """Everything about a policy but its name: what a revision replaces."""

    steps: tuple[Step, ...]
    remind_undisputed: bool = True  # during a dispute, keep reminding the undisputed part
    penalties_net_of_disputes: bool = True  # no interest on the disputed amount while the dispute is open
    notice_deadline_days: int = 8  # the deadline a formal notice gives (8 to 15 days in practice)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps], "remind_undisputed": self.remind_undisputed,
                "penalties_net_of_disputes": self.penalties_net_of_disputes,
                "notice_deadline_days": self.notice_deadline_days}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyRules:
        return cls(steps=tuple(Step.from_dict(s) for s in data["steps"]),
                   remind_undisputed=bool(data.get("remind_undisputed", True)),
                   penalties_net_of_disputes=bool(data.get("penalties_net_of_disputes", True)),
                   notice_deadline_days=int(data.get("notice_deadline_days", 8)))

    def check(self) -> None:
        steps = self.steps
        if not steps:
            raise DomainRuleViolation("a policy needs at least one step", field="steps")
        keys = [s.key for s in steps]
        for i, s in enumerate(steps):
            if not s.key.strip() or not s.template.strip():
                raise DomainRuleViolation("a step needs a key and a template", field=f"steps[{i}]")
            if keys.count(s.key) > 1:
                raise DomainRuleViolation(f"step key {s.key!r} is used twice", field=f"steps[{i}].key")
            if i and s.offset_days <= steps[i - 1].offset_days:
                raise DomainRuleViolation("steps are ordered by strictly rising offsets",
                                          field=f"steps[{i}].offset_days")
            if (s.kind is StepKind.COURTESY) != (s.offset_days < 0):
                raise DomainRuleViolation("a courtesy step comes before the due date (negative offset), every "
                                          "other step after it", field=f"steps[{i}].offset_days")
            self._check_order(i, s)
        if not 8 <= self.notice_deadline_days <= 30:
            raise DomainRuleViolation("a formal notice gives 8 to 30 days", field="notice_deadline_days")

    def _check_order(self, i: int, step: Step) -> None:
        before = self.steps[:i]
        if step.kind is StepKind.FORMAL_NOTICE:
            reminders = sum(1 for s in before if s.kind is StepKind.REMINDER)
            if reminders < REMINDERS_BEFORE_NOTICE:
                raise DomainRuleViolation(
                    f"a formal notice needs at least {REMINDERS_BEFORE_NOTICE} reminders before it, "
                    f"this one has {reminders}", field=f"steps[{i}].kind",
                    figures={"reminders_before": reminders, "required": REMINDERS_BEFORE_NOTICE})
            if any(s.kind is StepKind.FORMAL_NOTICE for s in before):
                raise DomainRuleViolation("a policy has one formal notice", field=f"steps[{i}].kind")
        if step.kind is StepKind.REMINDER and any(s.kind is StepKind.FORMAL_NOTICE for s in before):
            raise DomainRuleViolation("reminders come before the formal notice", field=f"steps[{i}].kind")
        if step.kind is StepKind.HANDOFF:
            if not any(s.kind is StepKind.FORMAL_NOTICE for s in before):
                raise DomainRuleViolation("a hand-off to collections comes after a formal notice",
                                          field=f"steps[{i}].kind")
            if i != len(self.steps) - 1:
                raise DomainRuleViolation("the hand-off is the last step", field=f"steps[{i}].kind")

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)


def check_name(name: str) -> None:
    if not name.strip() or len(name) > 100:
        raise DomainRuleViolation("a policy needs a name of 1 to 100 characters", field="name")


class DunningPolicy(Aggregate):
    """Versioned: each revision is an event, and a reminder records the version it followed."""

    @staticmethod
    def default_id(kind: CustomerKind) -> UUID:
        return uuid5(POLICY_IDS, f"default:{kind.value}")

    @classmethod
    def create(cls, *, id: UUID, name: str, rules: PolicyRules, default_for: CustomerKind | None,
               at: datetime) -> DunningPolicy:
        check_name(name)
        rules.check()
        return cls(id=id, name=name.strip(), rules=rules.to_dict(),
                   default_for=default_for.value if default_for else None, at=at)

    class Created(Aggregate.Created):
        """`rules` is `PolicyRules.to_dict()`; `default_for` the debtor kind it is the default of, if any."""

        name: str
        rules: dict[str, Any]
        default_for: str | None
        at: datetime

    @event(Created)
    def __init__(self, id: UUID, name: str, rules: dict[str, Any], default_for: str | None, at: datetime) -> None:
        self.name = name
        self.rules = PolicyRules.from_dict(rules)
        self.default_for = CustomerKind(default_for) if default_for else None
        self.archived = False

    def revise(self, name: str, rules: PolicyRules, at: datetime) -> None:
        check_name(name)
        rules.check()
        if name.strip() == self.name and rules == self.rules:
            return
        self._revised(name=name.strip(), rules=rules.to_dict(), at=at)

    class Revised(Aggregate.Event):
        name: str
        rules: dict[str, Any]
        at: datetime

    @event(Revised)
    def _revised(self, name: str, rules: dict[str, Any], at: datetime) -> None:
        self.name = name
        self.rules = PolicyRules.from_dict(rules)

    def archive(self, at: datetime) -> None:
        if self.default_for is not None:
            raise DomainRuleViolation("a default policy cannot be archived; revise it instead", field="policy_id")
        if not self.archived:
            self._archived(at=at)

    class Archived(Aggregate.Event):
        at: datetime

    @event(Archived)
    def _archived(self, at: datetime) -> None:
        self.archived = True
