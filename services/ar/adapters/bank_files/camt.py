"""ISO 20022 camt.053 (bank-to-customer statement) and camt.054 (debit/credit notification), versions .001.02 to
.001.08, read namespace-agnostically with the standard library's ElementTree through `defusedxml` (installed with
fpdf2), which refuses DTDs, entity declarations and external references: no entity is ever expanded or fetched.

Why not `pycamt` (1.1.1, evaluated and removed from the dependencies): it reads camt.053 only (no camt.054
`Ntfctn`), flattens every statement into one list (a file with two `Stmt` loses which account an entry is on), takes
the first `Amt` found anywhere under an entry (with `AmtDtls` present it can be an instructed amount), and reads
neither the return reason (`RtrInf/Rsn/Cd`), the instructed amount in another currency (`AmtDtls/InstdAmt`), the
charges, nor the payer's BIC; its values are untyped strings and version 2's `TxDtls/AmtDtls/TxAmt` is not read.
What it would add over ElementTree is a thin layer we would have to wrap and patch anyway.

Only booked entries are read (`Sts` BOOK, or `Sts/Cd` BOOK from .001.08): a pending or information entry is not
money on the account. A batch booking (several `TxDtls` under one `Ntry`) gives one `BankEntry` per transaction with
its own amount and `index`; a single transaction takes the entry's amount.

The family comes from the bank transaction code (`BkTxCd`: the ISO domain/family/sub-family, else the bank's
`Prtry` code), the transaction's own when it has one, else its entry's (`families`). A return is a reversal
(`RvslInd`) or an entry whose sub-family names one (UPDD, RRTN...): a bank booking a returned direct debit as
PMNT/IDDT/UPDD does not always set `RvslInd`; its reason is `RtrInf/Rsn/Cd`."""

from __future__ import annotations

import re
from datetime import date
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _fromstring

from ar.adapters.bank_files import families
from ar.adapters.bank_files._common import (
    currency_of,
    decimal_of,
    foreign_money,
    iso_date,
    joined,
    money_of,
    rf_in_text,
    split_reference,
    valid_bic,
    valid_iban,
)
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, BankStatement, Direction
from ar.domain.money import Money

NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:(camt\.05[34])\.001\.0([2-8])\}Document$")


def fromstring(content: bytes) -> Element:
    root = _fromstring(content, forbid_dtd=True)
    assert isinstance(root, Element)
    return root


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [child for child in element if _local(child) == name]


def _find(element: Element | None, path: str) -> Element | None:
    """The first element at a slash path of local names (namespace ignored)."""
    current = element
    for name in path.split("/"):
        found = _children(current, name)
        if not found:
            return None
        current = found[0]
    return current


