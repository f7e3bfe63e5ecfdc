"""E-invoice documents built in the tests: a CII (Factur-X EN 16931 profile), a UBL 2.1 invoice or credit note (valid
against the UBL 2.1 XSDs) and a Factur-X PDF (an fpdf2 page with the CII attached by `factur-x`). Amounts are decimal
strings, as the documents state them. A credit note (type 381, 261, 262, 396) names the invoice it corrects
(`corrects`); `prepaid` is the amount paid before the document (the amount due is then the rest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import facturx
from fpdf import FPDF

SELLER_SIREN, BUYER_SIREN = "552100554", "732829320"


@dataclass(frozen=True)
class Sample:
    number: str = "FA-2026-0107"
    issued_on: str = "2026-03-02"
    due_on: str | None = "2026-04-01"
    type_code: str = "380"
    currency: str = "EUR"
    buyer_name: str = "Boulangerie Martin SARL"
    buyer_siren: str = BUYER_SIREN
    buyer_country: str = "FR"
    # (rate, basis, VAT)
    vat: list[tuple[str, str, str]] = field(default_factory=lambda: [("20.00", "1000.00", "200.00"),
                                                                     ("5.50", "200.00", "11.00")])
    terms: str = "Paiement à 30 jours, pénalités de retard 3 fois le taux légal, indemnité 40 EUR"
    purchase_order: str = "PO-7781"
    buyer_reference: str = "SERVICE-ACHATS"
    grand_total: str | None = None
    prepaid: str | None = None
    payable: str | None = None    # the amount due stated, when not total - prepaid
    corrects: str | None = None   # a credit note: the number of the invoice it corrects

    @property
    def credit_note(self) -> bool:
        return self.type_code in ("381", "261", "262", "396")

    @property
    def due(self) -> str:
        return self.payable or f"{Decimal(self.total) - Decimal(self.prepaid or '0'):.2f}"

    @property
    def basis(self) -> str:
        return f"{sum(float(b) for _, b, _ in self.vat):.2f}"

    @property
    def tax(self) -> str:
        return f"{sum(float(t) for _, _, t in self.vat):.2f}"

    @property
    def total(self) -> str:
        return self.grand_total or f"{float(self.basis) + float(self.tax):.2f}"


def cii(s: Sample = Sample()) -> bytes:
    taxes = "".join(f"""
      <ram:ApplicableTradeTax><ram:CalculatedAmount>{t}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>
        <ram:BasisAmount>{b}</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>
        <ram:RateApplicablePercent>{r}</ram:RateApplicablePercent></ram:ApplicableTradeTax>""" for r, b, t in s.vat)
    due = (f"<ram:DueDateDateTime><udt:DateTimeString format=\"102\">{s.due_on.replace('-', '')}"
           "</udt:DateTimeString></ram:DueDateDateTime>") if s.due_on else ""
    prepaid = f"<ram:TotalPrepaidAmount>{s.prepaid}</ram:TotalPrepaidAmount>" if s.prepaid else ""
    corrects = (f"<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>{s.corrects}</ram:IssuerAssignedID>"
                "</ram:InvoiceReferencedDocument>") if s.corrects else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
  xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100">
  <rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>
    <ram:ID>urn:factur-x.eu:1p0:basicwl</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
  <rsm:ExchangedDocument><ram:ID>{s.number}</ram:ID><ram:TypeCode>{s.type_code}</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">{s.issued_on.replace('-', '')}</udt:DateTimeString>
    </ram:IssueDateTime></rsm:ExchangedDocument>
  <rsm:SupplyChainTradeTransaction>
    <ram:ApplicableHeaderTradeAgreement>
      <ram:BuyerReference>{s.buyer_reference}</ram:BuyerReference>
      <ram:SellerTradeParty><ram:Name>Atelier Dupont SAS</ram:Name>
        <ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">{SELLER_SIREN}</ram:ID>
        </ram:SpecifiedLegalOrganization>
        <ram:PostalTradeAddress><ram:CountryID>FR</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR40{SELLER_SIREN}</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty><ram:Name>{s.buyer_name}</ram:Name>
        <ram:SpecifiedLegalOrganization><ram:ID schemeID="0002">{s.buyer_siren}</ram:ID>
        </ram:SpecifiedLegalOrganization>
        <ram:PostalTradeAddress><ram:CountryID>{s.buyer_country}</ram:CountryID></ram:PostalTradeAddress>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">FR44{s.buyer_siren}</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:BuyerTradeParty>
      <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>{s.purchase_order}</ram:IssuerAssignedID>
      </ram:BuyerOrderReferencedDocument>
    </ram:ApplicableHeaderTradeAgreement>
    <ram:ApplicableHeaderTradeDelivery/>
    <ram:ApplicableHeaderTradeSettlement>
      <ram:InvoiceCurrencyCode>{s.currency}</ram:InvoiceCurrencyCode>{taxes}
      <ram:SpecifiedTradePaymentTerms><ram:Description>{s.terms}</ram:Description>{due}</ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
        <ram:LineTotalAmount>{s.basis}</ram:LineTotalAmount>
        <ram:TaxBasisTotalAmount>{s.basis}</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="{s.currency}">{s.tax}</ram:TaxTotalAmount>
        <ram:GrandTotalAmount>{s.total}</ram:GrandTotalAmount>{prepaid}
        <ram:DuePayableAmount>{s.due}</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementHeaderMonetarySummation>{corrects}
    </ram:ApplicableHeaderTradeSettlement>
  </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>
""".encode()


