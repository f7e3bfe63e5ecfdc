"""An issuer's credit-note number, held by the one invoice it corrected.

An imported credit note keeps its issuer's number (`ar.application.einvoices`); the invoice it corrects remembers
the number, but another invoice of the same seller would not know it. This record, its id derived from the seller's
series and the number, is saved in the same transaction as the credit note's application: a second invoice claiming
the number loses its save on the id, and is then told which invoice holds it. No read model is asked."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ar.domain.errors import Conflict

NAMESPACE = uuid5(NAMESPACE_URL, "https://ar.invalid/issuer-credit-notes")


class CreditNoteNumberTaken(Conflict):
    """The seller's credit-note number was applied to another invoice already."""

    rule = "credit-note-number-taken"


class IssuerCreditNote(Aggregate):
    @staticmethod
    def create_id(series: str, number: str) -> UUID:
        return uuid5(NAMESPACE, f"{series}:{number}")

    class Recorded(Aggregate.Created):
        """A seller's credit-note number, applied to this invoice: no other invoice may take it."""

        series: str
        number: str
        invoice_id: UUID
        invoice_number: str

    @event(Recorded)
    def __init__(self, series: str, number: str, invoice_id: UUID, invoice_number: str) -> None:
        self.series, self.number = series, number
        self.invoice_id, self.invoice_number = invoice_id, invoice_number

    def check_held_by(self, invoice_id: UUID, field: str) -> None:
        """Refuse the number to any invoice but the one it was applied to."""
        if invoice_id != self.invoice_id:
            raise CreditNoteNumberTaken(
                f"credit note {self.number} of {self.series} was applied to invoice {self.invoice_number} already",
                field=field, figures={"number": self.number, "invoice_number": self.invoice_number,
                                      "invoice_id": str(self.invoice_id)})
