"""Reading e-invoices: a CII and a UBL built in the tests, a Factur-X PDF built from the CII and an fpdf2 page with
`factur-x`; each read into the same `EInvoice`. Malformed, invalid or inexact documents name the element."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from tests.support.einvoices import BUYER_SIREN, SELLER_SIREN, Sample, cii, factur_x, ubl

from ar.adapters.einvoices import read_einvoice
from ar.domain.einvoice import EInvoice, EInvoiceUnreadable, money, siren_of
from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money


def eur(minor: int) -> Money:
    return Money(minor, "EUR")


def check_sample(e: EInvoice) -> None:
    assert (e.number, e.type_code, e.currency) == ("FA-2026-0107", "380", "EUR")
    assert (e.issued_on, e.due_on) == (date(2026, 3, 2), date(2026, 4, 1))
    assert e.payment_terms is not None and e.payment_terms.startswith("Paiement à 30 jours")
    assert (e.seller.name, e.seller.siren, e.seller.vat_id) == ("Atelier Dupont SAS", SELLER_SIREN,
                                                                 f"FR40{SELLER_SIREN}")
    assert (e.buyer.name, e.buyer.siren, e.buyer.vat_id, e.buyer.country) == (
        "Boulangerie Martin SARL", BUYER_SIREN, f"FR44{BUYER_SIREN}", "FR")
    assert (e.grand_total, e.tax_basis, e.vat_total, e.amount_due) == (eur(141100), eur(120000), eur(21100),
                                                                        eur(141100))
    assert [(v.rate, v.basis, v.amount) for v in e.vat] == [(Decimal("20.00"), eur(100000), eur(20000)),
                                                             (Decimal("5.50"), eur(20000), eur(1100))]
    assert (e.purchase_order, e.buyer_reference) == ("PO-7781", "SERVICE-ACHATS")
    e.check()


def test_a_cii_is_read() -> None:
    e = read_einvoice(cii(), "application/xml")
    assert e.syntax == "CII"
    check_sample(e)


def test_a_ubl_is_read() -> None:
    e = read_einvoice(ubl(), "application/xml; charset=utf-8")
    assert e.syntax == "UBL"
    check_sample(e)


def test_a_factur_x_pdf_is_read_from_the_cii_it_carries() -> None:
    pdf = factur_x()
    assert pdf.startswith(b"%PDF")
    e = read_einvoice(pdf, "application/pdf")
    assert e.syntax == "CII"
    check_sample(e)


def test_a_siret_gives_its_siren() -> None:
    e = read_einvoice(ubl(Sample(buyer_siren="73282932000074")), "application/xml")
    assert (e.buyer.siren, e.buyer.siret) == (BUYER_SIREN, "73282932000074")
    assert siren_of("12345") is None


def test_an_amount_is_exact_in_its_currency_or_refused() -> None:
    assert money("12.5", "EUR", "X") == eur(1250)
    assert money("100", "JPY", "X") == Money(100, "JPY")
    for text, currency in (("12.345", "EUR"), ("1.5", "JPY"), ("abc", "EUR"), ("", "EUR"), ("NaN", "EUR")):
        with pytest.raises(EInvoiceUnreadable) as refused:
            money(text, currency, "GrandTotalAmount")
        assert refused.value.field == "GrandTotalAmount"


@pytest.mark.parametrize(("content", "media_type", "field"), [
    (b"<rsm:CrossIndustryInvoice", "application/xml", "document"),
    (b"not a pdf", "application/pdf", "document"),
    (b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY big "x">]><Invoice>&big;</Invoice>', "application/xml",
     "document"),
    (cii().replace(b"<ram:GrandTotalAmount>1411.00", b"<ram:GrandTotalAmount>1411.001"), "application/xml",
     "GrandTotalAmount"),
    (cii().replace(b"<ram:BuyerTradeParty><ram:Name>", b"<ram:BuyerTradeParty><ram:Nom>").replace(
        b"</ram:Name>\n        <ram:SpecifiedLegalOrganization><ram:ID schemeID=\"0002\">732", b"</ram:Nom>\n"
        b"        <ram:SpecifiedLegalOrganization><ram:ID schemeID=\"0002\">732"), "application/xml", "Nom"),
    (ubl().replace(b"<cbc:IssueDate>2026-03-02", b"<cbc:IssueDate>2026-02-30"), "application/xml", "IssueDate"),
    (ubl().replace(b"<cbc:ID>FA-2026-0107</cbc:ID>", b""), "application/xml", "ID"),
    (b"{}", "application/json", "Content-Type"),
])
def test_what_cannot_be_read_names_the_element(content: bytes, media_type: str, field: str) -> None:
    with pytest.raises(EInvoiceUnreadable) as refused:
        read_einvoice(content, media_type)
    assert refused.value.field == field, refused.value.detail


def test_what_cannot_be_recorded_is_refused_by_check() -> None:
    credit = read_einvoice(cii(Sample(type_code="381")), "application/xml")
    with pytest.raises(DomainRuleViolation, match="credit notes") as refused:
        credit.check()
    assert refused.value.field == "TypeCode"
    wrong = read_einvoice(ubl(Sample(grand_total="1500.00")), "application/xml")
    with pytest.raises(DomainRuleViolation) as refused:
        wrong.check()
    assert refused.value.field == "GrandTotalAmount"
    no_siren = replace(read_einvoice(ubl(), "application/xml"), buyer=replace(wrong.buyer, siren=None))
    with pytest.raises(DomainRuleViolation) as refused:
        no_siren.check()
    assert refused.value.field == "BuyerTradeParty"