def ubl(s: Sample = Sample()) -> bytes:
    subtotals = "".join(f"""
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="{s.currency}">{b}</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="{s.currency}">{t}</cbc:TaxAmount>
      <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>{r}</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>""" for r, b, t in s.vat)
    root, line, quantity = ("CreditNote", "CreditNoteLine", "CreditedQuantity") if s.credit_note else (
        "Invoice", "InvoiceLine", "InvoicedQuantity")
    due = f"<cbc:DueDate>{s.due_on}</cbc:DueDate>" if s.due_on and not s.credit_note else ""
    corrects = (f"<cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{s.corrects}</cbc:ID>"
                "</cac:InvoiceDocumentReference></cac:BillingReference>") if s.corrects else ""
    prepaid = f'<cbc:PrepaidAmount currencyID="{s.currency}">{s.prepaid}</cbc:PrepaidAmount>' if s.prepaid else ""
    lines = "".join(f"""
  <cac:{line}><cbc:ID>{n}</cbc:ID><cbc:{quantity} unitCode="C62">1</cbc:{quantity}>
    <cbc:LineExtensionAmount currencyID="{s.currency}">{b}</cbc:LineExtensionAmount>
    <cac:Item><cbc:Name>Prestation au taux {r} %</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="{s.currency}">{b}</cbc:PriceAmount></cac:Price></cac:{line}>"""
                    for n, (r, b, _) in enumerate(s.vat, start=1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017</cbc:CustomizationID>
  <cbc:ID>{s.number}</cbc:ID><cbc:IssueDate>{s.issued_on}</cbc:IssueDate>{due}
  <cbc:{root}TypeCode>{s.type_code}</cbc:{root}TypeCode>
  <cbc:DocumentCurrencyCode>{s.currency}</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>{s.buyer_reference}</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>{s.purchase_order}</cbc:ID></cac:OrderReference>{corrects}
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>FR</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>FR40{SELLER_SIREN}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
    </cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>Atelier Dupont SAS</cbc:RegistrationName>
      <cbc:CompanyID schemeID="0002">{SELLER_SIREN}</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PostalAddress><cac:Country><cbc:IdentificationCode>{s.buyer_country}</cbc:IdentificationCode></cac:Country>
    </cac:PostalAddress>
    <cac:PartyTaxScheme><cbc:CompanyID>FR44{s.buyer_siren}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
    </cac:PartyTaxScheme>
    <cac:PartyLegalEntity><cbc:RegistrationName>{s.buyer_name}</cbc:RegistrationName>
      <cbc:CompanyID schemeID="0002">{s.buyer_siren}</cbc:CompanyID></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PaymentTerms><cbc:Note>{s.terms}</cbc:Note></cac:PaymentTerms>
  <cac:TaxTotal><cbc:TaxAmount currencyID="{s.currency}">{s.tax}</cbc:TaxAmount>{subtotals}
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="{s.currency}">{s.basis}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="{s.currency}">{s.basis}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="{s.currency}">{s.total}</cbc:TaxInclusiveAmount>{prepaid}
    <cbc:PayableAmount currencyID="{s.currency}">{s.due}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>{lines}
</{root}>
""".encode()


def factur_x(s: Sample = Sample()) -> bytes:
    """A one-page PDF stating the invoice, with its CII attached as factur-x.xml (PDF/A-3 by `factur-x`)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, f"Facture {s.number} du {s.issued_on} - total {s.total} {s.currency}")
    page = bytes(pdf.output())
    out: bytes = facturx.generate_from_binary(page, cii(s), flavor="factur-x", level="basicwl", check_xsd=True)
    return out
