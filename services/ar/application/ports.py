"""What the application needs from the outside, as protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent

from ar.domain.bank_entry import BankEntry
from ar.domain.calendar import BusinessCalendar
from ar.domain.money import Money

if TYPE_CHECKING:
    from ar.application.bank_import import EntryOutcome, ImportReport


class InvoiceFinder(Protocol):
    """Finds candidate invoices for automatic allocation; the aggregates then decide."""

    def by_reference(self, reference: str) -> list[UUID]: ...

    def by_numbers(self, numbers: list[str]) -> list[UUID]: ...

    def open_for_customer(self, customer_id: UUID, currency: str) -> list[UUID]:
        """Open invoices of a customer, oldest due date first."""
        ...


class CustomerDirectory(Protocol):
    def by_siren(self, siren: str) -> UUID | None:
        """The customer recorded with this SIREN (the customers read model: one registered a moment ago may not
        be found yet), if any."""
        ...


class ExposureReader(Protocol):
    def open_amount(self, customer_id: UUID, currency: str) -> int:
        """What the customer owes on open invoices now, in minor units."""
        ...


@dataclass(frozen=True)
class Evidence:
    """What a `ReminderSent` records of the message decided: the templates' version and the message's hash."""

    template_version: str
    content_hash: str  # sha256 hex of subject, text and html (QR code images as their payload's hash)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    template_version: str
    content_hash: str  # the evidence a reminder decided now records (`Evidence.content_hash`)
    earlier_hash: str = ""  # sha256 hex of subject, text and html as sent: what reminders recorded before

    def proves(self, recorded_hash: str) -> bool:
        """Whether this message is the one a reminder recorded `recorded_hash` for, whenever it was decided."""
        return recorded_hash in (self.content_hash, self.earlier_hash)


class ReminderRenderer(Protocol):
    def knows(self, template: str) -> bool:
        """Whether a policy step may name this template."""
        ...

    def render(self, template: str, language: str, content: dict[str, Any]) -> RenderedMessage:
        """Render a reminder deterministically: the same content and template version give the same hash."""
        ...

    def evidence(self, template: str, language: str, content: dict[str, Any]) -> Evidence:
        """The version and hash `render` would give, without what only sending needs (images)."""
        ...


class DunningCandidates(Protocol):
    def open_invoices(self, customer_id: UUID) -> list[UUID]:
        """Every open invoice of a customer (any currency), oldest due date first."""
        ...

    def invoices_of(self, customer_ids: list[UUID] | None, limit: int) -> list[UUID]:
        """Every invoice, open or not, of these customers (of all customers: None)."""
        ...


class ManyAggregateReads(Protocol):
    """Every stored event of each aggregate in `ids`, in version order, in a few queries: the library reads one
    aggregate per query, and a sweep loading thousands of invoices spent most of its time in round trips. The
    recorder is the application's own (it exists only once the application is built)."""

    def __call__(self, recorder: AggregateRecorder, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]: ...


@dataclass(frozen=True)
class Ports:
    """Everything the application reads from outside, handed over whole when it is built. None has a default: the
    defaults there were (one `NoFinder` for three ports, a weekdays-only calendar, a content-only renderer) each
    changed a rule silently when a port was forgotten: no automatic allocation, no credit exposure, no dunning
    candidates, reminders on public holidays, content hashes the delivery worker could never match."""

    finder: InvoiceFinder
    exposure: ExposureReader
    candidates: DunningCandidates
    read_many: ManyAggregateReads
    renderer: ReminderRenderer
    calendar: BusinessCalendar
    customers: CustomerDirectory


class BankCandidates(Protocol):
    """The read side's help in matching a bank credit (read models: they may lag the event store)."""

    def customer_of(self, iban: str) -> UUID | None:
        """The customer a payer's IBAN was learned for (a confirmed match), if any."""
        ...

    def near_amount(self, amount: Money) -> list[UUID]:
        """A few open invoices of any customer whose open amount is close to `amount`, closest first."""
        ...

    def customer_by_account(self, account_number: str) -> UUID | None:
        """The one customer with invoices whose account number (`reference.customer_account_number`) this is."""
        ...


class BankImportStore(Protocol):
    """Each bank import and its entries, kept for audit, the import report and the unmatched queue."""

    def begin(self, report: ImportReport) -> None: ...

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """The entry keys already imported."""
        ...

    def payment_of(self, key: str) -> UUID | None: ...

    def add_entry(self, import_id: UUID, outcome: EntryOutcome) -> None: ...

    def finish(self, report: ImportReport) -> None:
        """Record the import's counts."""
        ...

    def returned_credit(self, entry: BankEntry) -> UUID | None:
        """The payment of the imported credit that a reversal returns (by end-to-end id, else reference and
        amount)."""
        ...

    def waiting(self, limit: int) -> list[EntryOutcome]: ...

    def payer_iban_of(self, payment_id: UUID) -> str | None: ...

    def confirmed(self, payment_id: UUID, allocations: list[tuple[UUID, Money]]) -> None: ...

    def imports(self, limit: int) -> list[ImportReport]: ...

    def get(self, import_id: UUID) -> ImportReport | None: ...
