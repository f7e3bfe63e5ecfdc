from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ar.domain.reference import creditor_reference, is_valid_creditor_reference

ISO_EXAMPLE = "RF18539007547034"  # the example of ISO 11649


def test_iso_11649_example_is_valid() -> None:
    assert is_valid_creditor_reference(ISO_EXAMPLE)


def test_iso_11649_example_is_valid_in_its_printed_form() -> None:
    assert is_valid_creditor_reference("RF18 5390 0754 7034")
    assert is_valid_creditor_reference("rf18539007547034")


def test_reference_of_the_iso_example_body_has_the_iso_check_digits() -> None:
    assert creditor_reference("539007547034") == ISO_EXAMPLE


@pytest.mark.parametrize("position", range(2, len(ISO_EXAMPLE)))
def test_changing_any_one_digit_invalidates_the_reference(position: int) -> None:
    for digit in "0123456789":
        if digit == ISO_EXAMPLE[position]:
            continue
        changed = ISO_EXAMPLE[:position] + digit + ISO_EXAMPLE[position + 1 :]
        assert not is_valid_creditor_reference(changed), changed


def test_swapping_two_adjacent_digits_invalidates_the_reference() -> None:
    assert not is_valid_creditor_reference("RF18539007547043")


@pytest.mark.parametrize(
    "reference",
    ["", "RF", "RF18", "XX18539007547034", "RF1A539007547034", "RF18-5390", "RF18" + "1" * 22, "18539007547034RF"],
)
def test_malformed_references_are_invalid(reference: str) -> None:
    assert not is_valid_creditor_reference(reference)


def test_reference_keeps_only_letters_and_digits_of_the_invoice_number_uppercased() -> None:
    reference = creditor_reference("f2026-000012")
    assert reference.startswith("RF")
    assert reference[4:] == "F2026000012"
    assert reference == creditor_reference("F2026-000012")
    assert is_valid_creditor_reference(reference)


def test_reference_body_is_cut_to_21_characters() -> None:
    reference = creditor_reference("A" * 30)
    assert len(reference) == 25
    assert is_valid_creditor_reference(reference)


def test_references_of_consecutive_invoices_differ() -> None:
    assert creditor_reference("F2026-000012") != creditor_reference("F2026-000013")


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[A-Z0-9][A-Z0-9_-]{0,15}-\d{6}", fullmatch=True))
def test_every_generated_reference_validates(invoice_number: str) -> None:
    reference = creditor_reference(invoice_number)
    assert is_valid_creditor_reference(reference)
    assert 2 <= int(reference[2:4]) <= 98
