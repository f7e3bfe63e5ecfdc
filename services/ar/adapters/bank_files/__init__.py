"""Bank statement files read into `BankStatement`s: camt.053/.054 (ISO 20022), MT940, CFONB 120, and CSV with a
declared mapping. `read_statement` detects the format (unless told) and returns every statement of the file, or
raises `BankFileUnreadable` naming the line or element at fault: nothing partial is ever returned."""

from __future__ import annotations

from ar.adapters.bank_files import camt, cfonb120, mt940
from ar.adapters.bank_files._common import decode_text
from ar.adapters.bank_files.csv_file import CsvMapping, read_csv
from ar.domain.bank_entry import BankFileUnreadable, BankStatement

FORMATS = ("camt.053", "camt.054", "mt940", "cfonb120", "csv")

__all__ = ["FORMATS", "CsvMapping", "detect_format", "read_statement"]


def detect_format(content: bytes, *, csv_mapping: CsvMapping | None = None) -> str:
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        kind = camt.format_of(content)
        # A truncated or foreign XML is still XML: camt's reader names what is wrong with it.
        return kind or "camt.053"
    text = decode_text(content)
    if cfonb120.looks_like(text):
        return "cfonb120"
    if mt940.looks_like(text):
        return "mt940"
    if csv_mapping is not None:
        return "csv"
    raise BankFileUnreadable("not a camt.053/.054, MT940 or CFONB 120 file, and no CSV mapping was given",
                             where="line 1")


def read_statement(content: bytes, *, format: str | None = None,
                   csv_mapping: CsvMapping | None = None) -> list[BankStatement]:
    kind = format or detect_format(content, csv_mapping=csv_mapping)
    if kind in {"camt.053", "camt.054"}:
        statements = camt.read_camt(content)
        if format is not None and any(statement.format != kind for statement in statements):
            raise BankFileUnreadable(f"the file is {statements[0].format}, not {kind}", where="Document")
        return statements
    if kind == "mt940":
        return mt940.read_mt940(content)
    if kind == "cfonb120":
        return cfonb120.read_cfonb120(content)
    if kind == "csv":
        if csv_mapping is None:
            raise BankFileUnreadable("a CSV file needs a column mapping", where="file")
        return read_csv(content, csv_mapping)
    raise BankFileUnreadable(f"unknown format {kind!r} (one of {', '.join(FORMATS)})", where="file")
