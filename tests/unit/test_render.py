from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from ar.reports.aging import AgingLine, AgingReport, Bands
from ar.reports.render import NBSP, PLAIN, aging_csv, format_amount, statement_csv, statement_pdf
from ar.reports.statement import Movement, Statement, StatementSection

CUSTOMER = UUID("00000000-0000-0000-0000-0000000000c1")


def movements(opening: int, *deltas: tuple[str, str | None, str | None, int], on: date = date(2026, 3, 2)) \
        -> list[Movement]:
    balance, out = opening, []
    for position, (kind, reference, invoice_number, delta) in enumerate(deltas, start=1):
        balance += delta
        out.append(Movement(effective_on=on, kind=kind, reference=reference, invoice_number=invoice_number,
                            debit_minor=max(delta, 0), credit_minor=max(-delta, 0), balance_minor=balance,
                            position=position))
    return out


def make_statement(language: str = "fr", n_extra: int = 0) -> Statement:
    eur = StatementSection("EUR", 50_000, movements(
        50_000,
        ("invoice", "F2026-000012", "F2026-000012", 123_456),
        ("payment", "VIR 4471", "F2026-000012", -100_000),
        ("credit_note", "A2026-000003", "F2026-000012", -3_456),
        ("payment_returned", "VIR 4471", None, 100_000),
        *(("invoice", f"F2026-{i:06d}", f"F2026-{i:06d}", 1_000) for i in range(100, 100 + n_extra)),
    ), aging=AgingLine("EUR", [70_000, 50_000, 0, 0, 50_000], invoices=3, customer_id=CUSTOMER, name="Boulangerie"))
    usd = StatementSection("USD", 0, movements(0, ("invoice", "F2026-000020", "F2026-000020", 99_900),
                                               ("refund", None, None, 5_000), ("write_off", None, None, -900)))
    return Statement(customer_id=CUSTOMER, name="Boulangerie Lefèvre & Fils", language=language,
                     from_on=date(2026, 3, 1), to_on=date(2026, 3, 31),
                     known_at=datetime(2026, 4, 2, 8, 15, tzinfo=UTC), bands=Bands(), sections=[eur, usd])


@pytest.mark.parametrize(("minor", "currency", "language", "expected"), [
    (123456, "EUR", "fr", f"1{NBSP}234,56{NBSP}€"),
    (123456, "EUR", "en", f"EUR{NBSP}1,234.56"),
    (-123456, "EUR", "fr", f"-1{NBSP}234,56{NBSP}€"),
    (-123456, "EUR", "en", f"-EUR{NBSP}1,234.56"),
    (123456789, "USD", "fr", f"1{NBSP}234{NBSP}567,89{NBSP}USD"),
    (5, "EUR", "fr", f"0,05{NBSP}€"),
    (-5, "EUR", PLAIN, "-0.05"),
    (123456, "EUR", PLAIN, "1234.56"),
    (1234567, "JPY", "fr", f"1{NBSP}234{NBSP}567{NBSP}JPY"),
    (-1234567, "JPY", "en", f"-JPY{NBSP}1,234,567"),
    (1234567, "JPY", PLAIN, "1234567"),
    (1234567, "TND", PLAIN, "1234.567"),
    (0, "EUR", "en", f"EUR{NBSP}0.00"),
])
def test_amounts_read_as_the_customer_writes_them(minor: int, currency: str, language: str, expected: str) -> None:
    assert format_amount(minor, currency, language) == expected


def test_plain_amounts_are_exact_decimal_minor_units() -> None:
    for minor in (0, 1, -1, 99, 100, -100, 10**18 + 7):
        assert Decimal(format_amount(minor, "EUR", PLAIN)).scaleb(2) == minor


def test_statement_csv_runs_from_opening_through_movements_to_closing() -> None:
    st = make_statement()
    rows = list(csv.DictReader(io.StringIO(statement_csv(st))))
    assert list(rows[0]) == ["currency", "date", "kind", "reference", "invoice_number", "debit", "credit", "balance",
                             "counterparty_id", "counterparty_name",  # the columns added since come after these
                             "due_on", "payment_reference", "account_number", "refusal", "customer_siren",
                             "customer_address"]
    for section in st.sections:
        mine = [r for r in rows if r["currency"] == section.currency]
        assert mine[0]["kind"] == "opening" and mine[0]["date"] == "2026-03-01"
        assert mine[-1]["kind"] == "closing" and mine[-1]["date"] == "2026-03-31"
        assert len(mine) == len(section.movements) + 2
        body = mine[1:-1]
        opening, closing = Decimal(mine[0]["balance"]), Decimal(mine[-1]["balance"])
        assert opening + sum(Decimal(r["debit"]) for r in body) - sum(Decimal(r["credit"]) for r in body) == closing
        assert closing.scaleb(2) == section.closing_minor
    eur = [r for r in rows if r["currency"] == "EUR"]
    assert eur[1] == {"currency": "EUR", "date": "2026-03-02", "kind": "invoice", "reference": "F2026-000012",
                      "invoice_number": "F2026-000012", "debit": "1234.56", "credit": "0.00", "balance": "1734.56",
                      "counterparty_id": "", "counterparty_name": "", "due_on": "", "payment_reference": "",
                      "account_number": "0000000000", "refusal": "", "customer_siren": "", "customer_address": ""}
    assert eur[-1]["balance"] == "1700.00"


