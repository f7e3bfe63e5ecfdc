"""What a credit carries to say what it pays: a customer's RF reference (built and read in the domain, printed by
the payment block) and invoice numbers in a remittance text, ours or an issuer's."""

from __future__ import annotations

from uuid import UUID

from ar.domain.allocation import numbers_in
from ar.domain.reference import (
    account_in_reference,
    creditor_reference,
    customer_account_number,
    customer_reference,
    is_valid_creditor_reference,
)
from ar.reports.payment_block import account_number
from ar.reports.payment_block import customer_reference as printed_reference

CUSTOMER = UUID("3fa85f64-5717-4562-b3fc-2c963f66afa6")


def test_a_customer_reference_carries_the_account_number_documents_print() -> None:
    reference = customer_reference(CUSTOMER)
    assert reference == printed_reference(CUSTOMER) and is_valid_creditor_reference(reference)
    assert customer_account_number(CUSTOMER) == account_number(CUSTOMER) == "3FA85F6457"
    assert account_in_reference(reference) == "3FA85F6457"
    spaced = " ".join(reference[i:i + 4] for i in range(0, len(reference), 4)).lower()
    assert account_in_reference(spaced) == "3FA85F6457"  # as a person types it from a statement


def test_an_invoice_reference_or_a_mistyped_one_names_no_customer() -> None:
    assert account_in_reference(creditor_reference("F-000042")) is None
    reference = customer_reference(CUSTOMER)
    mistyped = reference[:-1] + ("8" if reference[-1] != "8" else "9")
    assert account_in_reference(mistyped) is None and account_in_reference(None) is None


def test_issuer_numbers_in_a_remittance_are_found_as_written() -> None:
    assert numbers_in("Règlement FA-2026-00042, 2026/117.") == ["FA-2026-00042", "2026/117"]
    assert numbers_in("facture fa-2026-7") == ["fa-2026-7"]  # the finder looks it up whatever its case
    assert numbers_in("Factures F-000042 et F-000043") == ["F-000042", "F-000043"]
    assert "F-000042" in numbers_in("/INV/F-000042/ROC/X")  # a keyed subfield


def test_amounts_dates_and_short_figures_are_not_taken_for_numbers() -> None:
    assert numbers_in("paiement 117,00 EUR 2026 le 10 mars") == []
    assert numbers_in("x" * 30 + " " + " ".join(f"A-{n:06d}" for n in range(200)))[-1] == "A-000063"  # bounded
