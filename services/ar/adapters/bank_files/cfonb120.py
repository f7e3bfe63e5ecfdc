"""CFONB 120: the French bank statement ("relevé de compte sur support informatique", 120-character records).

Written from the CFONB specification "Relevé de compte sur support informatique" (July 2004) and its update
"Evolutions du relevé de compte 120 caractères pour les opérations de virements et de prélèvements SEPA" (2007);
the column positions below were cross-checked against pennylane-hq/cfonb (lib/cfonb/line_parser/*.rb).
Positions are 1-based in the specification, written here as Python slices:

    all records   1-2 record code [0:2] · 3-7 bank code [2:7] · 8-11 internal operation code [7:11] (04/05)
                  12-16 branch [11:16] · 17-19 currency (ISO 4217) [16:19] · 20 number of decimals [19:20]
                  22-32 account number [21:32] · 33-34 interbank operation code [32:34] (04/05)
                  35-40 date DDMMYY [34:40] (balance date; operation date on 04)
    01 / 07       91-104 balance [90:104]
    04 movement   41-42 reject reason code [40:42] · 43-48 value date [42:48] · 49-79 label [48:79]
                  82-88 entry number [81:88] · 91-104 amount [90:104] · 105-120 reference [104:120]
    05 complement 46-48 qualifier [45:48] · 49-118 detail [48:118]

Amounts: the digits with the number of decimals of field 20; the last character carries the last digit and the sign
("{" and A-I for 0-9 positive, "}" and J-R for 0-9 negative). The qualifiers read from `05` records: LIB, LCC,
LC2, LCS (more label: remittance), NPY (payer's name), IPY (payer's identifier: kept as payer IBAN when it is a
valid IBAN), RCN (the payer's reference, 35 characters: end-to-end id, and the structured reference when it is a
valid RF; the rest is the purpose), REF (the remitter's reference), MMO (amount in the original currency:
currency, number of decimals, amount in 14 digits). Other qualifiers (IBE, the creditor's identifier, NBE, NBU...)
are ours or the bank's and are not read.

The family comes from the interbank operation code (positions 33-34: 05 a transfer received, 08 direct debits we
collected, 10 a direct debit returned unpaid, 02 cheques deposited, 13 charges...: `families`). A movement is a
reversal when its operation code names a return or it carries a reject reason code (positions 41-42); the reason
is the ISO code that CFONB reason corresponds to, else `CFONB:NN`, and `bank_code` keeps the operation and the
reason as written. The account is the bank code, branch and account number (`bank/branch/account`), the only
identifier the format carries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from ar.adapters.bank_files import families
from ar.adapters.bank_files._common import (
    currency_of,
    decode_text,
    foreign_money,
    joined,
    money_of,
    rf_in_text,
    split_reference,
    valid_iban,
)
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, BankStatement, Direction

RECORD = 120
_POSITIVE = {"{": 0, **{chr(ord("A") + n): n + 1 for n in range(9)}}
_NEGATIVE = {"}": 0, **{chr(ord("J") + n): n + 1 for n in range(9)}}
_LABEL_QUALIFIERS = {"LIB", "LCC", "LC2", "LCS"}


def records_of(text: str) -> list[str]:
    """The records, one per line; a file without line breaks is cut every 120 characters."""
    stripped = text.strip("\r\n\x1a")
    if "\n" not in stripped and len(stripped) > RECORD:
        return [stripped[start:start + RECORD] for start in range(0, len(stripped), RECORD)]
    return [line.rstrip("\r") for line in stripped.split("\n")]


def looks_like(text: str) -> bool:
    """An old balance record first (a record a few characters off still is one: reading it names what is wrong)."""
    records = records_of(text)
    first = records[0] if records else ""
    return first[:2] == "01" and abs(len(first) - RECORD) <= 10 and first[2:7].strip().isdigit()


def signed_amount(raw: str, decimals: int, where: str) -> Decimal:
    digits, last = raw[:-1], raw[-1:]
    if not digits.isdigit() or (last not in _POSITIVE and last not in _NEGATIVE):
        raise BankFileUnreadable(f"amount {raw!r} is not in the CFONB signed-last-character encoding", where=where)
    if last in _POSITIVE:
        return Decimal(f"{digits}{_POSITIVE[last]}").scaleb(-decimals)
    return -Decimal(f"{digits}{_NEGATIVE[last]}").scaleb(-decimals)


def _date(raw: str, where: str) -> date:
    try:
        return date(2000 + int(raw[4:6]), int(raw[2:4]), int(raw[0:2]))
    except ValueError as error:
        raise BankFileUnreadable(f"date {raw!r} is not DDMMYY", where=where) from error


def _decimals(record: str, where: str) -> int:
    if not record[19].isdigit():
        raise BankFileUnreadable(f"number of decimals {record[19]!r} is not a digit", where=where)
    return int(record[19])


@dataclass
class _Open:
    """A statement being read: from its `01` to its `07`."""

    account: str
    currency: str
    line: int
    entries: list[BankEntry] = field(default_factory=list)


def read_cfonb120(content: bytes) -> list[BankStatement]:
    statements: list[BankStatement] = []
    current: _Open | None = None
    for number, record in enumerate(records_of(decode_text(content)), start=1):
        where = f"line {number}"
        if not record.strip():
            continue
        if len(record) != RECORD:
            raise BankFileUnreadable(f"a CFONB 120 record has {RECORD} characters, this one {len(record)}",
                                     where=where)
        code = record[:2]
        account = f"{record[2:7]}/{record[11:16]}/{record[21:32].strip()}"
        if code == "01":
            if current is not None:
                raise BankFileUnreadable("an old balance (01) before the new balance (07) of the statement "
                                         f"opened on line {current.line}", where=where)
            current = _Open(account, currency_of(record[16:19], where), number)
            signed_amount(record[90:104], _decimals(record, where), where)
        elif code in {"04", "05", "07"} and current is None:
            raise BankFileUnreadable(f"a {code} record outside a statement (no 01 before it)", where=where)
        elif current is not None and account != current.account:
            raise BankFileUnreadable(f"record for account {account}, inside the statement of {current.account} "
                                     f"opened on line {current.line}", where=where)
        elif code == "04" and current is not None:
            current.entries.append(_movement(record, current, where))
        elif code == "05" and current is not None:
            if not current.entries:
                raise BankFileUnreadable("a complement (05) before any movement (04)", where=where)
            current.entries[-1] = _complement(current.entries[-1], record, where)
        elif code == "07" and current is not None:
            signed_amount(record[90:104], _decimals(record, where), where)
            entries = [replace(entry, creditor_reference=entry.creditor_reference or rf_in_text(entry.remittance))
                       for entry in current.entries]
            statements.append(BankStatement(format="cfonb120", account=current.account,
                                            currency=current.currency, statement_id=f"{account}@{record[34:40]}",
                                            entries=entries))
            current = None
        else:
            raise BankFileUnreadable(f"unknown record code {code!r} (01, 04, 05 or 07)", where=where)
    if current is not None:
        raise BankFileUnreadable("the statement has no new balance (07): the file is cut", where=f"line {current.line}")
    if not statements:
        raise BankFileUnreadable("no statement (01 ... 07) in the file", where="line 1")
    return statements


def _movement(record: str, statement: _Open, where: str) -> BankEntry:
    currency = currency_of(record[16:19], where)
    amount = signed_amount(record[90:104], _decimals(record, where), where)
    reject = record[40:42].strip()
    operation = families.cfonb_operation(record[32:34])
    reference = record[104:120].strip()
    entry_number = record[81:88].strip()
    return BankEntry(
        account=statement.account,
        bank_reference=reference or entry_number,
        booked_on=_date(record[34:40], where),
        value_on=_date(record[42:48], where),
        amount=money_of(abs(amount), currency, where),
        direction=Direction.CREDIT if amount >= 0 else Direction.DEBIT,
        remittance=record[48:79].strip() or None,
        reversal=bool(reject) or operation.returned,
        return_reason=families.cfonb_reason(reject),
        family=operation.family,
        bank_code=f"{operation.code} motif {reject}" if reject else operation.code,
        where=where,
    )


def _complement(entry: BankEntry, record: str, where: str) -> BankEntry:
    qualifier, detail = record[45:48], record[48:118]
    if qualifier in _LABEL_QUALIFIERS:
        return replace(entry, remittance=joined(entry.remittance, detail))
    if qualifier == "NPY":
        return replace(entry, payer_name=detail.strip() or None)
    if qualifier == "IPY":
        return replace(entry, payer_iban=entry.payer_iban or valid_iban(detail[:35]))
    if qualifier == "RCN":
        reference, text = split_reference(detail[:35])
        purpose = detail[35:].strip() or None
        return replace(entry, end_to_end_id=detail[:35].strip() or None,
                       creditor_reference=entry.creditor_reference or (reference if text is None and
                                                                       reference and reference.startswith("RF")
                                                                       else None),
                       remittance=joined(entry.remittance, text, purpose))
    if qualifier == "REF":
        return replace(entry, remittance=joined(entry.remittance, detail))
    if qualifier == "MMO":
        if not detail[3:4].isdigit() or not detail[4:18].isdigit():
            raise BankFileUnreadable(f"original amount {detail[:18]!r} is not currency, decimals, 14 digits",
                                     where=where)
        original = foreign_money(Decimal(detail[4:18]).scaleb(-int(detail[3])), detail[0:3])
        return replace(entry, original_amount=original if original and original.currency != entry.amount.currency
                       else None)
    return entry
