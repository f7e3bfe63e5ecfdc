"""MT940 statements read with mt-940: the :61: line and its :86: details, German ?-fields and SWIFT-keyed ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ar.adapters.bank_files import read_statement
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, Direction, TransactionFamily
from ar.domain.money import Money

DATA = Path(__file__).parents[1] / "data" / "bank"
CREDIT, DEBIT = Direction.CREDIT, Direction.DEBIT
TRANSFER, DIRECT_DEBIT, CHARGES = TransactionFamily.TRANSFER, TransactionFamily.DIRECT_DEBIT, TransactionFamily.CHARGES


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_german_file_with_two_statements_reads_both_with_every_entry() -> None:
    first, second = read_statement((DATA / "mt940_german_two_statements.sta").read_bytes())
    account = "37040044/0532013000"  # bank code/account: no IBAN in :25:, kept as the bank writes it
    assert [(s.format, s.account, s.currency, s.statement_id) for s in (first, second)] == [
        ("mt940", account, "EUR", "STARTUMS/00042/001"), ("mt940", account, "EUR", "STARTUMS/00043/001")]
    assert first.entries == [
        BankEntry(account=account, bank_reference="4711030200001", booked_on=date(2026, 3, 2),
                  value_on=date(2026, 3, 2), amount=eur(125000), direction=CREDIT, payer_name="ACME GMBH",
                  payer_iban="DE89370400440532013000", payer_bic="COBADEFFXXX", remittance="RF60F000042",
                  creditor_reference="RF60F000042", end_to_end_id="E2E-ACME-0001",
                  family=TRANSFER, bank_code="NTRF 166", where="line 5"),
        # SVWZ+ continued over ?20/?21, the name over ?32/?33
        BankEntry(account=account, bank_reference="4711030300002", booked_on=date(2026, 3, 3),
                  value_on=date(2026, 3, 3), amount=eur(80000), direction=CREDIT, payer_name="MUELLER UND SOEHNE KG",
                  payer_iban="DE44500105175407324931", payer_bic="INGDDEFFXXX",
                  remittance="Rechnung F-000043 und F-000044", family=TRANSFER, bank_code="NTRF 166", where="line 8"),
        # RC: the reversal of a credit (a returned direct debit), a debit; the return code read from the details;
        # the ?31 IBAN does not validate and is dropped
        BankEntry(account=account, bank_reference="4711030400003", booked_on=date(2026, 3, 4),
                  value_on=date(2026, 3, 4), amount=eur(15000), direction=DEBIT, payer_name="PETIT GMBH",
                  payer_iban=None, remittance="AC06 KONTO GESPERRT F-000039", end_to_end_id="SDD-0007",
                  return_reason="AC06", reversal=True, family=DIRECT_DEBIT, bank_code="NDDT 109", where="line 11"),
    ]
    assert second.entries == [
        BankEntry(account=account, bank_reference="4711030500001", booked_on=date(2026, 3, 5),
                  value_on=date(2026, 3, 5), amount=eur(91540), direction=CREDIT, payer_name="GLOBEX CORP",
                  payer_iban="GB29NWBK60161331926819", remittance="INV F-000046 GLOBEX",
                  original_amount=Money(100000, "USD"), family=TRANSFER, bank_code="NTRF 166", where="line 20"),
        BankEntry(account=account, bank_reference="4711030500002", booked_on=date(2026, 3, 5),
                  value_on=date(2026, 3, 5), amount=eur(1250), direction=DEBIT, remittance="KONTOFUEHRUNG MAERZ",
                  family=CHARGES, bank_code="NCHG 805", where="line 23"),
    ]


def test_swift_keyed_details_give_payer_remittance_return_reason_and_original_amount() -> None:
    [statement] = read_statement((DATA / "mt940_swift_keyed.sta").read_bytes())
    ours = "FR7630006000011234567890189"
    assert (statement.account, statement.currency, statement.statement_id) == (ours, "EUR", "RELEVE0311/71/1")
    assert statement.entries == [
        BankEntry(account=ours, bank_reference="BNP0311C1", booked_on=date(2026, 3, 11), value_on=date(2026, 3, 11),
                  amount=eur(240000), direction=CREDIT, payer_name="Verhoeven BV", payer_iban="NL91ABNA0417164300",
                  payer_bic="ABNANL2A", remittance="Factures F-000042 F-000047", end_to_end_id="ORD-5521",
                  family=TRANSFER, bank_code="NTRF", where="line 5"),
        # value date 12 March, entry date 11 March (MMDD of the :61: line)
        BankEntry(account=ours, bank_reference="BNP0312R1", booked_on=date(2026, 3, 11), value_on=date(2026, 3, 12),
                  amount=eur(26000), direction=DEBIT, payer_name="Leroy Batiment",
                  payer_iban="FR1420041010050500013M02606", remittance="RF33F000043",
                  creditor_reference="RF33F000043", end_to_end_id="SDD-0311", return_reason="MD06", reversal=True,
                  family=DIRECT_DEBIT, bank_code="NDDT", where="line 7"),
        BankEntry(account=ours, bank_reference="BNP0312C2", booked_on=date(2026, 3, 12), value_on=date(2026, 3, 12),
                  amount=eur(106383), direction=CREDIT, payer_name="Helvetia Handel AG",
                  payer_iban="CH9300762011623852957", payer_bic="UBSWCHZH80A", remittance="Rechnung F-000050",
                  original_amount=Money(100000, "CHF"), family=TRANSFER, bank_code="NTRF", where="line 10"),
    ]


def test_reversal_of_a_debit_is_a_credit() -> None:
    content = (DATA / "mt940_swift_keyed.sta").read_bytes().replace(b"0311RC260,00", b"0311RD260,00")
    entry = read_statement(content)[0].entries[1]
    assert (entry.direction, entry.reversal, entry.return_reason) == (CREDIT, True, "MD06")


def _fails(content: bytes) -> BankFileUnreadable:
    with pytest.raises(BankFileUnreadable) as caught:
        read_statement(content)
    return caught.value


def test_a_statement_line_without_amount_names_its_line() -> None:
    content = (DATA / "mt940_german_two_statements.sta").read_bytes()
    error = _fails(content.replace(b":61:2603030303CR800,00NTRF", b":61:2603030303CRNTRF"))
    assert error.figures["where"] == "line 8"


def test_a_statement_line_without_mark_or_date_names_its_line() -> None:
    content = (DATA / "mt940_swift_keyed.sta").read_bytes()
    assert _fails(content.replace(b":61:2603120312C1063", b":61:26031203121063")).figures["where"] == "line 10"
    assert _fails(content.replace(b":61:2603110311C2400", b":61:2603C2400")).figures["where"] == "line 5"


def test_an_amount_finer_than_the_currency_is_refused() -> None:
    content = (DATA / "mt940_swift_keyed.sta").read_bytes().replace(b"C2400,00NTRF", b"C2400,005NTRF")
    assert _fails(content).figures["where"] == "line 5"


def test_an_impossible_value_date_names_its_line() -> None:
    content = (DATA / "mt940_swift_keyed.sta").read_bytes().replace(b":61:2603110311C", b":61:2602300311C")
    assert _fails(content).figures["where"] == "line 5"


def test_a_statement_without_opening_balance_names_its_first_line() -> None:
    content = (DATA / "mt940_german_two_statements.sta").read_bytes()
    error = _fails(content.replace(b":60F:C260304EUR11900,00\r\n", b""))
    assert error.figures["where"] == "line 16"
    assert ":60F:" in error.detail


def test_the_statements_own_information_is_not_read_into_its_last_entry() -> None:
    content = (DATA / "mt940_swift_keyed.sta").read_bytes() + b":86:?38DE89370400440532013000 SALDO INFO\n"
    last = read_statement(content)[0].entries[-1]
    assert (last.payer_iban, last.remittance) == ("CH9300762011623852957", "Rechnung F-000050")


def test_free_text_details_are_the_remittance() -> None:
    content = (DATA / "mt940_swift_keyed.sta").read_bytes()
    start = content.index(b":86:/EREF/ORD-5521")
    end = content.index(b"\n", start)
    content = content[:start] + b":86:VIREMENT DUPONT SARL FACTURE F-000043\nREF RF33 F000 043" + content[end:]
    first = read_statement(content)[0].entries[0]
    assert (first.payer_name, first.payer_iban, first.remittance, first.creditor_reference) == (
        None, None, "VIREMENT DUPONT SARL FACTURE F-000043REF RF33 F000 043", "RF33F000043")


def test_gvc_and_transaction_type_give_the_family_and_a_returned_direct_debit_is_a_return() -> None:
    [statement] = read_statement((DATA / "mt940_german_families.sta").read_bytes())
    assert [(e.direction, e.family, e.bank_code, e.reversal, e.is_return, e.return_reason)
            for e in statement.entries] == [
        # 166 with EREF+: a SEPA credit transfer, its end-to-end id no sign of a direct debit
        (CREDIT, TRANSFER, "NTRF 166", False, False, None),
        (CREDIT, DIRECT_DEBIT, "NDDT 171", False, False, None),              # SEPA direct debit collected
        (CREDIT, TransactionFamily.CARD, "NMSC 198", False, False, None),    # card clearing batch credit
        (DEBIT, DIRECT_DEBIT, "NDDT 109", True, True, "AM04"),               # RC + 109: returned, reason in SVWZ
        (DEBIT, CHARGES, "NCHG 808", False, False, None),
    ]
    assert statement.entries[0].end_to_end_id == "E2E-VERH-77"


def test_gvc_109_with_a_plain_debit_mark_is_still_a_return() -> None:
    content = (DATA / "mt940_german_families.sta").read_bytes().replace(b"0318RC350,00NDDT", b"0318D350,00NDDT")
    returned = read_statement(content)[0].entries[3]
    assert (returned.direction, returned.reversal, returned.is_return, returned.return_reason) == (
        DEBIT, True, True, "AM04")


def test_a_reversal_of_one_of_our_debits_is_money_in_not_a_return() -> None:
    content = (DATA / "mt940_german_families.sta").read_bytes().replace(
        b":61:2603180318DR7,50NCHG", b":61:2603180318RD7,50NCHG")
    refunded = read_statement(content)[0].entries[4]
    assert (refunded.direction, refunded.family, refunded.reversal, refunded.is_return) == (
        CREDIT, CHARGES, True, False)


def test_swift_type_codes_without_gvc() -> None:
    content = (DATA / "mt940_swift_keyed.sta").read_bytes()
    content = content.replace(b"0311RC260,00NDDT", b"0311D260,00NRTI").replace(b"C1063,83NTRF", b"C1063,83S103")
    entries = read_statement(content)[0].entries
    # NRTI: a returned item (family not given), a reversal read as a return
    assert (entries[1].family, entries[1].bank_code, entries[1].is_return) == (TransactionFamily.OTHER, "NRTI", True)
    assert (entries[2].family, entries[2].bank_code) == (TRANSFER, "S103")