def _text(element: Element | None, path: str) -> str | None:
    found = _find(element, path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _first_text(element: Element | None, *paths: str) -> str | None:
    for path in paths:
        value = _text(element, path)
        if value is not None:
            return value
    return None


def format_of(content: bytes) -> str | None:
    """camt.053 or camt.054 when the root is one of the versions read here, else None."""
    try:
        root = fromstring(content)
    except (ParseError, DefusedXmlException, LookupError, ValueError):
        return None
    match = NAMESPACE.match(root.tag)
    return match.group(1) if match else None


def read_camt(content: bytes) -> list[BankStatement]:
    try:
        root = fromstring(content)
    except ParseError as error:
        line, column = error.position
        raise BankFileUnreadable(f"XML is not well-formed: {str(error).split(':')[0]}",
                                 where=f"line {line}, column {column}") from error
    except DefusedXmlException as error:
        raise BankFileUnreadable(f"XML declares entities or a DTD, refused: {error}", where="line 1") from error
    except (LookupError, ValueError) as error:  # an encoding Python does not know, or one expat cannot read
        raise BankFileUnreadable(f"XML declaration not usable: {error}", where="line 1") from error
    match = NAMESPACE.match(root.tag)
    if match is None:
        raise BankFileUnreadable(f"root {root.tag!r} is not a camt.053/.054 .001.02 to .001.08 Document",
                                 where="Document")
    kind = match.group(1)
    message = _find(root, "BkToCstmrStmt" if kind == "camt.053" else "BkToCstmrDbtCdtNtfctn")
    part = "Stmt" if kind == "camt.053" else "Ntfctn"
    blocks = _children(message, part)
    if not blocks:
        raise BankFileUnreadable(f"no {part} in the message", where="Document")
    return [_statement(kind, block, f"{part}[{number}]") for number, block in enumerate(blocks, start=1)]


def _statement(kind: str, block: Element, where: str) -> BankStatement:
    account = _first_text(block, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    if account is None:
        raise BankFileUnreadable("no account (Acct/Id/IBAN or Acct/Id/Othr/Id)", where=f"{where}/Acct")
    entries_xml = _children(block, "Ntry")
    first_amount = _find(entries_xml[0], "Amt") if entries_xml else None
    declared = _text(block, "Acct/Ccy") or (first_amount.get("Ccy") if first_amount is not None else None)
    if declared is None:
        balance = _find(block, "Bal/Amt")
        declared = balance.get("Ccy") if balance is not None else None
    currency = currency_of(declared, f"{where}/Acct/Ccy")
    entries: list[BankEntry] = []
    for number, ntry in enumerate(entries_xml, start=1):
        entries.extend(_entries(ntry, account.replace(" ", ""), f"{where}/Ntry[{number}]"))
    return BankStatement(format=kind, account=account.replace(" ", ""), currency=currency,
                         statement_id=_text(block, "Id"), entries=entries)


def _booked(ntry: Element) -> bool:
    status = _first_text(ntry, "Sts/Cd", "Sts")
    return status is None or status.upper() == "BOOK"


def _amount(element: Element, path: str, where: str) -> Money:
    amt = _find(element, path)
    if amt is None:
        raise BankFileUnreadable("missing amount", where=f"{where}/{path}")
    currency = currency_of(amt.get("Ccy"), f"{where}/{path}/@Ccy")
    return money_of(decimal_of(amt.text, f"{where}/{path}"), currency, f"{where}/{path}")


def _direction(text: str | None, where: str) -> Direction:
    if text == "CRDT":
        return Direction.CREDIT
    if text == "DBIT":
        return Direction.DEBIT
    raise BankFileUnreadable(f"credit/debit indicator {text!r} is neither CRDT nor DBIT", where=where)


def _entries(ntry: Element, account: str, where: str) -> list[BankEntry]:
    if not _booked(ntry):
        return []
    amount = _amount(ntry, "Amt", where)
    direction = _direction(_text(ntry, "CdtDbtInd"), f"{where}/CdtDbtInd")
    reversal = (_text(ntry, "RvslInd") or "").lower() in {"true", "1"}
    code = _code(ntry)
    booked_text = _first_text(ntry, "BookgDt/Dt", "BookgDt/DtTm")
    if booked_text is None:
        raise BankFileUnreadable("missing booking date", where=f"{where}/BookgDt")
    booked_on = iso_date(booked_text, f"{where}/BookgDt")
    value_text = _first_text(ntry, "ValDt/Dt", "ValDt/DtTm")
    value_on = iso_date(value_text, f"{where}/ValDt") if value_text else booked_on
    entry_ref = _first_text(ntry, "AcctSvcrRef", "NtryRef")
    details = [tx for dtls in _children(ntry, "NtryDtls") for tx in _children(dtls, "TxDtls")]
    if not details:
        return [BankEntry(account=account, bank_reference=entry_ref or "", booked_on=booked_on, value_on=value_on,
                          amount=amount, direction=direction, reversal=reversal or bool(code and code.returned),
                          remittance=_text(ntry, "AddtlNtryInf"), family=code.family if code else None,
                          bank_code=code.code if code else None, where=where)]
    entries = []
    for number, tx in enumerate(details, start=1):
        tx_where = f"{where}/NtryDtls/TxDtls[{number}]"
        if len(details) == 1:
            tx_amount = amount
        elif _find(tx, "Amt") is not None:
            tx_amount = _amount(tx, "Amt", tx_where)
        elif _find(tx, "AmtDtls/TxAmt/Amt") is not None:
            tx_amount = _amount(tx, "AmtDtls/TxAmt/Amt", tx_where)
        else:
            raise BankFileUnreadable("a transaction of a batch booking has no amount", where=f"{tx_where}/Amt")
        tx_direction = direction
        if len(details) > 1 and _text(tx, "CdtDbtInd") is not None:
            tx_direction = _direction(_text(tx, "CdtDbtInd"), f"{tx_where}/CdtDbtInd")
        tx_code = _code(tx) or code  # a transaction's own code, else its entry's
        entries.append(_transaction(tx, tx_where, account=account, reference=entry_ref, index=number - 1,
                                    booked_on=booked_on, value_on=value_on, amount=tx_amount,
                                    direction=tx_direction, reversal=reversal or bool(tx_code and tx_code.returned),
                                    code=tx_code))
    return entries


def _code(element: Element) -> families.Classified | None:
    """The element's `BkTxCd`: the ISO domain, family and sub-family, else the bank's proprietary code."""
    domain = _text(element, "BkTxCd/Domn/Cd")
    if domain is not None:
        return families.iso(domain, _text(element, "BkTxCd/Domn/Fmly/Cd"), _text(element, "BkTxCd/Domn/Fmly/SubFmlyCd"))
    return families.proprietary(_text(element, "BkTxCd/Prtry/Cd"), _text(element, "BkTxCd/Prtry/Issr"))


def _transaction(tx: Element, where: str, *, account: str, reference: str | None, index: int, booked_on: date,
                 value_on: date, amount: Money, direction: Direction, reversal: bool,
                 code: families.Classified | None) -> BankEntry:
    # The payer is the debtor of a credit, and of a returned direct debit (the customer whose debit came back).
    side = "Dbtr" if direction is Direction.CREDIT or reversal else "Cdtr"
    name = _first_text(tx, f"RltdPties/{side}/Nm", f"RltdPties/{side}/Pty/Nm")
    iban = _text(tx, f"RltdPties/{side}Acct/Id/IBAN")
    bic = _first_text(tx, f"RltdAgts/{side}Agt/FinInstnId/BIC", f"RltdAgts/{side}Agt/FinInstnId/BICFI")
    rmt = _find(tx, "RmtInf")
    unstructured = [u.text.strip() for u in _children(rmt, "Ustrd") if u.text and u.text.strip()]
    structured, invalid_rf = None, None
    for strd in _children(rmt, "Strd"):
        ref, text = split_reference(_text(strd, "CdtrRefInf/Ref"))
        structured = structured or ref
        invalid_rf = joined(invalid_rf, text, _text(strd, "AddtlRmtInf"))
    remittance = joined(*unstructured, invalid_rf)
    instructed = _find(tx, "AmtDtls/InstdAmt/Amt")
    original = None
    if instructed is not None and instructed.get("Ccy") != amount.currency:
        original = foreign_money(decimal_of(instructed.text, f"{where}/AmtDtls/InstdAmt/Amt"), instructed.get("Ccy"))
    charges = None
    for path in ("Chrgs/Rcrd/Amt", "Chrgs/Amt"):
        if _find(tx, path) is not None:
            charges = _amount(tx, path, where)
            break
    tx_ref = _text(tx, "Refs/AcctSvcrRef")
    return BankEntry(
        account=account,
        bank_reference=reference or tx_ref or "",
        booked_on=booked_on, value_on=value_on,
        amount=amount, direction=direction, index=index,
        payer_name=name, payer_iban=valid_iban(iban), payer_bic=valid_bic(bic),
        remittance=remittance, creditor_reference=structured or rf_in_text(remittance),
        end_to_end_id=_text(tx, "Refs/EndToEndId") if _text(tx, "Refs/EndToEndId") != "NOTPROVIDED" else None,
        return_reason=_first_text(tx, "RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry"), reversal=reversal,
        original_amount=original, charges=charges, family=code.family if code else None,
        bank_code=code.code if code else None, where=where,
    )
