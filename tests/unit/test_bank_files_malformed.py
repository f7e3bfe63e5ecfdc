"""Whatever a damaged file holds, reading it either gives statements or raises BankFileUnreadable (a 422), never
another exception (a 500)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ar.adapters.bank_files import CsvMapping, read_statement
from ar.domain.bank_entry import BankFileUnreadable

DATA = Path(__file__).parents[1] / "data" / "bank"
MAPPINGS = {
    "csv_signed_amount.csv": CsvMapping(booked_on="Date operation", value_on="Date valeur", amount="Montant",
                                        currency="Devise", remittance="Libelle", reference="Reference", header_row=2,
                                        account_id="FR7630006000011234567890189"),
    "csv_credit_debit.csv": CsvMapping(booked_on="booking_date", credit="credit", debit="debit", account="account",
                                       delimiter=",", decimal_separator=".", date_format="%Y-%m-%d"),
}
NOISE = b"0123456789 :/-,.<>?+ABCDRZ{}\n\r\xff\"'"


def _damaged(content: bytes, rnd: random.Random) -> bytes:
    damaged = bytearray(content)
    for _ in range(rnd.randint(1, 4)):
        position = rnd.randrange(len(damaged))
        roll = rnd.random()
        if roll < 0.4:
            damaged[position] = rnd.choice(NOISE)
        elif roll < 0.7:
            del damaged[position:position + rnd.randint(1, 20)]
        else:
            damaged[position:position] = bytes(rnd.choice(NOISE) for _ in range(rnd.randint(1, 5)))
    return bytes(damaged)


@pytest.mark.parametrize("name", sorted(path.name for path in DATA.iterdir()))
def test_a_damaged_file_is_read_or_refused_as_unreadable_never_crashes(name: str) -> None:
    content = (DATA / name).read_bytes()
    rnd = random.Random(name)
    refused = 0
    for _ in range(400):
        try:
            read_statement(_damaged(content, rnd), csv_mapping=MAPPINGS.get(name))
        except BankFileUnreadable as error:
            refused += 1
            assert error.figures["where"]
    assert refused > 0


@pytest.mark.parametrize("declaration", [b'encoding="UTF-48"', b'encoding="UTF-16"'])
def test_an_unusable_xml_encoding_is_unreadable(declaration: bytes) -> None:
    content = (DATA / "camt054_v04_notification.xml").read_bytes().replace(b'encoding="UTF-8"', declaration)
    with pytest.raises(BankFileUnreadable) as caught:
        read_statement(content)
    assert str(caught.value.figures["where"]).startswith("line 1")


def test_empty_or_blank_content_is_unreadable() -> None:
    for content in (b"", b"\n\n", b"<"):
        with pytest.raises(BankFileUnreadable):
            read_statement(content)
