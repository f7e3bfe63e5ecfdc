"""Reading e-invoices: a CII and a UBL built in the tests, a Factur-X PDF built from the CII and an fpdf2 page with
`factur-x`; each read into the same `EInvoice`. Malformed, invalid or inexact documents name the element."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from tests.support.einvoices import BUYER_SIREN, SELLER_SIREN, Sample, cii, factur_x, ubl

from ar.adapters.einvoices import read_einvoice
from ar.domain.einvoice import EInvoice, EInvoiceUnreadable, money, siren_of
from ar.domain.errors import DomainRuleViolation
from ar.domain.money import Money

Builder = Callable[[Sample], bytes]


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
    (ubl().replace(b"<cbc:ID>FA-2026-0107</cbc:ID>", b""), "application/xml", "IssueDate"),  # XSD: ID expected
    (b"{}", "application/json", "Content-Type"),
])
def test_what_cannot_be_read_names_the_element(content: bytes, media_type: str, field: str) -> None:
    with pytest.raises(EInvoiceUnreadable) as refused:
        read_einvoice(content, media_type)
    assert refused.value.field == field, refused.value.detail


def test_what_cannot_be_recorded_is_refused_by_check() -> None:
    prepayment_invoice = read_einvoice(cii(Sample(type_code="386")), "application/xml")
    with pytest.raises(DomainRuleViolation, match="neither an invoice") as refused:
        prepayment_invoice.check()
    assert refused.value.field == "TypeCode"
    wrong = read_einvoice(ubl(Sample(grand_total="1500.00")), "application/xml")
    with pytest.raises(DomainRuleViolation) as refused:
        wrong.check()
    assert refused.value.field == "GrandTotalAmount"
    no_siren = replace(read_einvoice(ubl(), "application/xml"), buyer=replace(wrong.buyer, siren=None))
    with pytest.raises(DomainRuleViolation) as refused:
        no_siren.check()
    assert refused.value.field == "BuyerTradeParty"


CREDIT_NOTE = Sample(number="AV-2026-0012", type_code="381", corrects="FA-2026-0107",
                     vat=[("20.00", "200.00", "40.00")])


@pytest.mark.parametrize("type_code", ["381", "261", "262", "396"])
def test_a_cii_credit_note_is_read_with_the_invoice_it_corrects(type_code: str) -> None:
    e = read_einvoice(cii(replace(CREDIT_NOTE, type_code=type_code)), "application/xml")
    assert (e.number, e.type_code, e.is_credit_note, e.corrects) == ("AV-2026-0012", type_code, True, "FA-2026-0107")
    assert (e.grand_total, e.amount_due) == (eur(24000), eur(24000))
    e.check()


def test_a_ubl_credit_note_is_read_from_its_own_document_checked_against_its_xsd() -> None:
    e = read_einvoice(ubl(CREDIT_NOTE), "application/xml")
    assert (e.syntax, e.number, e.type_code, e.is_credit_note, e.corrects) == (
        "UBL", "AV-2026-0012", "381", True, "FA-2026-0107")
    assert (e.grand_total, e.tax_basis, e.vat_total) == (eur(24000), eur(20000), eur(4000))
    assert e.due_on is None
    e.check()


@pytest.mark.parametrize(("build", "element"), [(cii, "InvoiceReferencedDocument"), (ubl, "BillingReference")])
def test_a_credit_note_naming_no_invoice_is_refused_naming_the_reference(build: Builder, element: str) -> None:
    e = read_einvoice(build(replace(CREDIT_NOTE, corrects=None)), "application/xml")
    with pytest.raises(DomainRuleViolation, match="names no invoice") as refused:
        e.check()
    assert refused.value.field == element


@pytest.mark.parametrize("build", [cii, ubl, factur_x])
def test_an_amount_paid_before_is_read_and_the_amount_due_is_the_rest(build: Builder) -> None:
    e = read_einvoice(build(Sample(prepaid="411.00")), "application/pdf" if build is factur_x else "application/xml")
    assert (e.grand_total, e.paid_before, e.amount_due) == (eur(141100), eur(41100), eur(100000))
    e.check()


@pytest.mark.parametrize(("build", "element"), [(cii, "DuePayableAmount"), (ubl, "PayableAmount")])
def test_an_amount_due_other_than_total_less_paid_before_names_the_element(build: Builder, element: str) -> None:
    for wrong in (Sample(prepaid="411.00", payable="1411.00"), Sample(payable="1400.00")):
        e = read_einvoice(build(wrong), "application/xml")
        with pytest.raises(DomainRuleViolation) as refused:
            e.check()
        assert refused.value.field == element, refused.value.detail


def test_a_rounding_amount_is_part_of_the_amount_due() -> None:
    stated = replace(read_einvoice(cii(Sample(payable="1411.01")), "application/xml"), rounding=eur(1))
    stated.check()
    with pytest.raises(DomainRuleViolation) as refused:
        replace(stated, rounding=eur(2)).check()
    assert refused.value.field == "DuePayableAmount"


def test_an_amount_paid_before_beyond_the_grand_total_names_the_element() -> None:
    e = read_einvoice(ubl(Sample(prepaid="1500.00", payable="0.00")), "application/xml")
    with pytest.raises(DomainRuleViolation) as refused:
        e.check()
    assert refused.value.field == "PrepaidAmount"


@pytest.mark.parametrize(("content", "field", "expected"), [
    (ubl().replace(b"<cbc:ID>FA-2026-0107</cbc:ID>", b""), "IssueDate", "ID"),
    (ubl().split(b"<cac:InvoiceLine>")[0] + b"</Invoice>", "Invoice", "InvoiceLine"),
    (ubl(CREDIT_NOTE).split(b"<cac:CreditNoteLine>")[0] + b"</CreditNote>", "CreditNote", "CreditNoteLine"),
    (ubl().replace(b"<cbc:IssueDate>2026-03-02</cbc:IssueDate>", b""), "DueDate", "IssueDate"),
    (ubl().replace(b"<cac:OrderReference>", b"<cac:Unknown/><cac:OrderReference>"), "Unknown", "OrderReference"),
    (ubl(CREDIT_NOTE).replace(b"CreditNoteTypeCode", b"InvoiceTypeCode"), "InvoiceTypeCode", "CreditNoteTypeCode"),
])
def test_a_ubl_invalid_against_the_ubl_xsd_names_the_element_found_and_those_expected(
    content: bytes, field: str, expected: str,
) -> None:
    with pytest.raises(EInvoiceUnreadable) as refused:
        read_einvoice(content, "application/xml")
    assert refused.value.field == field, refused.value.detail
    names = refused.value.figures["expected"]
    assert isinstance(names, list) and expected in names, names


def test_what_en_16931_requires_and_the_ubl_xsd_does_not_is_still_named() -> None:
    content = ubl().replace(b"<cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>", b"")
    with pytest.raises(EInvoiceUnreadable) as refused:
        read_einvoice(content, "application/xml")
    assert refused.value.field == "DocumentCurrencyCode"


def test_a_ubl_root_in_another_namespace_is_refused() -> None:
    content = ubl().replace(b"xsd:Invoice-2", b"xsd:CreditNote-2")
    with pytest.raises(EInvoiceUnreadable) as refused:
        read_einvoice(content, "application/xml")
    assert refused.value.field == "Invoice"
