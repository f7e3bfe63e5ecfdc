"""The code tables: each format's transaction code read into a family, and whether the code names a return."""

from __future__ import annotations

import pytest

from ar.adapters.bank_files import families
from ar.domain.bank_entry import TransactionFamily as F


@pytest.mark.parametrize(("domain", "family", "sub", "expected", "returned"), [
    ("PMNT", "RCDT", "ESCT", F.TRANSFER, False), ("PMNT", "RCDT", "RRTN", F.TRANSFER, True),
    ("PMNT", "IDDT", "ESDD", F.DIRECT_DEBIT, False), ("PMNT", "IDDT", "BBDD", F.DIRECT_DEBIT, False),
    ("PMNT", "IDDT", "UPDD", F.DIRECT_DEBIT, True), ("PMNT", "RDDT", "ESDD", F.DIRECT_DEBIT, False),
    ("PMNT", "MCRD", "POSP", F.CARD, False), ("PMNT", "RCHQ", "UPCQ", F.CHEQUE, True),
    ("PMNT", "CNTR", "CDPT", F.CASH, False), ("ACMT", "MDOP", "CHRG", F.CHARGES, False),
    ("PMNT", "RCDT", "CHRG", F.CHARGES, False), ("SECU", "SETT", "TRAD", F.OTHER, False),
    ("pmnt", "rcdt", None, F.TRANSFER, False),
])
def test_iso_bank_transaction_codes(domain: str, family: str, sub: str | None, expected: F, returned: bool) -> None:
    found = families.iso(domain, family, sub)
    assert (found.family, found.returned) == (expected, returned)


@pytest.mark.parametrize(("code", "expected", "returned"), [
    ("166", F.TRANSFER, False), ("051", F.TRANSFER, False), ("159", F.TRANSFER, True),
    ("171", F.DIRECT_DEBIT, False), ("105", F.DIRECT_DEBIT, False), ("109", F.DIRECT_DEBIT, True),
    ("108", F.DIRECT_DEBIT, True), ("181", F.DIRECT_DEBIT, True), ("106", F.CARD, False),
    ("111", F.CHEQUE, True), ("070", F.OTHER, False), ("082", F.CASH, False), ("805", F.CHARGES, False),
    ("814", F.OTHER, False),
])
def test_german_gvc(code: str, expected: F, returned: bool) -> None:
    found = families.gvc(code)
    assert found is not None and (found.family, found.returned, found.code) == (expected, returned, f"GVC {code}")


@pytest.mark.parametrize(("code", "expected", "returned"), [
    ("NTRF", F.TRANSFER, False), ("NSTO", F.TRANSFER, False), ("NDDT", F.DIRECT_DEBIT, False),
    ("NCHK", F.CHEQUE, False), ("NCHG", F.CHARGES, False), ("NRTI", F.OTHER, True), ("NMSC", F.OTHER, False),
    ("FTRF", F.TRANSFER, False), ("S103", F.TRANSFER, False), ("S104", F.DIRECT_DEBIT, False),
    ("S110", F.CHEQUE, False), ("S940", F.OTHER, False),
])
def test_swift_transaction_types(code: str, expected: F, returned: bool) -> None:
    found = families.swift_type(code)
    assert found is not None and (found.family, found.returned) == (expected, returned)


def test_what_is_not_a_code_is_none_or_other_never_an_error() -> None:
    assert families.swift_type("NONREF") is None and families.gvc("16") is None and families.named("") is None
    assert families.proprietary("WHATEVER", None) == families.Classified(F.OTHER, False, "WHATEVER")
    assert families.cfonb_operation("ZZ").family is F.OTHER
    assert (families.cfonb_reason("04"), families.cfonb_reason("99"), families.cfonb_reason("  ")) == (
        "AM04", "CFONB:99", None)