def test_aging_csv_has_a_column_per_band_and_totals_before_customers() -> None:
    bands = Bands((30, 60, 90))
    report = AgingReport(as_of=date(2026, 3, 31), known_at=None, bands=bands,
                         totals=[AgingLine("EUR", [100, 123456, 0, 0, 5], invoices=4),
                                 AgingLine("JPY", [0, 0, 0, 0, 1500], invoices=1)],
                         customers=[AgingLine("EUR", [100, 123456, 0, 0, 5], invoices=4, customer_id=CUSTOMER,
                                              name="Doe, \"Jane\" Ltd")])
    rows = list(csv.reader(io.StringIO(aging_csv(report))))
    assert rows[0] == ["scope", "customer_id", "name", "currency", "not_due", "1-30", "31-60", "61-90", "over_90",
                       "open", "invoices"]
    assert rows[1] == ["total", "", "", "EUR", "1.00", "1234.56", "0.00", "0.00", "0.05", "1235.61", "4"]
    assert rows[2] == ["total", "", "", "JPY", "0", "0", "0", "0", "1500", "1500", "1"]
    assert rows[3] == ["customer", str(CUSTOMER), "Doe, \"Jane\" Ltd", "EUR", "1.00", "1234.56", "0.00", "0.00",
                       "0.05", "1235.61", "4"]


def pdf_text(pdf: bytes) -> str:
    """The strings drawn by the uncompressed content streams, decoded as the core fonts' WinAnsi encoding."""
    drawn = re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", pdf)
    return " ".join(re.sub(rb"\\(.)", rb"\1", s).decode("cp1252") for s in drawn)


def test_french_statement_pdf_is_titled_and_names_the_customer() -> None:
    pdf = statement_pdf(make_statement("fr"), compress=False)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for expected in ("Relevé de compte", "Boulangerie Lefèvre & Fils", "Solde d'ouverture", "Solde de clôture",
                     "Échéancier des sommes dues", "Règlement rejeté", "Plus de 90 j", "1 à 30 j", "02/03/2026",
                     f"1{NBSP}700,00{NBSP}€", f"1{NBSP}040,00{NBSP}USD", "Situation connue au 02/04/2026 08:15 UTC"):
        assert expected in text, expected


def test_english_statement_pdf_speaks_english() -> None:
    text = pdf_text(statement_pdf(make_statement("en"), compress=False))
    for expected in ("Statement of account", "Opening balance", "Closing balance", "Returned payment", "Over 90 days",
                     "2026-03-02", f"EUR{NBSP}1,700.00"):
        assert expected in text, expected


def test_a_long_statement_breaks_into_pages() -> None:
    pdf = statement_pdf(make_statement("fr", n_extra=296), compress=False)
    pages = int(re.findall(rb"/Count (\d+)", pdf)[0])
    assert pages >= 5
    text = pdf_text(pdf)
    assert re.findall(r"page (\d+)/ ?(\d+)", text) == [(str(n), str(pages)) for n in range(1, pages + 1)]
    assert text.count("Référence") == pages + 1  # the heading starts each page, and the USD section


def test_a_name_the_core_fonts_cannot_draw_still_renders() -> None:
    st = make_statement("fr")
    st.name = "Łódź {Spółka} 株式会社"
    assert statement_pdf(st).startswith(b"%PDF")



def test_a_huge_amount_shrinks_to_fit_while_a_long_reference_is_cut() -> None:
    st = make_statement("fr")
    st.sections[1].movements = movements(0, ("invoice", "F2026-000999 commande numéro 88811223344 livraison partielle",
                                             "F2026-000999", -98_765_432_109))
    text = pdf_text(statement_pdf(st, compress=False))
    assert f"-987{NBSP}654{NBSP}321,09{NBSP}USD" in text
    assert "F2026-000999 com" in text and "…" in text and "livraison partielle" not in text
