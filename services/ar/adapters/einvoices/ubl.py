"""OASIS UBL 2.1 `Invoice`, as EN 16931 (and the French CIUS) uses it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ar.adapters.einvoices.xml import Element, Reader, iso_date
from ar.domain.einvoice import EInvoice, EInvoiceUnreadable, Party, VatBreakdown, money, siren_of

NS = {"inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}


def _party(r: Reader, path: str) -> Party:
    party = r.first(path)
    name = path.split(":")[-1]
    if party is None:
        raise EInvoiceUnreadable(f"{name} is missing", field=name)
    legal = r.text("cac:PartyLegalEntity/cbc:CompanyID", party)
    siret = legal if legal and len(legal.replace(" ", "")) == 14 else None
    party_name = r.text("cac:PartyLegalEntity/cbc:RegistrationName", party) or r.text("cac:PartyName/cbc:Name",
                                                                                        party)
    if party_name is None:
        raise EInvoiceUnreadable(f"{name} has no name (PartyLegalEntity/RegistrationName)",
                                 field="RegistrationName")
    return Party(name=party_name, siren=siren_of(legal), siret=siret,
                 vat_id=r.text("cac:PartyTaxScheme/cbc:CompanyID", party),
                 country=r.text("cac:PostalAddress/cac:Country/cbc:IdentificationCode", party))


def _rate(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        raise EInvoiceUnreadable(f"Percent is not a percentage: {text!r}", field="Percent") from None


def read_ubl(root: Element) -> EInvoice:
    r = Reader(root, NS)
    currency = r.required("cbc:DocumentCurrencyCode")
    totals = "cac:LegalMonetaryTotal"
    vat = [VatBreakdown(rate=_rate(r.text("cac:TaxCategory/cbc:Percent", sub)),
                        basis=money(r.text("cbc:TaxableAmount", sub), currency, "TaxableAmount"),
                        amount=money(r.text("cbc:TaxAmount", sub), currency, "TaxSubtotal/TaxAmount"))
           for sub in r.all("cac:TaxTotal/cac:TaxSubtotal")]
    due = r.text("cbc:DueDate")
    return EInvoice(
        syntax="UBL", number=r.required("cbc:ID"), type_code=r.required("cbc:InvoiceTypeCode"),
        issued_on=iso_date(r.required("cbc:IssueDate"), "IssueDate"),
        due_on=iso_date(due, "DueDate") if due else None,
        payment_terms=r.text("cac:PaymentTerms/cbc:Note"), currency=currency,
        seller=_party(r, "cac:AccountingSupplierParty/cac:Party"),
        buyer=_party(r, "cac:AccountingCustomerParty/cac:Party"),
        grand_total=money(r.text(f"{totals}/cbc:TaxInclusiveAmount"), currency, "TaxInclusiveAmount"),
        tax_basis=money(r.text(f"{totals}/cbc:TaxExclusiveAmount"), currency, "TaxExclusiveAmount"),
        vat_total=money(r.text(f"cac:TaxTotal/cbc:TaxAmount[@currencyID='{currency}']")
                        or r.text("cac:TaxTotal/cbc:TaxAmount"), currency, "TaxTotal/TaxAmount"),
        amount_due=money(r.text(f"{totals}/cbc:PayableAmount"), currency, "PayableAmount"),
        vat=vat, buyer_reference=r.text("cbc:BuyerReference"),
        purchase_order=r.text("cac:OrderReference/cbc:ID"))
