"""SWIFT MT940 statements, read with the `mt-940` package (module `mt940`): one `BankStatement` per `:20:` block.

`mt940` parses the tags and the German structured `:86:` (`?00` posting text, `?20`..`?29` remittance with the SEPA
keywords `EREF+`, `KREF+`, `SVWZ+`, `?30` BIC, `?31` IBAN, `?32`/`?33` name). Read here: `?38` (the payer's IBAN at
some banks) and the SWIFT-keyed `:86:` that French and Dutch banks write (`/EREF/`, `/REMI/`, `/ORDP//NAME/`,
`/CNTP/iban/bic/name/`, `/RTRN/`, `/OCMT/`).
Before the package runs, every `:61:` line is checked against the field's layout (value date, optional entry date,
debit/credit mark, amount) so that a bad line is named by its number.

Marks: `C` credit, `D` debit, `RC` reversal of a credit (a debit: a returned direct debit), `RD` reversal of a debit
(a credit). The return reason is the ISO code given with `/RTRN/` or, on a reversal, an ISO return code written in the
details (AC06, MD06, ...). The `:61:` value date is the value date; its entry date (MMDD, the year inferred by
`mt940` around a year end) the booking date.

The family comes from the German GVC (the three digits opening a structured `:86:`) when it names one, else from
the `:61:` transaction type (NTRF, NDDT, NCHK, NCHG, S103...). A return is a reversal mark (`RC`: a credit
reversed, money out; `RD`: a debit reversed, money in), a GVC or type that names one (109 a returned SEPA direct
debit, even with a plain `D` mark; NRTI a returned item), or `/RTRN/`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import mt940

from ar.adapters.bank_files import families
from ar.adapters.bank_files._common import (
    currency_of,
    decimal_of,
    decode_text,
    foreign_money,
    joined,
    money_of,
    rf_in_text,
    valid_bic,
    valid_iban,
)
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, BankStatement, Direction

_OPTIONS = mt940.Options(applicant_iban=True, merge_keeps_values=True, reversal_sign=False,
                         case_insensitive_marks=True, unbounded_details=True, strip_bom=True)
_LINE_61 = re.compile(r"^:61:\d{6}(\d{4}|\s{4})?R?[DCdc][A-Z]?\d[\d,]{0,14}")
_SWIFT_KEYS = re.compile(r"/(EREF|REMI|ORDP|BENM|NAME|IBAN|BIC|CNTP|RTRN|OCMT|PREF|TRCD|ID|MARF|CSID|ADDR)/")
_RETURN_CODE = re.compile(r"\b(AC0[1-6]|AC13|AG0[12]|AM0[45]|BE05|CNOR|DNOR|FF01|MD0[1-7]|MS0[23]|RC01|RR0[1-4]|"
                          r"SL01|FOCR|DUPL|TECH|FRAD|CUST|AM09|AC03)\b")
_OCMT = re.compile(r"/OCMT/([A-Z]{3})(\d+,\d*)/")


def looks_like(text: str) -> bool:
    return all(re.search(rf"(?m)^{tag}", text) for tag in (":20:", ":25:", ":60[FM]:"))


@dataclass(frozen=True)
class _Line61:
    number: int                  # the line of the `:61:` tag
    details: str = ""            # its `:86:` as written (continuation lines joined), for what `mt940` drops


@dataclass
class _Block:
    number: int                  # the line of the `:20:` tag
    lines: list[_Line61] = field(default_factory=list)


_TAG = re.compile(r"^:(\d\d[A-Z]?):")


def _check_61(line: str, number: int) -> None:
    if not _LINE_61.match(line):
        raise BankFileUnreadable("a :61: statement line needs a value date, a debit/credit mark and an amount",
                                 where=f"line {number}")
    try:
        date(2000 + int(line[4:6]), int(line[6:8]), int(line[8:10]))
    except ValueError as error:
        raise BankFileUnreadable(f"value date {line[4:10]!r} is not YYMMDD", where=f"line {number}") from error


def _blocks(text: str) -> list[_Block]:
    """Each `:20:` block's `:61:` tags with their raw `:86:`, every `:61:` checked against the field's layout."""
    blocks: list[_Block] = []
    last_tag = ""
    for number, line in enumerate(text.splitlines(), start=1):
        tag = _TAG.match(line)
        if tag is None:
            if last_tag == "86" and line != "-" and blocks and blocks[-1].lines:
                blocks[-1].lines[-1] = replace(blocks[-1].lines[-1], details=blocks[-1].lines[-1].details + line)
            continue
        previous, last_tag = last_tag, tag.group(1)
        if last_tag == "20":
            blocks.append(_Block(number))
        elif last_tag == "61":
            _check_61(line, number)
            if not blocks:
                raise BankFileUnreadable("a :61: statement line before any :20:", where=f"line {number}")
            blocks[-1].lines.append(_Line61(number))
        elif last_tag == "86" and previous == "61" and blocks and blocks[-1].lines:
            blocks[-1].lines[-1] = replace(blocks[-1].lines[-1], details=line[4:])
        elif last_tag == "86":
            last_tag = "86-statement"  # the statement's own information, not a transaction's
    return blocks


def read_mt940(content: bytes) -> list[BankStatement]:
    text = decode_text(content).replace("\r\n", "\n")
    blocks = _blocks(text)
    try:
        parsed = mt940.parse_statements(text, options=_OPTIONS)
    except Exception as error:  # the package raises RuntimeError, ValueError, KeyError... on a malformed tag
        raise BankFileUnreadable(f"MT940 not readable: {str(error).splitlines()[0][:200]}", where="file") from error
    if not parsed:
        raise BankFileUnreadable("no :20: statement in the file", where="line 1")
    if len(parsed) != len(blocks) or any(len(statement) != len(block.lines)
                                         for statement, block in zip(parsed, blocks, strict=True)):
        raise BankFileUnreadable("the :61: lines do not match the statements read", where="file")
    return [_statement(statement, block) for statement, block in zip(parsed, blocks, strict=True)]


def _statement(parsed: Any, block: _Block) -> BankStatement:
    data: dict[str, Any] = dict(parsed.data)
    where = f"line {block.number}"
    raw_account = str(data.get("account_identification") or "").strip()
    if not raw_account:
        raise BankFileUnreadable("the statement has no :25: account", where=where)
    account = valid_iban(raw_account) or raw_account
    balance = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    if balance is None:
        raise BankFileUnreadable("the statement has no :60F:/:60M: opening balance", where=where)
    currency = currency_of(balance.amount.currency, where)
    entries = [_entry(dict(tx.data), line.details, account, currency, f"line {line.number}")
               for tx, line in zip(parsed, block.lines, strict=True)]
    return BankStatement(format="mt940", account=account, currency=currency,
                         statement_id=_statement_id(data), entries=entries)


def _statement_id(data: dict[str, Any]) -> str | None:
    """`:20:` and `:28C:` (banks reuse one `:20:` for every statement: the statement number tells them apart)."""
    reference = str(data.get("transaction_reference") or "").strip()
    number = "/".join(str(data[key]) for key in ("statement_number", "sequence_number") if data.get(key))
    return "/".join(part for part in (reference, number) if part) or None


def _subfield(details: str, key: str) -> str | None:
    """A German `?NN` sub-field `mt940` does not map (`?38`, the payer's IBAN at some banks)."""
    found = re.search(rf"\?{key}([^?]*)", details)
    return found.group(1).strip() if found else None


def _swift_fields(details: str) -> dict[str, str]:
    """`/KEY/value` pairs of a SWIFT-keyed :86: (a value may itself hold `/`, as `/ORDP//NAME/x`)."""
    fields: dict[str, str] = {}
    marks = list(_SWIFT_KEYS.finditer(details))
    for position, mark in enumerate(marks):
        end = marks[position + 1].start() if position + 1 < len(marks) else len(details)
        fields.setdefault(mark.group(1), details[mark.end():end].strip("/ "))
    return fields


def _entry(tx: dict[str, Any], raw_86: str, account: str, currency: str, where: str) -> BankEntry:
    mark = str(tx.get("status") or "").upper()
    amount_value = Decimal(abs(tx["amount"].amount))
    amount = money_of(amount_value, currency_of(tx.get("currency") or currency, where), where)
    direction = Direction.CREDIT if mark in {"C", "RD"} else Direction.DEBIT
    value_on: date = date(tx["date"].year, tx["date"].month, tx["date"].day)
    entry = tx.get("entry_date") or tx["date"]
    booked_on = date(entry.year, entry.month, entry.day)
    # The :86: as written under this :61: (mt940 also appends a statement's closing :86: to its last entry).
    german = re.match(r"^\d{3}\?", raw_86) is not None
    fields = _swift_fields(raw_86) if not german and _SWIFT_KEYS.search(raw_86) else {}
    if fields:
        counterparty = fields.get("CNTP", "").split("/")
        name = fields.get("NAME") or (counterparty[2] if len(counterparty) > 2 else None)
        iban = fields.get("IBAN") or (counterparty[0] if counterparty else None)
        bic = fields.get("BIC") or (counterparty[1] if len(counterparty) > 1 else None)
        ordp = fields.get("ORDP", "")
        if not name and "NAME/" in ordp:
            name = ordp.split("NAME/", 1)[1].split("/")[0]
        remittance = joined(fields.get("REMI", "").removeprefix("USTD//").removeprefix("USTD/"))
        end_to_end = fields.get("EREF")
        explicit_return = fields.get("RTRN", "").split("/")[0] or None
    elif german:
        name = tx.get("applicant_name")
        iban = tx.get("applicant_iban") or tx.get("gvc_applicant_iban") or _subfield(raw_86, "38")
        bic = tx.get("applicant_bin") or tx.get("gvc_applicant_bin")
        remittance = joined(tx.get("purpose"), tx.get("additional_purpose"))
        end_to_end = tx.get("end_to_end_reference")
        explicit_return = None
    else:  # free text: all of it is remittance
        name = iban = bic = end_to_end = explicit_return = None
        remittance = joined(raw_86)
    code = _code(tx, raw_86 if german else "")
    reversal = mark.startswith("R") or explicit_return is not None or bool(code and code.returned)
    return_reason = explicit_return
    if reversal and return_reason is None:
        found = _RETURN_CODE.search(" ".join(str(v) for v in (remittance, tx.get("return_debit_notes"),
                                                            tx.get("posting_text")) if v))
        return_reason = found.group(1) if found else None
    original = None
    ocmt = _OCMT.search(f"{tx.get('extra_details') or ''} {raw_86}")
    if ocmt and ocmt.group(1) != amount.currency:
        original = foreign_money(decimal_of(ocmt.group(2), where, comma=True), ocmt.group(1))
    bank_reference = str(tx.get("bank_reference") or "").strip() or str(tx.get("customer_reference") or "").strip()
    return BankEntry(
        account=account, bank_reference=bank_reference, booked_on=booked_on, value_on=value_on, amount=amount,
        direction=direction, payer_name=(name or "").strip() or None, payer_iban=valid_iban(iban),
        payer_bic=valid_bic(bic), remittance=remittance, creditor_reference=rf_in_text(remittance),
        end_to_end_id=(end_to_end or "").strip() or None if end_to_end != "NOTPROVIDED" else None,
        return_reason=return_reason, reversal=reversal, original_amount=original,
        family=code.family if code else None, bank_code=code.code if code else None, where=where,
    )


def _code(tx: dict[str, Any], german_86: str) -> families.Classified | None:
    """The GVC when it classifies the entry, else the `:61:` type; `bank_code` keeps both (`NDDT 109`)."""
    by_type = families.swift_type(str(tx.get("id") or ""))
    by_gvc = families.gvc(german_86[:3]) if german_86 else None
    written = " ".join(str(found.code).removeprefix("GVC ") for found in (by_type, by_gvc) if found) or None
    chosen = by_gvc if by_gvc is not None and (by_gvc.family is not families.OTHER or by_type is None) else by_type
    if chosen is None or written is None:
        return None
    return families.Classified(chosen.family, chosen.returned or bool(by_type and by_type.returned), written)
