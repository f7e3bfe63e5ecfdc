"""The payment method a bank credit is recorded with comes from its transaction family, never from the presence of
an end-to-end id."""

from __future__ import annotations

from datetime import date

import pytest

from ar.application.bank_import import credit_method
from ar.domain.bank_entry import BankEntry, Direction, TransactionFamily
from ar.domain.money import Money
from ar.domain.payment import PaymentMethod


def credit(family: TransactionFamily | None, e2e: str | None = "E2E-1") -> BankEntry:
    return BankEntry(account="FR7630006000011234567890189", bank_reference="R1", booked_on=date(2026, 3, 16),
                     value_on=date(2026, 3, 16), amount=Money(12_000, "EUR"), direction=Direction.CREDIT,
                     end_to_end_id=e2e, family=family)


@pytest.mark.parametrize(("family", "method"), [
    (TransactionFamily.TRANSFER, PaymentMethod.TRANSFER),
    (TransactionFamily.DIRECT_DEBIT, PaymentMethod.DIRECT_DEBIT),
    (TransactionFamily.CARD, PaymentMethod.CARD),
    (TransactionFamily.CHEQUE, PaymentMethod.CHEQUE),
    (TransactionFamily.CASH, PaymentMethod.CASH),
    (TransactionFamily.OTHER, PaymentMethod.TRANSFER),
    (TransactionFamily.CHARGES, PaymentMethod.TRANSFER),
    (None, PaymentMethod.TRANSFER),
])
def test_the_method_is_the_family_whatever_the_end_to_end_id(family: TransactionFamily | None,
                                                              method: PaymentMethod) -> None:
    assert credit_method(credit(family)) is method
    assert credit_method(credit(family, e2e=None)) is method


def test_the_family_is_not_part_of_the_entry_key() -> None:
    assert credit(TransactionFamily.DIRECT_DEBIT).key == credit(None).key == credit(TransactionFamily.OTHER).key


def test_entries_read_with_their_families_keep_the_keys_they_were_imported_under() -> None:
    from pathlib import Path

    from ar.adapters.bank_files import read_statement

    data = Path(__file__).parents[1] / "data" / "bank"
    mt940 = read_statement((data / "mt940_german_two_statements.sta").read_bytes())[0].entries[2]
    cfonb = read_statement((data / "cfonb120_statement.txt").read_bytes())[0].entries[2]
    assert (mt940.family, cfonb.family) == (TransactionFamily.DIRECT_DEBIT, TransactionFamily.DIRECT_DEBIT)
    # the keys these returns had before families were read (stored in bank_entries.entry_key)
    assert mt940.key == "37040044/0532013000|4711030400003|0|2026-03-04|debit|15000|EUR"
    assert cfonb.key == "30006/00001/12345678901|PRLVRET0003|0|2026-03-03|debit|15000|EUR"
