"""UN/CEFACT Cross Industry Invoice (D16B), as Factur-X carries it: checked against its XSD, then read."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import facturx

from ar.adapters.einvoices.xml import Element, Reader, compact_date
from ar.domain.einvoice import EInvoice, EInvoiceUnreadable, Party, VatBreakdown, money, siren_of

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
EXPECTED = re.compile(r"Expected is(?: one of)? \( ?(?:\{[^}]*\})?([A-Za-z]+)")
AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
TOTALS = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def check_xsd(root: Element) -> None:
    """Factur-X's XSD for the level the document declares; a failure names the element at fault."""
    try:
        facturx.xml_check_xsd(root, flavor="factur-x")
    except Exception as e:  # facturx raises bare Exceptions carrying lxml's message
        message = str(e)
        found, expected = ELEMENT.search(message), EXPECTED.search(message)
        raise EInvoiceUnreadable(f"the CII document is not valid against its XSD: {message[:400]}",
                                 field=found.group(1) if found else "CrossIndustryInvoice",
                                 figures={"expected": expected.group(1)} if expected else None) from None


def _party(r: Reader, path: str) -> Party:
    party = r.first(path)
    name = path.split(":")[-1]
    if party is None:
        raise EInvoiceUnreadable(f"{name} is missing", field=name)
    legal = r.text("ram:SpecifiedLegalOrganization/ram:ID", party)
    siret = legal if legal and len(legal.replace(" ", "")) == 14 else None
    return Party(name=r.required("ram:Name", party), siren=siren_of(legal), siret=siret,
                 vat_id=r.text("ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']", party),
                 country=r.text("ram:PostalTradeAddress/ram:CountryID", party))


def _rate(text: str | None, element: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        raise EInvoiceUnreadable(f"{element} is not a percentage: {text!r}", field=element) from None


def read_cii(root: Element) -> EInvoice:
    r = Reader(root, NS)
    currency = r.required(f"{SETTLEMENT}/ram:InvoiceCurrencyCode")
    vat = [VatBreakdown(rate=_rate(r.text("ram:RateApplicablePercent", tax), "RateApplicablePercent"),
                        basis=money(r.text("ram:BasisAmount", tax), currency, "BasisAmount"),
                        amount=money(r.text("ram:CalculatedAmount", tax), currency, "CalculatedAmount"))
           for tax in r.all(f"{SETTLEMENT}/ram:ApplicableTradeTax")]
    due = r.text(f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")
    prepaid, rounding = r.text(f"{TOTALS}/ram:TotalPrepaidAmount"), r.text(f"{TOTALS}/ram:RoundingAmount")
    return EInvoice(
        syntax="CII", number=r.required("rsm:ExchangedDocument/ram:ID"),
        type_code=r.required("rsm:ExchangedDocument/ram:TypeCode"),
        issued_on=compact_date(r.required("rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
                               "IssueDateTime"),
        due_on=compact_date(due, "DueDateDateTime") if due else None,
        payment_terms=r.text(f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:Description"),
        currency=currency, seller=_party(r, f"{AGREEMENT}/ram:SellerTradeParty"),
        buyer=_party(r, f"{AGREEMENT}/ram:BuyerTradeParty"),
        grand_total=money(r.text(f"{TOTALS}/ram:GrandTotalAmount"), currency, "GrandTotalAmount"),
        tax_basis=money(r.text(f"{TOTALS}/ram:TaxBasisTotalAmount"), currency, "TaxBasisTotalAmount"),
        vat_total=money(r.text(f"{TOTALS}/ram:TaxTotalAmount[@currencyID='{currency}']")
                        or r.text(f"{TOTALS}/ram:TaxTotalAmount"), currency, "TaxTotalAmount"),
        amount_due=money(r.text(f"{TOTALS}/ram:DuePayableAmount"), currency, "DuePayableAmount"),
        vat=vat, buyer_reference=r.text(f"{AGREEMENT}/ram:BuyerReference"),
        purchase_order=r.text(f"{AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
        prepaid=money(prepaid, currency, "TotalPrepaidAmount") if prepaid else None,
        rounding=money(rounding, currency, "RoundingAmount") if rounding else None,
        corrects=r.text(f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID"))
