"""camt.053 / camt.054 statements read into BankStatements: every entry, exactly, and where a bad file is wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ar.adapters.bank_files import read_statement
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, Direction, TransactionFamily
from ar.domain.money import Money

DATA = Path(__file__).parents[1] / "data" / "bank"
OURS = "FR7630006000011234567890189"
CREDIT, DEBIT = Direction.CREDIT, Direction.DEBIT
TRANSFER, DIRECT_DEBIT, CHARGES = TransactionFamily.TRANSFER, TransactionFamily.DIRECT_DEBIT, TransactionFamily.CHARGES


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def test_camt053_v02_reads_every_booked_entry_with_batch_reversal_foreign_currency_and_references() -> None:
    [statement] = read_statement((DATA / "camt053_v02_statement.xml").read_bytes())
    assert (statement.format, statement.account, statement.currency, statement.statement_id) == (
        "camt.053", OURS, "EUR", "STMT-2026-03-03")
    ntry = "Stmt[1]/Ntry[{}]"
    assert statement.entries == [
        BankEntry(account=OURS, bank_reference="2026030200001", booked_on=date(2026, 3, 2), value_on=date(2026, 3, 2),
                  amount=eur(125000), direction=CREDIT, payer_name="ACME GmbH", payer_iban="DE89370400440532013000",
                  payer_bic="COBADEFFXXX", creditor_reference="RF60F000042", end_to_end_id="E2E-ACME-0001",
                  where=ntry.format(1) + "/NtryDtls/TxDtls[1]"),
        # a batch booking: one entry per transaction, each with its own amount (v2: AmtDtls/TxAmt) and index
        BankEntry(account=OURS, bank_reference="2026030200002", booked_on=date(2026, 3, 2), value_on=date(2026, 3, 3),
                  amount=eur(30000), direction=CREDIT, index=0, payer_name="Dupont SARL",
                  payer_iban="FR1420041010050500013M02606", remittance="Facture F-000043",
                  where=ntry.format(2) + "/NtryDtls/TxDtls[1]"),
        # an IBAN that does not validate is dropped, not kept
        BankEntry(account=OURS, bank_reference="2026030200002", booked_on=date(2026, 3, 2), value_on=date(2026, 3, 3),
                  amount=eur(50000), direction=CREDIT, index=1, payer_name="Martin SA", payer_iban=None,
                  remittance="Factures F-000044 et F-000045", end_to_end_id="MARTIN-2026-17",
                  where=ntry.format(2) + "/NtryDtls/TxDtls[2]"),
        BankEntry(account=OURS, bank_reference="2026030300003", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 3),
                  amount=eur(15000), direction=DEBIT, payer_name="Petit et Fils", payer_iban="BE68539007547034",
                  remittance="Prelevement F-000039", end_to_end_id="SDD-PETIT-0007", return_reason="AC06",
                  reversal=True, where=ntry.format(3) + "/NtryDtls/TxDtls[1]"),
        # foreign currency: the instructed USD amount beside the booked EUR, the charges; an invalid RF stays text
        BankEntry(account=OURS, bank_reference="2026030300004", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 4),
                  amount=eur(91540), direction=CREDIT, payer_name="Globex Corp", payer_iban="GB29NWBK60161331926819",
                  remittance="INV F-000046 RF99F000046", original_amount=Money(100000, "USD"), charges=eur(500),
                  where=ntry.format(4) + "/NtryDtls/TxDtls[1]"),
        # Ntry[5] is pending (PDNG): not money on the account yet, not read
        BankEntry(account=OURS, bank_reference="2026030300006", booked_on=date(2026, 3, 3), value_on=date(2026, 3, 3),
                  amount=eur(1250), direction=DEBIT, remittance="FRAIS TENUE DE COMPTE", where=ntry.format(6)),
    ]


def test_camt053_v08_file_with_two_statements_gives_two_statements_on_their_own_accounts() -> None:
    first, second = read_statement((DATA / "camt053_v08_two_statements.xml").read_bytes())
    assert (first.account, first.currency, first.statement_id) == (OURS, "EUR", "FR76-0310")
    assert first.entries == [
        BankEntry(account=OURS, bank_reference="BNP0309A1", booked_on=date(2026, 3, 9), value_on=date(2026, 3, 9),
                  amount=eur(48000), direction=CREDIT, payer_name="Leroy Batiment",
                  payer_iban="FR1420041010050500013M02606", payer_bic="PSSTFRPPXXX",
                  remittance="Paiement facture F-000042 solde", end_to_end_id="E2E-LEROY-9",
                  where="Stmt[1]/Ntry[1]/NtryDtls/TxDtls[1]"),
        BankEntry(account=OURS, bank_reference="BNP0309R2", booked_on=date(2026, 3, 9), value_on=date(2026, 3, 6),
                  amount=eur(26000), direction=DEBIT, payer_name="Leroy Batiment",
                  payer_iban="FR1420041010050500013M02606", creditor_reference="RF33F000043",
                  end_to_end_id="SDD-0311", return_reason="MD06", reversal=True,
                  where="Stmt[1]/Ntry[2]/NtryDtls/TxDtls[1]"),
    ]
    chf = "0099-123456-01"
    assert (second.account, second.currency, second.statement_id) == (chf, "CHF", "CHF-0310")
    assert second.entries == [
        BankEntry(account=chf, bank_reference="UBS-77", booked_on=date(2026, 3, 9), value_on=date(2026, 3, 10),
                  amount=Money(100000, "CHF"), direction=CREDIT, index=0, payer_name="Helvetia Handel AG",
                  payer_iban="CH9300762011623852957", remittance="Rechnung F-000050",
                  original_amount=Money(106383, "EUR"), charges=Money(250, "CHF"),
                  where="Stmt[2]/Ntry[1]/NtryDtls/TxDtls[1]"),
        # an RF written in free text, spaced as printed, is found and validated
        BankEntry(account=chf, bank_reference="UBS-77", booked_on=date(2026, 3, 9), value_on=date(2026, 3, 10),
                  amount=Money(70000, "CHF"), direction=CREDIT, index=1, payer_name="Berger GmbH",
                  remittance="Ref RF06 F000 044", creditor_reference="RF06F000044",
                  where="Stmt[2]/Ntry[1]/NtryDtls/TxDtls[2]"),
    ]


def test_camt054_v04_notification_reads_structured_reference_and_a_charge() -> None:
    [notification] = read_statement((DATA / "camt054_v04_notification.xml").read_bytes())
    assert (notification.format, notification.account, notification.currency) == ("camt.054", OURS, "EUR")
    assert notification.entries == [
        BankEntry(account=OURS, bank_reference="CA-20260311-01", booked_on=date(2026, 3, 11),
                  value_on=date(2026, 3, 11), amount=eur(240000), direction=CREDIT, payer_name="Verhoeven BV",
                  payer_iban="NL91ABNA0417164300", payer_bic="ABNANL2A", remittance="two invoices",
                  creditor_reference="RF18539007547034", end_to_end_id="ORD-5521",
                  where="Ntfctn[1]/Ntry[1]/NtryDtls/TxDtls[1]"),
        BankEntry(account=OURS, bank_reference="CA-20260311-02", booked_on=date(2026, 3, 11),
                  value_on=date(2026, 3, 11), amount=eur(320), direction=DEBIT, remittance="COMMISSION VIREMENT",
                  family=CHARGES, bank_code="ACMT/MDOP/CHRG", where="Ntfctn[1]/Ntry[2]"),
    ]


@pytest.mark.parametrize("version", ["02", "03", "04", "05", "06", "07", "08"])
@pytest.mark.parametrize("kind", ["053", "054"])
def test_every_version_from_02_to_08_is_read(kind: str, version: str) -> None:
    text = (DATA / "camt054_v04_notification.xml").read_text()
    if kind == "053":
        text = text.replace("BkToCstmrDbtCdtNtfctn", "BkToCstmrStmt").replace("Ntfctn>", "Stmt>")
    text = text.replace("camt.054.001.04", f"camt.{kind}.001.{version}")
    [statement] = read_statement(text.encode())
    assert statement.format == f"camt.{kind}"
    assert [e.amount.minor for e in statement.entries] == [240000, 320]


def _fails(content: bytes) -> BankFileUnreadable:
    with pytest.raises(BankFileUnreadable) as caught:
        read_statement(content)
    return caught.value


def test_truncated_xml_names_the_line_where_it_breaks() -> None:
    content = (DATA / "camt053_v02_statement.xml").read_bytes()
    error = _fails(content[: content.index(b"<Ntry>", 2000)])
    assert error.figures["where"].startswith("line ")
    assert error.field == "file"


def test_an_entry_without_amount_names_the_element() -> None:
    content = (DATA / "camt054_v04_notification.xml").read_bytes()
    error = _fails(content.replace(b'<Amt Ccy="EUR">3.20</Amt>', b""))
    assert error.figures["where"] == "Ntfctn[1]/Ntry[2]/Amt"


def test_an_amount_finer_than_the_currency_is_refused_not_rounded() -> None:
    content = (DATA / "camt054_v04_notification.xml").read_bytes().replace(b">3.20<", b">3.205<")
    assert _fails(content).figures["where"] == "Ntfctn[1]/Ntry[2]/Amt"


def test_a_bad_booking_date_or_indicator_names_the_element() -> None:
    content = (DATA / "camt053_v08_two_statements.xml").read_bytes()
    bad_date = content.replace(b"<BookgDt><Dt>2026-03-09</Dt></BookgDt>", b"<BookgDt><Dt>09/03/2026</Dt></BookgDt>", 1)
    assert _fails(bad_date).figures["where"] == "Stmt[1]/Ntry[2]/BookgDt"
    bad_side = content.replace(b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>", 1)
    assert _fails(bad_side).figures["where"] == "Stmt[1]/Ntry[2]/CdtDbtInd"


def test_a_batch_transaction_without_amount_is_refused() -> None:
    content = (DATA / "camt053_v02_statement.xml").read_bytes()
    content = content.replace(b'<AmtDtls><TxAmt><Amt Ccy="EUR">500.00</Amt></TxAmt></AmtDtls>', b"")
    assert _fails(content).figures["where"] == "Stmt[1]/Ntry[2]/NtryDtls/TxDtls[2]/Amt"


def test_entities_are_never_expanded_nor_fetched() -> None:
    content = (b'<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
               b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>')
    error = _fails(content)
    assert "refused" in error.detail


def test_another_message_or_version_is_refused_at_the_root() -> None:
    content = (DATA / "camt054_v04_notification.xml").read_bytes().replace(b"camt.054.001.04", b"camt.054.001.12")
    assert _fails(content).figures["where"] == "Document"
    assert _fails(b"<Document><Other/></Document>").figures["where"] == "Document"


def test_a_declared_format_that_does_not_match_is_refused() -> None:
    with pytest.raises(BankFileUnreadable):
        read_statement((DATA / "camt054_v04_notification.xml").read_bytes(), format="camt.053")


def _families(entries: list[BankEntry]) -> list[tuple[str, TransactionFamily | None, str | None, bool, str | None]]:
    return [(e.direction.value, e.family, e.bank_code, e.is_return, e.return_reason) for e in entries]


def test_bank_transaction_codes_give_each_entry_its_family_and_a_return_without_reversal_indicator() -> None:
    [statement] = read_statement((DATA / "camt053_v08_families.xml").read_bytes())
    assert _families(statement.entries) == [
        # a SEPA credit transfer carries an end-to-end id too: its family says transfer
        ("credit", TRANSFER, "PMNT/RCDT/ESCT", False, None),
        ("credit", DIRECT_DEBIT, "PMNT/IDDT/ESDD", False, None),       # a direct debit we collected
        ("credit", TransactionFamily.CARD, "PMNT/MCRD/POSP", False, None),
        ("credit", TransactionFamily.CHEQUE, "PMNT/RCHQ/CCHQ", False, None),
        # UPDD: returned unpaid, a return though the bank set no RvslInd; the reason from RtrInf
        ("debit", DIRECT_DEBIT, "PMNT/IDDT/UPDD", True, "AM04"),
        ("debit", CHARGES, "PMNT/IDDT/CHRG", False, None),               # charges in any family are charges
    ]
    assert statement.entries[0].end_to_end_id == "E2E-VERH-77"


def test_a_proprietary_code_is_read_when_the_bank_gives_no_iso_domain() -> None:
    content = (DATA / "camt053_v08_families.xml").read_bytes()
    german = content.replace(b"<Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>",
                             b"<Prtry><Cd>NTRF+166+9310</Cd><Issr>DK</Issr></Prtry>")
    german = german.replace(b"<Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>",
                            b"<Prtry><Cd>NDDT+109+9310</Cd><Issr>DK</Issr></Prtry>")
    french = content.replace(b"<Domn><Cd>PMNT</Cd><Fmly><Cd>RCHQ</Cd><SubFmlyCd>CCHQ</SubFmlyCd></Fmly></Domn>",
                             b"<Prtry><Cd>02</Cd><Issr>CFONB</Issr></Prtry>")
    entries = read_statement(german)[0].entries
    assert (entries[0].family, entries[0].bank_code, entries[0].is_return) == (TRANSFER, "NTRF+166+9310", False)
    assert (entries[4].family, entries[4].bank_code, entries[4].is_return) == (DIRECT_DEBIT, "NDDT+109+9310", True)
    cheque = read_statement(french)[0].entries[3]
    assert (cheque.family, cheque.bank_code) == (TransactionFamily.CHEQUE, "CFONB 02")


def test_a_transaction_code_overrides_its_entry_code_and_an_unknown_code_is_other() -> None:
    content = (DATA / "camt053_v08_families.xml").read_bytes().replace(
        b"<Refs><InstrId>VERH-PAY-77</InstrId>",
        b"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>"
        b"<Refs><InstrId>VERH-PAY-77</InstrId>").replace(b"<Cd>MCRD</Cd>", b"<Cd>XXXX</Cd>")
    entries = read_statement(content)[0].entries
    # a returned transfer coming back to us is a credit reversal, not a return of a customer's payment
    assert (entries[0].family, entries[0].reversal, entries[0].is_return) == (TRANSFER, True, False)
    assert (entries[2].family, entries[2].bank_code) == (TransactionFamily.OTHER, "PMNT/XXXX/POSP")


def test_an_entry_without_bank_transaction_code_has_no_family_and_keeps_its_reversal() -> None:
    [statement] = read_statement((DATA / "camt053_v02_statement.xml").read_bytes())
    returned = statement.entries[3]
    assert (returned.family, returned.bank_code, returned.reversal, returned.is_return) == (None, None, True, True)
    assert [e.family for e in statement.entries if e.direction is CREDIT] == [None, None, None, None]
