"""CFONB 120 statements written from the specification: 01 old balance, 04 movements, 05 complements, 07 new
balance; amounts in the signed-last-character encoding."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ar.adapters.bank_files import read_statement
from ar.adapters.bank_files.cfonb120 import signed_amount
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, Direction, TransactionFamily
from ar.domain.money import Money

DATA = Path(__file__).parents[1] / "data" / "bank"
CREDIT, DEBIT = Direction.CREDIT, Direction.DEBIT
TRANSFER, DIRECT_DEBIT, CHARGES = TransactionFamily.TRANSFER, TransactionFamily.DIRECT_DEBIT, TransactionFamily.CHARGES
ACCOUNT = "30006/00001/12345678901"


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


@pytest.mark.parametrize(("raw", "decimals", "value"), [
    ("0000000012500{", 2, Decimal("1250.00")), ("0000000001500}", 2, Decimal("-150.00")),
    ("0000000000125B", 2, Decimal("12.52")), ("0000000000125K", 2, Decimal("-12.52")),
    ("0000000000001I", 0, Decimal("19")), ("0000000000001R", 3, Decimal("-0.019")),
])
def test_signed_last_character_gives_the_last_digit_and_the_sign(raw: str, decimals: int, value: Decimal) -> None:
    assert signed_amount(raw, decimals, "line 1") == value


def test_statement_reads_movements_with_their_complements() -> None:
    [statement] = read_statement((DATA / "cfonb120_statement.txt").read_bytes())
    assert (statement.format, statement.account, statement.currency, statement.statement_id) == (
        "cfonb120", ACCOUNT, "EUR", f"{ACCOUNT}@030326")
    assert statement.entries == [
        # NPY payer name, IPY payer IBAN, RCN the payer's reference (a valid RF) and the purpose after it
        BankEntry(account=ACCOUNT, bank_reference="VIRREF0001", booked_on=date(2026, 3, 2), value_on=date(2026, 3, 2),
                  amount=eur(125000), direction=CREDIT, payer_name="ACME GMBH", payer_iban="DE89370400440532013000",
                  remittance="VIR SEPA RECU ACME GMBH REGLEMENT MARS", creditor_reference="RF60F000042",
                  end_to_end_id="RF60F000042", family=TRANSFER, bank_code="CFONB 05", where="line 2"),
        BankEntry(account=ACCOUNT, bank_reference="VIRREF0002", booked_on=date(2026, 3, 2), value_on=date(2026, 3, 3),
                  amount=eur(80000), direction=CREDIT, payer_name="DUPONT SARL",
                  remittance="VIR SEPA RECU DUPONT SARL FACTURE F-000043 ET F-000044",
                  family=TRANSFER, bank_code="CFONB 05", where="line 6"),
        # a movement with a reject reason code is a reversal; the code is CFONB's own, two digits
        BankEntry(account=ACCOUNT, bank_reference="PRLVRET0003", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 3),
                  amount=eur(15000), direction=DEBIT, payer_name="PETIT ET FILS", remittance="IMPAYE PRLV SEPA PETIT",
                  end_to_end_id="SDD-PETIT-0007", return_reason="MS02", reversal=True,
                  family=DIRECT_DEBIT, bank_code="CFONB 10 motif 36", where="line 9"),
        # MMO: the amount in its original currency
        BankEntry(account=ACCOUNT, bank_reference="VIRINT0004", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 4),
                  amount=eur(91540), direction=CREDIT, remittance="VIR INTERNATIONAL GLOBEX INV F-000046",
                  original_amount=Money(100000, "USD"), family=TRANSFER, bank_code="CFONB 05", where="line 12"),
        # no reference: the entry number stands for it
        BankEntry(account=ACCOUNT, bank_reference="0000005", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 3),
                  amount=eur(1250), direction=DEBIT, remittance="FRAIS TENUE DE COMPTE",
                  family=CHARGES, bank_code="CFONB 13", where="line 15"),
    ]


def test_a_file_with_two_statements_gives_two_and_an_invalid_rf_stays_text() -> None:
    first, second = read_statement((DATA / "cfonb120_two_statements.txt").read_bytes())
    assert first.entries == [
        BankEntry(account=ACCOUNT, bank_reference="VIR0310A", booked_on=date(2026, 3, 10), value_on=date(2026, 3, 10),
                  amount=eur(48000), direction=CREDIT,
                  remittance="VIR SEPA RECU LEROY BATIMENT PAIEMENT FACTURE F-000042 SOLDE RF99F000042",
                  end_to_end_id="RF99F000042", family=TRANSFER, bank_code="CFONB 05", where="line 2"),
    ]
    other = "20041/01005/0500013M026"
    assert (second.account, second.statement_id) == (other, f"{other}@100326")
    assert second.entries == [
        BankEntry(account=other, bank_reference="VIR0310B", booked_on=date(2026, 3, 10), value_on=date(2026, 3, 11),
                  amount=eur(240000), direction=CREDIT, payer_name="VERHOEVEN BV",
                  remittance="VIR SEPA RECU VERHOEVEN BV", family=TRANSFER, bank_code="CFONB 05", where="line 7"),
    ]


def test_a_file_without_line_breaks_is_cut_every_120_characters() -> None:
    lines = (DATA / "cfonb120_statement.txt").read_text().splitlines()
    [statement] = read_statement("".join(lines).encode("latin-1"))
    assert [(e.bank_reference, e.amount.minor, e.where) for e in statement.entries] == [
        ("VIRREF0001", 125000, "line 2"), ("VIRREF0002", 80000, "line 6"), ("PRLVRET0003", 15000, "line 9"),
        ("VIRINT0004", 91540, "line 12"), ("0000005", 1250, "line 15")]


def _fails(lines: list[str]) -> BankFileUnreadable:
    with pytest.raises(BankFileUnreadable) as caught:
        read_statement(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return caught.value


def _lines() -> list[str]:
    return (DATA / "cfonb120_statement.txt").read_text().splitlines()


def test_a_record_of_119_characters_names_its_line() -> None:
    lines = _lines()
    lines[2] = lines[2][:119]
    error = _fails(lines)
    assert error.figures["where"] == "line 3"
    assert "119" in error.detail


def test_an_amount_with_a_bad_sign_character_names_its_line() -> None:
    lines = _lines()
    lines[5] = lines[5][:103] + "X" + lines[5][104:]
    assert _fails(lines).figures["where"] == "line 6"


def test_a_bad_value_date_names_its_line() -> None:
    lines = _lines()
    lines[8] = lines[8][:42] + "310226" + lines[8][48:]
    assert _fails(lines).figures["where"] == "line 9"


def test_a_cut_file_without_its_new_balance_is_refused() -> None:
    error = _fails(_lines()[:-1])
    assert error.figures["where"] == "line 1"
    assert "07" in error.detail


def test_a_complement_before_any_movement_or_an_unknown_record_is_refused() -> None:
    lines = _lines()
    assert _fails([lines[0], lines[2], *lines[1:]]).figures["where"] == "line 2"
    assert _fails([lines[0], "09" + lines[1][2:], *lines[2:]]).figures["where"] == "line 2"


def test_a_short_first_record_is_still_read_as_cfonb_and_named() -> None:
    lines = _lines()
    lines[0] = lines[0][:119]
    assert _fails(lines).figures["where"] == "line 1"


def test_a_record_for_another_account_inside_a_statement_is_refused() -> None:
    lines = _lines()
    lines[5] = lines[5][:21] + "99999999999" + lines[5][32:]
    assert _fails(lines).figures["where"] == "line 6"


def test_a_valid_rf_written_in_a_label_complement_is_the_structured_reference() -> None:
    lines = _lines()
    lines[7] = lines[7][:48] + "REF RF33 F000 043".ljust(70) + lines[7][118:]
    entry = read_statement(("\n".join(lines)).encode("latin-1"))[0].entries[1]
    assert entry.creditor_reference == "RF33F000043"
    assert entry.remittance == "VIR SEPA RECU DUPONT SARL REF RF33 F000 043"


def test_the_interbank_operation_code_gives_the_family_and_an_unpaid_direct_debit_its_iso_reason() -> None:
    [statement] = read_statement((DATA / "cfonb120_families.txt").read_bytes())
    assert [(e.direction, e.family, e.bank_code, e.is_return, e.return_reason, e.end_to_end_id)
            for e in statement.entries] == [
        # 05: a SEPA transfer received; its RCN (the payer's end-to-end id) does not make it a direct debit
        (CREDIT, TRANSFER, "CFONB 05", False, None, "E2E-VERH-77"),
        (CREDIT, DIRECT_DEBIT, "CFONB 08", False, None, "SDD-2026-0316"),      # direct debits we collected
        (CREDIT, TransactionFamily.CHEQUE, "CFONB 02", False, None, None),     # cheques deposited
        # 10 with reject reason 04 (provision insuffisante): AM04, the CFONB code kept in bank_code
        (DEBIT, DIRECT_DEBIT, "CFONB 10 motif 04", True, "AM04", "SDD-2026-0316"),
        (DEBIT, CHARGES, "CFONB 13", False, None, None),
    ]


def test_a_reject_reason_without_iso_equivalent_stays_a_cfonb_code_and_an_unknown_operation_is_other() -> None:
    lines = (DATA / "cfonb120_families.txt").read_text().splitlines()
    lines[10] = lines[10][:32] + "ZZ" + lines[10][34:40] + "77" + lines[10][42:]
    returned = read_statement(("\r\n".join(lines) + "\r\n").encode("latin-1"))[0].entries[3]
    assert (returned.family, returned.bank_code, returned.reversal, returned.return_reason) == (
        TransactionFamily.OTHER, "CFONB ZZ motif 77", True, "CFONB:77")
