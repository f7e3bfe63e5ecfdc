"""A bank's CSV export read through a declared column mapping; and the detection of every format."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ar.adapters.bank_files import CsvMapping, detect_format, read_statement
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, Direction, TransactionFamily
from ar.domain.money import Money

DATA = Path(__file__).parents[1] / "data" / "bank"
CREDIT, DEBIT = Direction.CREDIT, Direction.DEBIT
TRANSFER, DIRECT_DEBIT, CHARGES = TransactionFamily.TRANSFER, TransactionFamily.DIRECT_DEBIT, TransactionFamily.CHARGES
OURS = "FR7630006000011234567890189"

FRENCH = CsvMapping(booked_on="Date operation", value_on="Date valeur", amount="Montant", currency="Devise",
                    payer_name="Nom emetteur", payer_iban="IBAN emetteur", remittance="Libelle",
                    reference="Reference", return_reason="Motif retour", header_row=2, account_id=OURS)
DUTCH = CsvMapping(booked_on="booking_date", value_on="value_date", credit="credit", debit="debit",
                   currency="currency", payer_name="counterparty", payer_iban="counterparty_iban",
                   remittance="details", reference="bank_ref", account="account", delimiter=",",
                   decimal_separator=".", date_format="%Y-%m-%d")


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_signed_amount_export_with_a_title_line_above_the_header() -> None:
    [statement] = read_statement((DATA / "csv_signed_amount.csv").read_bytes(), csv_mapping=FRENCH)
    assert (statement.format, statement.account, statement.currency) == ("csv", OURS, "EUR")
    assert statement.entries == [
        # a reference column holding a valid RF is the structured reference; a spaced IBAN is compacted
        BankEntry(account=OURS, bank_reference="RF60F000042", booked_on=date(2026, 3, 2), value_on=date(2026, 3, 2),
                  amount=eur(125000), direction=CREDIT, payer_name="ACME GmbH", payer_iban="DE89370400440532013000",
                  remittance="VIR SEPA ACME GMBH", creditor_reference="RF60F000042", family=TRANSFER, where="line 3"),
        # a quoted cell holding the delimiter; thousands written with a space ("1 250,00" above)
        BankEntry(account=OURS, bank_reference="VIR-0002", booked_on=date(2026, 3, 2), value_on=date(2026, 3, 3),
                  amount=eur(80000), direction=CREDIT, payer_name="Dupont; Fils SARL",
                  payer_iban="FR1420041010050500013M02606",
                  remittance="VIR SEPA DUPONT Facture F-000043 et F-000044", family=TRANSFER, where="line 4"),
        BankEntry(account=OURS, bank_reference="PRLV-0003", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 3),
                  amount=eur(15000), direction=DEBIT, payer_name="Petit et Fils", payer_iban=None,
                  remittance="IMPAYE PRLV SEPA PETIT AC06", return_reason="AC06", reversal=True, where="line 5"),
        BankEntry(account=OURS, bank_reference="FRAIS-0004", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 3),
                  amount=eur(1250), direction=DEBIT, remittance="FRAIS TENUE DE COMPTE", where="line 6"),
    ]


def test_credit_and_debit_columns_with_the_account_in_a_column() -> None:
    [statement] = read_statement((DATA / "csv_credit_debit.csv").read_bytes(), csv_mapping=DUTCH)
    nl = "NL91ABNA0417164300"
    assert statement.account == nl
    assert statement.entries == [
        BankEntry(account=nl, bank_reference="ABN-1", booked_on=date(2026, 3, 9), value_on=date(2026, 3, 9),
                  amount=eur(48000), direction=CREDIT, payer_name="Leroy Batiment",
                  payer_iban="FR1420041010050500013M02606", remittance="Invoice F-000042",
                  family=TRANSFER, where="line 2"),
        BankEntry(account=nl, bank_reference="ABN-2", booked_on=date(2026, 3, 9), value_on=date(2026, 3, 10),
                  amount=eur(240000), direction=CREDIT, payer_name="Verhoeven BV", payer_iban=nl,
                  remittance="Ref RF18 5390 0754 7034", creditor_reference="RF18539007547034",
                  family=TRANSFER, where="line 3"),
        BankEntry(account=nl, bank_reference="ABN-3", booked_on=date(2026, 3, 10), value_on=date(2026, 3, 10),
                  amount=eur(320), direction=DEBIT, remittance="Kosten", where="line 4"),
    ]


def _fails(content: bytes, mapping: CsvMapping) -> BankFileUnreadable:
    with pytest.raises(BankFileUnreadable) as caught:
        read_statement(content, csv_mapping=mapping)
    return caught.value


def test_a_bad_date_names_its_line() -> None:
    content = (DATA / "csv_signed_amount.csv").read_bytes().replace(b"02/03/2026;03/03/2026", b"02/03/2026;2026-03-03")
    error = _fails(content, FRENCH)
    assert error.figures["where"] == "line 4"
    assert "Date valeur" in error.detail


def test_a_bad_amount_a_missing_column_or_both_sides_filled_are_refused() -> None:
    content = (DATA / "csv_signed_amount.csv").read_bytes()
    assert _fails(content.replace(b"-12,50", b"-12,5O"), FRENCH).figures["where"] == "line 6, Montant"
    assert _fails(content.replace(b"-12,50", b"-12,505"), FRENCH).figures["where"] == "line 6"
    assert _fails(content.replace(b"Devise;", b"Currency;"), FRENCH).figures["where"] == "line 2"
    dutch = (DATA / "csv_credit_debit.csv").read_bytes().replace(b",,3.20,", b",1.00,3.20,")
    assert _fails(dutch, DUTCH).figures["where"] == "line 4"


def test_two_accounts_in_one_csv_are_refused() -> None:
    content = (DATA / "csv_credit_debit.csv").read_bytes().replace(b"NL91ABNA0417164300,2026-03-10",
                                                                  b"NL02ABNA0123456789,2026-03-10")
    assert _fails(content, DUTCH).figures["where"] == "file"


def test_a_mapping_needs_one_way_to_read_the_amount_and_an_account() -> None:
    with pytest.raises(ValueError):
        CsvMapping(booked_on="d", amount="a", credit="c", account_id=OURS)
    with pytest.raises(ValueError):
        CsvMapping(booked_on="d", amount="a")


@pytest.mark.parametrize(("name", "expected"), [
    ("camt053_v02_statement.xml", "camt.053"), ("camt053_v08_two_statements.xml", "camt.053"),
    ("camt054_v04_notification.xml", "camt.054"), ("mt940_german_two_statements.sta", "mt940"),
    ("mt940_swift_keyed.sta", "mt940"), ("cfonb120_statement.txt", "cfonb120"),
    ("cfonb120_two_statements.txt", "cfonb120"),
])
def test_each_format_is_recognised_from_its_content(name: str, expected: str) -> None:
    assert detect_format((DATA / name).read_bytes()) == expected


def test_a_csv_is_read_only_with_a_mapping() -> None:
    content = (DATA / "csv_signed_amount.csv").read_bytes()
    assert detect_format(content, csv_mapping=FRENCH) == "csv"
    with pytest.raises(BankFileUnreadable) as caught:
        read_statement(content)
    assert caught.value.figures["where"] == "line 1"
    with pytest.raises(BankFileUnreadable):
        read_statement(content, format="csv")


def test_an_unknown_format_name_is_refused() -> None:
    with pytest.raises(BankFileUnreadable):
        read_statement(b"anything", format="bai2")


def test_a_line_break_inside_a_quoted_cell_keeps_the_line_numbers_true() -> None:
    content = (DATA / "csv_credit_debit.csv").read_bytes().replace(b",Invoice F-000042,", b',"Invoice\nF-000042",')
    entries = read_statement(content, csv_mapping=DUTCH)[0].entries
    assert [(e.remittance, e.where) for e in entries] == [
        ("Invoice\nF-000042", "line 3"), ("Ref RF18 5390 0754 7034", "line 4"), ("Kosten", "line 5")]
    assert _fails(content.replace(b"2026-03-10,,3.20", b"10/03/2026,,3.20"), DUTCH).figures["where"] == "line 5"


FAMILIES = CsvMapping(booked_on="Date", value_on="Valeur", amount="Montant", family="Type", remittance="Libelle",
                      payer_name="Nom", payer_iban="IBAN", reference="Reference", return_reason="Motif",
                      account_id=OURS)


def test_a_mapped_type_column_gives_the_family_by_our_name_or_the_banks_iso_code() -> None:
    [statement] = read_statement((DATA / "csv_families.csv").read_bytes(), csv_mapping=FAMILIES)
    assert [(e.direction, e.family, e.bank_code, e.is_return, e.return_reason) for e in statement.entries] == [
        (CREDIT, TRANSFER, "PMNT/RCDT/ESCT", False, None),
        (CREDIT, DIRECT_DEBIT, "PMNT/IDDT/ESDD", False, None),
        (CREDIT, TransactionFamily.CARD, "card", False, None),
        (CREDIT, TransactionFamily.CHEQUE, "cheque", False, None),
        (DEBIT, DIRECT_DEBIT, "PMNT/IDDT/UPDD", True, "AM04"),
        (DEBIT, CHARGES, "charges", False, None),
    ]


def test_without_a_type_a_credit_is_a_transfer_a_debit_unknown_and_an_unknown_type_is_other() -> None:
    content = (DATA / "csv_families.csv").read_bytes().replace(b";card;", b";;").replace(b";charges;", b";;")
    entries = read_statement(content.replace(b";cheque;", b";VIR SEPA;"), csv_mapping=FAMILIES)[0].entries
    assert [(e.family, e.bank_code) for e in entries[2:4]] == [(TRANSFER, None), (TransactionFamily.OTHER, "VIR SEPA")]
    assert (entries[5].family, entries[5].bank_code) == (None, None)
