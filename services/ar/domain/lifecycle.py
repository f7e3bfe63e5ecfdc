"""E-invoice lifecycle statuses (French reform, accredited platforms): those a platform sends us about an invoice,
and 212 (Encaissée) that we send when cash is allocated to it. Pure: the invoice records, this module decides."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money
from ar.domain.vat import VatLine, split_amount

DISPUTED, SUSPENDED, REFUSED, PAYMENT_SENT, CASHED, REJECTED = "207", "208", "210", "211", "212", "213"
RECEIVED_CODES = {
    DISPUTED: "disputed (En litige): opens a dispute",
    SUSPENDED: "suspended (Suspendue): pauses dunning",
    REFUSED: "refused (Refusée): stops dunning, the invoice is refused",
    PAYMENT_SENT: "payment sent (Paiement transmis): snoozes reminders",
    REJECTED: "rejected (Rejetée): stops dunning, the invoice is invalid",
}
VERDICTS = {REFUSED: "refused", REJECTED: "invalid"}


def check_received_code(code: str, field: str = "status") -> str:
    if code not in RECEIVED_CODES:
        known = ", ".join(f"{c} {what}" for c, what in RECEIVED_CODES.items())
        raise DomainRuleViolation(f"status {code!r} is not one a platform sends us; known: {known}", field=field)
    return code


@dataclass(frozen=True)
class LifecycleEntry:
    direction: str                       # "in" (a platform told us) or "out" (we told the platform)
    code: str
    at: datetime
    reason: str | None = None
    message_id: str | None = None
    amounts_by_rate: dict[str, Money] | None = None
    payment_id: UUID | None = None
    amount: Money | None = None


@dataclass(frozen=True)
class AttachedDocument:
    sha256: str
    media_type: str
    filename: str | None
    payment_terms: str | None


@dataclass(frozen=True)
class LifecycleState:
    """What an invoice's lifecycle says: every status in and out, and the verdict a platform gave (None, refused,
    invalid). `document`: the e-invoice it came in as; only then is cash on it reported back (212)."""

    entries: tuple[LifecycleEntry, ...] = ()
    verdict: str | None = None
    document: AttachedDocument | None = None

    @property
    def einvoice(self) -> bool:
        return self.document is not None

    def seen(self, message_id: str) -> bool:
        return any(e.message_id == message_id for e in self.entries if e.direction == "in")

    def with_entry(self, entry: LifecycleEntry) -> LifecycleState:
        verdict = VERDICTS.get(entry.code, self.verdict) if entry.direction == "in" else self.verdict
        return replace(self, entries=(*self.entries, entry), verdict=verdict)


def snooze_until(on: date, days: int) -> date:
    """Until when a 211 (payment sent) snoozes the reminders: as a promise to pay for that day would."""
    return on + timedelta(days=days)


def split_by_rate(amount: Money, vat: list[VatLine]) -> dict[str, Money]:
    """`amount` received, split by VAT rate as `vat.split_amount` splits it (in proportion to each line's gross,
    adding up to `amount` exactly); lines of the same rate summed under the rate as stated ("20.0")."""
    split: dict[str, Money] = {}
    for part in split_amount(amount, vat):
        key, gross = str(part.rate), part.base + part.vat
        split[key] = split[key] + gross if key in split else gross
    return split
