"""A bank's CSV export, read through a declared `CsvMapping` (no guessing: a CSV names nothing by itself).

The mapping says how the file is written (delimiter, decimal separator, date format, encoding, how many lines come
before the header) and which column holds each field, by its header name. The amount is either one signed column
(`amount`: positive is a credit) or two columns (`credit`, `debit`: the one filled says the direction). A CSV holds
one account: the `account` column when mapped (every row must then name the same one), else `account_id`. A line's
`bank_reference` is its `reference` column, else `line-N` (stable only while the bank's export is).

A line's family is its `family` column when mapped and filled (our names `transfer`, `direct_debit`, `card`,
`cheque`, `cash`, `charges`, or the bank's code: an ISO triple `PMNT/IDDT/ESDD`, a SWIFT type `NDDT`, a GVC), kept
as written in `bank_code`; else a credit is a transfer and a debit says nothing. A filled return reason, or a code
that names a return (`PMNT/IDDT/UPDD`), marks a reversal."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ar.adapters.bank_files import families
from ar.adapters.bank_files._common import (
    currency_of,
    decimal_of,
    joined,
    money_of,
    rf_in_text,
    split_reference,
    valid_iban,
)
from ar.domain.bank_entry import BankEntry, BankFileUnreadable, BankStatement, Direction, TransactionFamily


@dataclass(frozen=True)
class CsvMapping:
    booked_on: str                        # column names, as written in the header row
    amount: str | None = None             # signed: positive is money in
    credit: str | None = None             # or two columns, money in and money out
    debit: str | None = None
    value_on: str | None = None           # the booking date when not mapped
    currency: str | None = None           # a column; else `default_currency`
    payer_name: str | None = None
    payer_iban: str | None = None
    remittance: str | None = None
    reference: str | None = None          # the bank's reference of the line; else the line number
    account: str | None = None
    return_reason: str | None = None      # a filled return reason (AC06, MD06...) marks a reversal
    family: str | None = None             # the transaction's type (see the module's docstring)
    end_to_end_id: str | None = None      # the payer's end-to-end id: what a direct debit's return is found by
    delimiter: str = ";"
    decimal_separator: str = ","
    thousands_separator: str = ""
    date_format: str = "%d/%m/%Y"
    encoding: str = "utf-8-sig"
    header_row: int = 1                   # the header's line number (banks put a title or the account above it)
    default_currency: str = "EUR"
    account_id: str = ""                  # our account when no column gives it

    def __post_init__(self) -> None:
        if (self.amount is None) == (self.credit is None and self.debit is None):
            raise ValueError("map either `amount` (signed) or `credit` and `debit`, not both nor neither")
        if len(self.delimiter) != 1 or self.decimal_separator not in {",", "."} or self.header_row < 1:
            raise ValueError("a one-character delimiter, a decimal separator of ',' or '.', a header row from 1")
        if self.account is None and not self.account_id:
            raise ValueError("map an `account` column or give `account_id`")


def read_csv(content: bytes, mapping: CsvMapping) -> list[BankStatement]:
    try:
        text = content.decode(mapping.encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise BankFileUnreadable(f"the file is not {mapping.encoding}: {error}", where="file") from error
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    rows: list[list[str]] = []
    ends: list[int] = []  # the line each row ends on (a quoted cell may hold a line break)
    try:
        for row in reader:
            rows.append(row)
            ends.append(reader.line_num)
    except csv.Error as error:
        raise BankFileUnreadable(f"not CSV: {error}", where=f"line {reader.line_num}") from error
    if len(rows) < mapping.header_row:
        raise BankFileUnreadable(f"no header on line {mapping.header_row}", where=f"line {mapping.header_row}")
    header = [name.strip() for name in rows[mapping.header_row - 1]]
    wanted = [name for name in (mapping.booked_on, mapping.amount, mapping.credit, mapping.debit, mapping.value_on,
                                mapping.currency, mapping.payer_name, mapping.payer_iban, mapping.remittance,
                                mapping.reference, mapping.account, mapping.return_reason, mapping.family,
                                mapping.end_to_end_id)
              if name is not None]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise BankFileUnreadable(f"the header has no column {', '.join(map(repr, missing))}",
                                 where=f"line {mapping.header_row}")
    column = {name: header.index(name) for name in wanted}
    entries: list[BankEntry] = []
    accounts: set[str] = set()
    for number, row in zip(ends[mapping.header_row:], rows[mapping.header_row:], strict=True):
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {number}"
        if len(row) < len(header):
            raise BankFileUnreadable(f"{len(row)} columns where the header has {len(header)}", where=where)

        def cell(name: str | None, row: list[str] = row) -> str:
            return row[column[name]].strip() if name is not None else ""

        entry = _entry(mapping, cell, number, where)
        accounts.add(entry.account)
        entries.append(entry)
    if len(accounts) > 1:
        raise BankFileUnreadable(f"one account per file, this one names {sorted(accounts)}", where="file")
    account = accounts.pop() if accounts else mapping.account_id
    currency = entries[0].amount.currency if entries else currency_of(mapping.default_currency, "file")
    return [BankStatement(format="csv", account=account, currency=currency, entries=entries)]


def _date(raw: str, mapping: CsvMapping, where: str, name: str) -> date:
    try:
        return datetime.strptime(raw, mapping.date_format).date()
    except ValueError as error:
        raise BankFileUnreadable(f"{name} {raw!r} is not a date as {mapping.date_format}", where=where) from error


def _number(raw: str, mapping: CsvMapping, where: str) -> Decimal:
    compact = raw.replace(" ", "").replace("\u00a0", "")
    if mapping.thousands_separator:
        compact = compact.replace(mapping.thousands_separator, "")
    return decimal_of(compact, where, comma=mapping.decimal_separator == ",")


def _entry(mapping: CsvMapping, get: Callable[[str | None], str], number: int, where: str) -> BankEntry:
    if mapping.amount is not None:
        signed = _number(get(mapping.amount), mapping, f"{where}, {mapping.amount}")
    else:
        credit, debit = get(mapping.credit), get(mapping.debit)
        if bool(credit) == bool(debit):
            raise BankFileUnreadable("exactly one of the credit and debit columns is filled", where=where)
        signed = (_number(credit, mapping, f"{where}, {mapping.credit}") if credit
                  else -abs(_number(debit, mapping, f"{where}, {mapping.debit}")))
    currency = currency_of(get(mapping.currency) or mapping.default_currency, f"{where}, currency")
    booked_on = _date(get(mapping.booked_on), mapping, where, mapping.booked_on)
    value_on = _date(get(mapping.value_on), mapping, where, mapping.value_on) if mapping.value_on else booked_on
    reference, text = split_reference(get(mapping.reference)) if mapping.reference else (None, None)
    remittance = joined(get(mapping.remittance), text)
    bank_reference = get(mapping.reference) if mapping.reference else ""
    direction = Direction.CREDIT if signed >= 0 else Direction.DEBIT
    code = families.named(get(mapping.family)) if mapping.family else None
    family = code.family if code else TransactionFamily.TRANSFER if direction is Direction.CREDIT else None
    return_reason = (get(mapping.return_reason) or None) if mapping.return_reason else None
    return BankEntry(
        account=(get(mapping.account) if mapping.account else "") or mapping.account_id,
        bank_reference=bank_reference or f"line-{number}",
        booked_on=booked_on, value_on=value_on,
        amount=money_of(abs(signed), currency, where),
        direction=direction,
        payer_name=get(mapping.payer_name) or None,
        payer_iban=valid_iban(get(mapping.payer_iban)) if mapping.payer_iban else None,
        remittance=remittance,
        return_reason=return_reason,
        reversal=return_reason is not None or bool(code and code.returned),
        family=family, bank_code=code.code if code else None,
        end_to_end_id=(get(mapping.end_to_end_id) or None) if mapping.end_to_end_id else None,
        creditor_reference=(reference if reference and reference.startswith("RF") else None) or rf_in_text(remittance),
        where=where,
    )
